"""Deploy to QA and production: the exact command, and whether the stack came up.

The command is an argv list built from checked parts. ``--clear_data=yes``
(which wipes every record on the target) is possible only for QA and only when
the operator typed the host name exactly; production is always
``--clear_data=no`` and is refused while the production gate is not open.

After a deploy, ``wait_for_stack`` polls the swarm manager (bounded) until every
service runs n/n and the migration service finished, or says what is not up.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tasks.errors import CrvsError, InvalidName
from tasks.names import validate_host, validate_image_tag, validate_replicas
from tasks.release.gate import compute_gate
from tasks.servers.health import (
    DOCKER_SERVICE_FORMAT,
    Service,
    Unparseable,
    is_one_shot,
    parse_docker_services,
)
from tasks.servers.runner import RemoteRun
from tasks.session import records
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, now_iso

ENVIRONMENTS = ("qa", "production")
MIGRATION_SERVICE = "opencrvs_migration"
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


def ensure_may_deploy(session: Session, environment: str) -> None:
    """Not into a phase the plan blocks; production only when the gate, computed from its
    evidence, is open."""
    record = session.phase(PHASE_OF[environment])
    if record.status is PhaseStatus.BLOCKED:
        raise GateLocked(f"The plan blocks this deploy: {record.reason or 'see Plan'}")
    if environment != "production":
        return
    gate = compute_gate(session)
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


@dataclass
class HealthSeen:
    """A Cluster health run on the environment after its deploy."""

    checked_at: str
    status: str


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
    # Production only: when this deploy found the production gate open.
    gate_open_at: str = ""

    @property
    def succeeded(self) -> bool:
        return self.exit_code in (None, 0)


@dataclass
class DeployRecord:
    """``session.deploy``: the deploy of each environment."""

    KEY: ClassVar[str] = "deploy"

    qa: EnvironmentDeploy | None = None
    production: EnvironmentDeploy | None = None

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


def _check_environment(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise InvalidName(f"Environment must be one of {', '.join(ENVIRONMENTS)}.")


def record_deploy(
    session: Session,
    req: DeployRequest,
    argv: list[str],
    *,
    how: str,
    exit_code: int | None = None,
    duration_s: float | None = None,
) -> EnvironmentDeploy:
    """Record that the deploy ran (here, in a pane, or through the GitHub deploy workflow)."""
    ensure_may_deploy(session, req.environment)
    gate_open_at = now_iso() if req.environment == "production" else ""
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
        gate_open_at=gate_open_at,
    )
    DeployRecord.of(session).put(req.environment, entry)
    session.phase(PHASE_OF[req.environment]).start()
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
        )


_JOB_DONE = re.compile(rf"^{MIGRATION_SERVICE}\t[^\t]*\t.*\((\d+)/(\d+) completed\)", re.M)


def migration_state(ps_text: str) -> str:
    """From ``docker service ps --format '{{.CurrentState}}'`` (newest task first)."""
    lines = [ln.strip() for ln in ps_text.splitlines() if ln.strip()]
    if not lines:
        return "not found"
    state = lines[0].split()[0].lower()
    if state == "complete":
        return "finished"
    if state in ("failed", "rejected", "shutdown", "orphaned"):
        return "failed"
    if state in ("running", "starting", "preparing", "pending", "assigned", "accepted", "ready"):
        return "running"
    return "unknown"


async def probe_stack(run: RemoteRun) -> StackProbe:
    """One look at the stack from the manager: services, migration task, migration log tail."""
    from tasks.text import strip_control

    probe = StackProbe()
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
    ps = await run(
        [
            "docker",
            "service",
            "ps",
            "--no-trunc",
            "--format",
            "{{.CurrentState}}",
            MIGRATION_SERVICE,
        ]
    )
    probe.migration = migration_state(ps.stdout) if ps.exit_status == 0 else "not found"
    if probe.migration == "not found":
        # A replicated-job lists itself as "0/1 (1/1 completed)" in docker service ls.
        m = _JOB_DONE.search(ls.stdout)
        if m and m.group(1) == m.group(2):
            probe.migration = "finished"
    logs = await run(["docker", "service", "logs", "--raw", "--tail", "20", MIGRATION_SERVICE])
    if logs.exit_status == 0:
        # docker prints the service's stderr on its own stderr.
        lines = (logs.stdout + logs.stderr).splitlines()
        probe.migration_log_tail = [strip_control(x) for x in lines[-20:]]
    return probe


async def wait_for_stack(
    run: RemoteRun,
    *,
    timeout_s: float = DEFAULT_WAIT_S,
    interval_s: float = DEFAULT_INTERVAL_S,
    on_progress: Callable[[StackProbe, float], None] | None = None,
) -> StackProbe:
    """Poll until the stack is up or ``timeout_s`` passed; the last probe says what is not up."""
    t0 = time.monotonic()
    while True:
        try:
            probe = await asyncio.wait_for(probe_stack(run), timeout=max(interval_s, 30))
        except TimeoutError:
            probe = StackProbe(error="the manager did not answer in time")
        except CrvsError as exc:
            probe = StackProbe(error=exc.message)
        elapsed = time.monotonic() - t0
        if on_progress is not None:
            on_progress(probe, elapsed)
        if probe.up or elapsed + interval_s > timeout_s:
            return probe
        await asyncio.sleep(interval_s)


def _deployed(session: Session, environment: str) -> EnvironmentDeploy:
    entry = DeployRecord.of(session).get(environment)
    if entry is None:
        raise CrvsError(
            f"Nothing is deployed to {environment} yet: run the deploy first.", "No deploy yet"
        )
    return entry


def record_stack(session: Session, environment: str, probe: StackProbe) -> None:
    _deployed(session, environment).stack = probe.to_record()


def record_health(session: Session, environment: str, checked_at: str, status: str) -> None:
    _deployed(session, environment).health = HealthSeen(checked_at, status)


def settle_phase(session: Session, environment: str) -> bool:
    """Mark the deploy phase done once the deploy ran, the stack came up and health passed after,
    and the plan's by-hand steps of the phase (Ansible, integrations, informing staff) are
    confirmed."""
    from tasks.upgrade.manual import manual_missing

    entry = DeployRecord.of(session).get(environment)
    complete = bool(
        not manual_missing(session, PHASE_OF[environment])
        and entry is not None
        and entry.succeeded
        and entry.stack is not None
        and entry.stack.up
        and entry.health is not None
        and entry.health.status in ("pass", "warn")
        and entry.health.checked_at >= entry.at
    )
    if complete and session.phase(PHASE_OF[environment]).status is not PhaseStatus.DONE:
        ensure_may_deploy(session, environment)
        session.phase(PHASE_OF[environment]).finish()
    return complete


PHASE_OF = {"qa": "deploy_qa", "production": "deploy_production"}
