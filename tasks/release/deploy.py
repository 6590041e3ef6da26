"""Deploy to QA and production: the exact command, and whether the stack came up.

The command is an argv list built from checked parts. ``--clear_data=yes``
(which wipes every record on the target) is possible only for QA and only when
the operator typed the host name exactly; production is always
``--clear_data=no`` and is refused while the production gate is not open.

A production deploy needs a live re-verification of the gate (``LiveGateCheck``,
``tasks.release.live_gate``) made just before it, and it records what production ran
before (``PreviousVersions``: the way back). After a deploy, ``wait_for_stack`` polls the
manager (bounded) until every service runs n/n and the migration service finished, the
checks of ``tasks.release.checks`` run, and the deploy settles only on a passing manager.
Every deploy record is sealed (``tasks.session.seal``); the loader refuses a production
deploy crvs-migrate did not write (``production_contradictions``).
Its last look also reads the image each service runs (the versions running at
the end).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any, ClassVar

from tasks.errors import CrvsError, InvalidName
from tasks.lean import dataclass, regex
from tasks.names import validate_host, validate_image_tag, validate_replicas
from tasks.release.backup import Verification
from tasks.release.checks import MigrationProgress, PostDeployChecks, migration_state
from tasks.release.gate import Gate, JournalLookup, compute_gate, refresh_gate
from tasks.servers.detached import RemoteRunRecord
from tasks.servers.health import (
    DOCKER_SERVICE_FORMAT,
    Health,
    HealthSnapshot,
    Service,
    Unparseable,
    is_one_shot,
    parse_docker_services,
)
from tasks.servers.runner import RemoteRun
from tasks.session import records
from tasks.session.journal import Journal, operator_identity
from tasks.session.phases import PhaseStatus
from tasks.session.seal import TAMPERED, is_sealed, parse_aware, seal
from tasks.session.state import Session, now_iso

ENVIRONMENTS = ("qa", "production")
MIGRATION_SERVICE = "opencrvs_migration"
# A live gate check counts for a production deploy made within this time.
LIVE_CHECK_MAX_AGE_S = 15 * 60
__all__ = ["migration_state"]
# The services whose image tags are the core and the country config versions.
CORE_SERVICE = "opencrvs_gateway"
COUNTRY_CONFIG_SERVICE = "opencrvs_countryconfig"
SERVICE_IMAGES_ARGV = ["docker", "service", "ls", "--format", "{{.Name}}\t{{.Image}}"]
# The stack takes about 10 minutes to come up; migrations at scale much longer.
DEFAULT_WAIT_S = 20 * 60
DEFAULT_INTERVAL_S = 10.0


class ClearDataRefused(CrvsError):
    title = "--clear_data=yes refused"


class GateLocked(CrvsError):
    title = "Production is locked"


@dataclass(frozen=True)
class DeployRequest:
    environment: str
    host: str
    version: str
    country_config_version: str
    replicas: int
    clear_data: bool = False
    # `yarn deploy` (the country config's script) or `bash infrastructure/deploy.sh`.
    use_yarn: bool = True


CLEAR_DATA_WARNING = (
    "--clear_data=yes DELETES EVERY RECORD on {host}: all registrations, users, "
    "documents and analytics. Use it only on a QA server you are going to restore a backup "
    "onto. It is never allowed on production. Type the host name exactly to allow it."
)


def build_deploy_argv(req: DeployRequest, typed_confirmation: str | None = None) -> list[str]:
    """The exact deploy command. ``typed_confirmation`` is what the operator typed for clear_data."""
    if req.environment not in ENVIRONMENTS:
        raise InvalidName(f"Environment must be one of {', '.join(ENVIRONMENTS)}.")
    host = validate_host(req.host)
    version = validate_image_tag(req.version, "Core version")
    config_version = validate_image_tag(req.country_config_version, "Country config version")
    validate_replicas(req.replicas)
    if req.clear_data:
        if req.environment == "production":
            raise ClearDataRefused("Production is always deployed with --clear_data=no.")
        if typed_confirmation is None or typed_confirmation != host:
            raise ClearDataRefused(
                f"To wipe all data on {host} type its name exactly; nothing was run."
            )
    head = ["yarn", "deploy"] if req.use_yarn else ["bash", "infrastructure/deploy.sh"]
    return [
        *head,
        f"--clear_data={'yes' if req.clear_data else 'no'}",
        f"--environment={req.environment}",
        f"--host={host}",
        f"--version={version}",
        f"--country_config_version={config_version}",
        f"--replicas={req.replicas}",
    ]


def ensure_may_deploy(session: Session, journal: Journal | None, environment: str) -> None:
    """Not into a phase the plan blocks; production only when the gate, computed from its
    evidence, is open."""
    record = session.phase(PHASE_OF[environment])
    if record.status is PhaseStatus.BLOCKED:
        raise GateLocked(f"The plan blocks this deploy: {record.reason or 'see Plan'}")
    if environment != "production":
        return
    gate = compute_gate(session, journal)
    if not gate.open:
        raise GateLocked(
            "The production gate is not open. Still missing:\n- " + "\n- ".join(gate.missing)
        )


def deploy_process_env(
    env_values: Mapping[str, str], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The deploy's process environment: the operator's env file on top of ours. Never stored."""
    import os

    env = dict(os.environ if base is None else base)
    env.update({k: v for k, v in env_values.items() if v is not None})
    return env


@dataclass
class StackRecord:
    """One look at the stack after a deploy, as kept in the session."""

    checked_at: str
    up: bool
    summary: str
    services: int = 0
    services_up: int = 0
    not_up: list[str] = field(default_factory=list)
    migration: str = "unknown"
    # The manager that answered.
    node: str = ""
    migrations_applied: list[str] = field(default_factory=list)
    # service -> image, as `docker service ls` showed them at the last look.
    images: dict[str, str] = field(default_factory=dict)


@dataclass
class HealthSeen:
    """A Cluster health run on the environment after its deploy."""

    checked_at: str
    status: str
    manager: str = ""
    manager_status: str = ""


@dataclass
class LiveGateCheck:
    """The gate re-verified over SSH just before the production deploy."""

    at: str
    ok: bool
    missing: list[str] = field(default_factory=list)
    # The backup as listed on the backup server at that moment.
    verification: Verification | None = None
    qa_checked_at: str = ""
    qa_status: str = ""


@dataclass
class PreviousVersions:
    """What the environment ran before this deploy (read from its manager): the way back."""

    read_at: str
    core: str = ""
    country_config: str = ""
    # service -> image, as docker service ls showed them
    images: dict[str, str] = field(default_factory=dict)


@dataclass
class EnvironmentDeploy:
    """The deploy of one environment: the exact command, how it ran, what followed."""

    argv: list[str]
    host: str
    version: str
    country_config_version: str
    replicas: int
    clear_data: bool
    # "run in crvs-migrate" or "GitHub deploy workflow (operator)".
    how: str
    at: str
    exit_code: int | None = None
    duration_s: float | None = None
    stack: StackRecord | None = None
    health: HealthSeen | None = None
    checks: PostDeployChecks | None = None
    # Production only: the live gate check this deploy stood on, and what ran before.
    gate_check: LiveGateCheck | None = None
    previous: PreviousVersions | None = None
    # Who ran or recorded it (user@host).
    by: str = ""
    journal_id: str = ""
    seal: str = ""

    @property
    def gate_open_at(self) -> str:
        return self.gate_check.at if self.gate_check is not None and self.gate_check.ok else ""

    @property
    def succeeded(self) -> bool:
        return self.exit_code in (None, 0)


@dataclass
class RollbackStep:
    """One step of the way back, with the same evidence as the way there."""

    id: str  # redeploy, copy, restore, redeploy_after_restore, checks
    title: str
    state: str = "not started"  # not started, running, succeeded, failed, skipped
    at: str = ""
    finished_at: str = ""
    argv: list[str] = field(default_factory=list)
    exit_code: int | None = None
    run: RemoteRunRecord | None = None
    note: str = ""
    journal_id: str = ""


@dataclass
class RollbackRecord:
    """Production checks failed: the previous version tags redeployed, the backup restored
    where data was migrated."""

    why: str
    started_at: str
    by: str
    core: str
    country_config: str
    restore_data: bool
    label: str = ""
    steps: list[RollbackStep] = field(default_factory=list)
    finished_at: str = ""
    # "rolled back", "failed", "" while it goes on
    outcome: str = ""
    journal_id: str = ""
    seal: str = ""

    def step(self, step_id: str) -> RollbackStep | None:
        return next((s for s in self.steps if s.id == step_id), None)


@dataclass
class DeployRecord:
    """``session.deploy``: the deploy of each environment, and a rollback of production."""

    KEY: ClassVar[str] = "deploy"

    qa: EnvironmentDeploy | None = None
    production: EnvironmentDeploy | None = None
    rollback: RollbackRecord | None = None

    @classmethod
    def of(cls, session: Session) -> DeployRecord:
        return session.section(cls)

    def get(self, environment: str) -> EnvironmentDeploy | None:
        _check_environment(environment)
        return self.qa if environment == "qa" else self.production

    def put(self, environment: str, record: EnvironmentDeploy) -> None:
        _check_environment(environment)
        if environment == "qa":
            self.qa = record
        else:
            self.production = record

    def to_state(self) -> dict[str, Any]:
        return records.to_state(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> DeployRecord:
        return records.from_state(cls, data)


def _kind(environment: str) -> str:
    return f"deploy.{environment}"


def reseal(session: Session, environment: str) -> None:
    """Seal the environment's deploy record as it is now (only the functions here change it)."""
    entry = DeployRecord.of(session).get(environment)
    if entry is not None:
        seal(session.session_id, _kind(environment), entry)


def deploy_sealed(session: Session, environment: str) -> bool:
    return is_sealed(
        session.session_id, _kind(environment), DeployRecord.of(session).get(environment)
    )


def reseal_rollback(session: Session) -> None:
    rollback = DeployRecord.of(session).rollback
    if rollback is not None:
        seal(session.session_id, "deploy.rollback", rollback)


def rollback_sealed(session: Session) -> bool:
    return is_sealed(session.session_id, "deploy.rollback", DeployRecord.of(session).rollback)


def _check_environment(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise InvalidName(f"Environment must be one of {', '.join(ENVIRONMENTS)}.")


def live_check_usable(check: LiveGateCheck | None) -> str:
    """Empty when ``check`` may stand behind a production deploy now, else why not."""
    if check is None:
        return "the gate was not re-verified over SSH before the deploy"
    if not check.ok:
        return "the gate's live re-verification failed: " + "; ".join(check.missing[:3])
    when = parse_aware(check.at)
    if when is None:
        return "the gate's live re-verification has no valid time"
    import datetime as _dt

    age = (_dt.datetime.now(_dt.UTC) - when).total_seconds()
    if age > LIVE_CHECK_MAX_AGE_S or age < -300:
        return "the gate's live re-verification is too old: verify again"
    return ""


def record_deploy(
    session: Session,
    journal: Journal | None,
    req: DeployRequest,
    argv: list[str],
    *,
    how: str,
    exit_code: int | None = None,
    duration_s: float | None = None,
    gate_check: LiveGateCheck | None = None,
    previous: PreviousVersions | None = None,
    journal_id: str = "",
) -> EnvironmentDeploy:
    """Record that the deploy ran (here, in a pane, or through the GitHub deploy workflow)."""
    ensure_may_deploy(session, journal, req.environment)
    if req.environment == "production":
        why = live_check_usable(gate_check)
        if why:
            raise GateLocked(f"Production is not deployed: {why}.")
    entry = EnvironmentDeploy(
        argv=list(argv),
        host=req.host,
        version=req.version,
        country_config_version=req.country_config_version,
        replicas=req.replicas,
        clear_data=req.clear_data,
        how=how,
        at=now_iso(),
        exit_code=exit_code,
        duration_s=None if duration_s is None else round(duration_s, 1),
        gate_check=gate_check if req.environment == "production" else None,
        previous=previous,
        by=operator_identity(),
        journal_id=journal_id,
    )
    DeployRecord.of(session).put(req.environment, entry)
    reseal(session, req.environment)
    session.phase(PHASE_OF[req.environment]).start()
    if req.environment == "production":
        # The gate held just now (re-verified live): the backup phase did its job.
        settle_backup_phase(session, journal)
    return entry


# -- did it come up? --------------------------------------------------------


def _service_up(service: Service) -> bool:
    return service.desired > 0 and service.running == service.desired


@dataclass
class StackProbe:
    checked_at: str = field(default_factory=now_iso)
    services: list[Service] = field(default_factory=list)
    # "finished", "running", "failed", "not found", "unknown"
    migration: str = "unknown"
    migration_log_tail: list[str] = field(default_factory=list)
    error: str = ""
    images: dict[str, str] = field(default_factory=dict)

    node: str = ""
    progress: MigrationProgress | None = None
    # The connection to the manager dropped (wait_on_manager reconnects).
    lost: bool = False

    @property
    def not_up(self) -> list[str]:
        return [
            f"{s.name} {s.running}/{s.desired}"
            for s in self.services
            if not is_one_shot(s) and not _service_up(s)
        ]

    @property
    def up(self) -> bool:
        return (
            not self.error
            and bool(self.services)
            and not self.not_up
            and self.migration == "finished"
        )

    def summary(self) -> str:
        if self.error:
            return self.error
        others = [s for s in self.services if not is_one_shot(s)]
        ready = sum(1 for s in others if _service_up(s))
        text = f"{ready}/{len(others)} services n/n; migrations {self.migration}"
        if self.progress is not None and self.progress.applied:
            text += f" ({len(self.progress.applied)} applied)"
        if self.not_up:
            text += "; not up: " + ", ".join(self.not_up)
        return text

    def to_record(self) -> StackRecord:
        others = [s for s in self.services if not is_one_shot(s)]
        return StackRecord(
            checked_at=self.checked_at,
            up=self.up,
            summary=self.summary(),
            services=len(others),
            services_up=sum(1 for s in others if _service_up(s)),
            not_up=self.not_up,
            migration=self.migration,
            node=self.node,
            migrations_applied=list(self.progress.applied) if self.progress else [],
            images=dict(self.images),
        )


_JOB_DONE = regex(rf"^{MIGRATION_SERVICE}\t[^\t]*\t.*\((\d+)/(\d+) completed\)", re.M)


async def probe_stack(run: RemoteRun, node: str = "") -> StackProbe:
    """One look at the stack from the manager: services, the migration task and its log."""
    from tasks.release.checks import migration_progress
    from tasks.text import strip_control

    probe = StackProbe(node=node)
    ls = await run(["docker", "service", "ls", "--format", DOCKER_SERVICE_FORMAT])
    if ls.exit_status != 0:
        probe.error = "docker service ls failed: " + strip_control(
            (ls.stderr or ls.stdout).strip()[:200]
        )
        return probe
    try:
        probe.services = parse_docker_services(ls.stdout)
    except Unparseable as exc:
        probe.error = f"docker service ls printed something unexpected ({exc})"
        return probe
    progress = await migration_progress(run)
    probe.progress = progress
    probe.migration = progress.state
    if probe.migration == "not found":
        # A replicated-job lists itself as "0/1 (1/1 completed)" in docker service ls.
        m = _JOB_DONE.search(ls.stdout)
        if m and m.group(1) == m.group(2):
            probe.migration = "finished"
    probe.migration_log_tail = [progress.last_line] if progress.last_line else []
    return probe


async def wait_for_stack(
    run: RemoteRun,
    *,
    timeout_s: float = DEFAULT_WAIT_S,
    interval_s: float = DEFAULT_INTERVAL_S,
    on_progress: Callable[[StackProbe, float], None] | None = None,
    node: str = "",
) -> StackProbe:
    """Poll until the stack is up or ``timeout_s`` passed; the last probe says what is not up."""
    t0 = time.monotonic()
    while True:
        try:
            probe = await asyncio.wait_for(probe_stack(run, node), timeout=max(interval_s, 30))
        except TimeoutError:
            probe = StackProbe(error="the manager did not answer in time")
        except CrvsError as exc:
            probe = StackProbe(error=exc.message, lost=_lost(exc))
        elapsed = time.monotonic() - t0
        if on_progress is not None:
            on_progress(probe, elapsed)
        if probe.up or probe.lost or elapsed + interval_s > timeout_s:
            if not probe.error:
                probe.images = await read_service_images(run)
            return probe
        await asyncio.sleep(interval_s)


def _shifted(
    on_progress: Callable[[StackProbe, float], None] | None, before: float
) -> Callable[[StackProbe, float], None] | None:
    """Progress with the time already waited before a reconnection added."""
    if on_progress is None:
        return None
    report = on_progress
    return lambda probe, elapsed: report(probe, elapsed + before)


def _lost(exc: CrvsError) -> bool:
    from tasks.servers.ssh import FailureKind, SshFailure

    return isinstance(exc, SshFailure) and exc.kind in (
        FailureKind.LOST,
        FailureKind.TIMEOUT,
        FailureKind.REFUSED,
        FailureKind.UNREACHABLE,
    )


async def wait_on_manager(
    connect: Callable[[], contextlib.AbstractAsyncContextManager[RemoteRun]],
    *,
    timeout_s: float = DEFAULT_WAIT_S,
    interval_s: float = DEFAULT_INTERVAL_S,
    on_progress: Callable[[StackProbe, float], None] | None = None,
    node: str = "",
) -> StackProbe:
    """``wait_for_stack`` that reconnects when the link to the manager drops (the stack and
    its migrations go on meanwhile): only the whole wait is bounded."""
    t0 = time.monotonic()
    while True:
        left = timeout_s - (time.monotonic() - t0)
        try:
            async with connect() as run:
                probe = await wait_for_stack(
                    run,
                    timeout_s=max(left, interval_s),
                    interval_s=interval_s,
                    on_progress=_shifted(on_progress, timeout_s - left),
                    node=node,
                )
        except CrvsError as exc:
            if not _lost(exc):
                raise
            probe = StackProbe(error=exc.message, lost=True, node=node)
        elapsed = time.monotonic() - t0
        if not probe.lost or elapsed + interval_s > timeout_s:
            return probe
        if on_progress is not None:
            on_progress(probe, elapsed)
        await asyncio.sleep(interval_s)


def parse_service_images(text: str) -> dict[str, str]:
    """``docker service ls --format '{{.Name}}\\t{{.Image}}'``: service -> image.
    Lines of any other shape are left out (nothing is guessed)."""
    from tasks.text import strip_control

    images: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        name, image = (strip_control(p).strip() for p in parts)
        if name and image and not any(c.isspace() for c in name + image):
            images[name] = image
    return images


def image_tag(image: str) -> str:
    """The tag of ``repo/name:tag`` (a digest after ``@`` dropped); "" when there is none."""
    image = image.split("@", 1)[0]
    _name, sep, tag = image.rpartition(":")
    return tag if sep and "/" not in tag else ""


async def read_service_images(run: RemoteRun) -> dict[str, str]:
    """What each service runs now, read on the manager; empty when it cannot be read."""
    try:
        result = await asyncio.wait_for(run(SERVICE_IMAGES_ARGV), timeout=30)
    except (TimeoutError, CrvsError):
        return {}
    return parse_service_images(result.stdout) if result.exit_status == 0 else {}


def _deployed(session: Session, environment: str) -> EnvironmentDeploy:
    entry = DeployRecord.of(session).get(environment)
    if entry is None:
        raise CrvsError(
            f"Nothing is deployed to {environment} yet: run the deploy first.", "No deploy yet"
        )
    return entry


def record_stack(session: Session, environment: str, probe: StackProbe) -> None:
    _deployed(session, environment).stack = probe.to_record()
    reseal(session, environment)


def record_checks(session: Session, environment: str, checks: PostDeployChecks) -> None:
    _deployed(session, environment).checks = checks
    reseal(session, environment)


def record_health(session: Session, environment: str, snapshot: HealthSnapshot) -> None:
    """A Cluster health run after the deploy, with its manager's own verdict."""
    from tasks.servers.inventory import Role

    manager = next((r for r in snapshot.results if r.node.role is Role.MANAGER), None)
    if manager is None:
        manager = next((r for r in snapshot.results if r.node.in_swarm), None)
    _deployed(session, environment).health = HealthSeen(
        snapshot.checked_at,
        snapshot.status.value,
        manager.node.name if manager else "",
        manager.status.value if manager else "",
    )
    reseal(session, environment)


def _at_or_after(value: str, reference: str) -> bool:
    a, b = parse_aware(value), parse_aware(reference)
    return a is not None and b is not None and a >= b


PASSING = (Health.PASS.value, Health.WARN.value)


def settle_problems(session: Session, environment: str) -> list[str]:
    """What keeps the deploy phase from being done (empty: done)."""
    entry = DeployRecord.of(session).get(environment)
    if entry is None:
        return ["nothing is deployed yet"]
    if not deploy_sealed(session, environment):
        return [f"the deploy's record was {TAMPERED}"]
    problems = []
    if not entry.succeeded:
        problems.append(f"the deploy ended with exit code {entry.exit_code}")
    if entry.stack is None or not entry.stack.up:
        problems.append("the stack is not up yet (wait for services and migrations)")
    elif not entry.stack.node:
        problems.append("the stack was not seen from the manager")
    if entry.checks is None or not _at_or_after(entry.checks.checked_at, entry.at):
        problems.append("the checks after the deploy have not run")
    elif not entry.checks.ok:
        problems.append("checks failed: " + ", ".join(r.title for r in entry.checks.failed))
    health = entry.health
    if health is None or not _at_or_after(health.checked_at, entry.at):
        problems.append("no Cluster health run after the deploy")
    elif not health.manager or health.manager_status not in PASSING:
        problems.append(
            f"the manager {health.manager or '(none)'} did not pass Cluster health "
            f"({health.manager_status or 'no data'})"
        )
    elif health.status not in PASSING:
        problems.append(f"Cluster health after the deploy: {health.status}")
    if environment == "production" and live_check_usable_at_deploy(entry):
        problems.append(live_check_usable_at_deploy(entry))
    from tasks.upgrade.manual import manual_missing

    problems += [
        f"not confirmed yet (by hand): {s.title}"
        for s in manual_missing(session, PHASE_OF[environment])
    ]
    return problems


def live_check_usable_at_deploy(entry: EnvironmentDeploy) -> str:
    check = entry.gate_check
    if check is None or not check.ok:
        return "no live gate check stood behind this production deploy"
    return ""


def settle_phase(session: Session, environment: str) -> bool:
    """Mark the deploy phase done once the deploy ran, the stack came up, the checks passed,
    Cluster health passed on the manager after it and the plan's by-hand steps of the phase
    (Ansible, integrations, informing staff) are confirmed; reopen it when that no longer
    holds."""
    complete = not settle_problems(session, environment)
    record = session.phase(PHASE_OF[environment])
    if environment == "production" and DeployRecord.of(session).rollback is not None:
        complete = False
    if complete:
        record.finish()
    else:
        record.reopen()
    return complete


def deployed_through_gate(session: Session) -> bool:
    """Production was deployed on a live gate check that held, by a sealed record."""
    production = DeployRecord.of(session).production
    return (
        production is not None
        and deploy_sealed(session, "production")
        and production.gate_check is not None
        and production.gate_check.ok
    )


def settle_backup_phase(session: Session, journal: JournalLookup | None) -> Gate:
    """The backup phase (8) from evidence: done while the gate holds, and for good once
    production was deployed through it; otherwise in progress. Returns the gate."""
    return refresh_gate(session, journal, deployed_through_gate=deployed_through_gate(session))


def production_contradictions(session: Session) -> str | None:
    """A production deploy crvs-migrate did not write: only a hand edit makes that.

    Evidence that changes after the deploy (a later QA check failing) must not make the
    session unloadable, so the gate itself is not judged here: the deploy record carries the
    live gate check it stood on, and its seal.
    """
    production = DeployRecord.of(session).production
    done = session.phase("deploy_production").status is PhaseStatus.DONE
    if production is None:
        if done:
            return (
                "Deploy to production is marked done, but no production deploy is recorded: "
                "crvs-migrate will not continue from a state that could have reached "
                "production without a verified backup"
            )
        return None
    if not deploy_sealed(session, "production"):
        return (
            f"The production deploy recorded in it was {TAMPERED} (its record does not match "
            "its seal): crvs-migrate will not continue from a state that could have reached "
            "production without a verified backup. If nobody edited the file, the evidence "
            "key of this user and machine is not the one that sealed it "
            "(tasks.session.seal)"
        )
    if production.gate_check is None or not production.gate_check.ok:
        return (
            "A production deploy is recorded, but no open production gate was re-verified "
            "before it: crvs-migrate will not continue from a state that could have reached "
            "production without a verified backup"
        )
    return None


PHASE_OF = {"qa": "deploy_qa", "production": "deploy_production"}
