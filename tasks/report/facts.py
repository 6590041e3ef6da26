"""What the change board asks, worked out from the session's evidence: the downtime, the
versions running at the end, planned against actual, the way back, and the outcome.

Every figure says where it comes from; where the session holds no evidence for a figure it
says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import field

from tasks.lean import dataclass
from tasks.release.backup import restore_argv
from tasks.release.deploy import (
    CORE_SERVICE,
    COUNTRY_CONFIG_SERVICE,
    DeployRecord,
    EnvironmentDeploy,
    image_tag,
)
from tasks.release.gate import (
    STRATEGIES,
    BackupRecord,
    JournalLookup,
    compute_gate,
    qa_health_after_restore,
)
from tasks.release.publish import ReleaseRecord
from tasks.report.change import ChangeRecord
from tasks.report.inputs import ReportInput
from tasks.report.words import duration, parse_time, seconds_between, size, when
from tasks.session.phases import PHASES, PhaseStatus
from tasks.session.state import Session
from tasks.upgrade.answers import Answers
from tasks.upgrade.catalogue import bundled_catalogue
from tasks.upgrade.plan import Plan, current_plan, migrations_of

ENVIRONMENT_TITLES = {"qa": "QA", "production": "Production"}


# -- downtime ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Downtime:
    """Production's downtime: from its deploy's start to its checks passing."""

    started_at: str = ""
    ended_at: str = ""
    start_how: str = ""
    end_how: str = ""
    why_not: str = ""

    @property
    def seconds(self) -> float | None:
        return seconds_between(self.started_at, self.ended_at) if not self.why_not else None

    def text(self) -> str:
        if self.why_not:
            return f"Not measured: {self.why_not}"
        return (
            f"{duration(self.seconds)}, from {when(self.started_at)} ({self.start_how}) "
            f"to {when(self.ended_at)} ({self.end_how})"
        )


def production_downtime(inp: ReportInput) -> Downtime:
    session = inp.session
    prod = DeployRecord.of(session).production
    if prod is None:
        return Downtime(why_not="production was not deployed in this session")
    start, start_how = _deploy_start(inp, "production", prod)
    if not start:
        return Downtime(why_not=start_how)
    end, end_how = checks_passed(session, "production", prod)
    if not end:
        return Downtime(started_at=start, start_how=start_how, why_not=end_how)
    return Downtime(start, end, start_how, end_how)


def _deploy_start(inp: ReportInput, env: str, rec: EnvironmentDeploy) -> tuple[str, str]:
    phase = "deploy_qa" if env == "qa" else "deploy_production"
    step = inp.session.phase(phase).steps.get("deploy")
    if rec.how == "run in crvs-migrate":
        if step is not None and step.started_at:
            return step.started_at, "the deploy command started in crvs-migrate"
        command = inp.last_command(phase, "deploy")
        if command is not None and command.started_at:
            return command.started_at, "the deploy command started (journal)"
        if rec.duration_s is not None and (at := parse_time(rec.at)) is not None:
            from datetime import timedelta

            begun = (at - timedelta(seconds=rec.duration_s)).isoformat()
            return begun, "the deploy's end less its duration"
    return "", (
        f"the deploy ran outside crvs-migrate ({rec.how}): only when it was recorded "
        f"({when(rec.at)}) is known, not when it started"
    )


def checks_passed(session: Session, env: str, rec: EnvironmentDeploy) -> tuple[str, str]:
    """When the deploy's checks passed (services up, health after the deploy), and how known."""
    phase = session.phase("deploy_qa" if env == "qa" else "deploy_production")
    stack, health = rec.stack, rec.health
    if phase.status is PhaseStatus.DONE and phase.finished_at:
        return phase.finished_at, "every service up and health passed after the deploy"
    if (
        stack is not None
        and stack.up
        and health is not None
        and health.status in ("pass", "warn")
        and health.checked_at >= rec.at
    ):
        end = max(stack.checked_at, health.checked_at)
        return end, "every service up and health passed after the deploy"
    if stack is None:
        return "", "no look at the stack was recorded after the deploy"
    if not stack.up:
        return (
            "",
            f"the stack was not up at the last look ({when(stack.checked_at)}: {stack.summary})",
        )
    return "", "no passing health check was recorded after the deploy"


# -- the versions running at the end --------------------------------------------------------


@dataclass(frozen=True)
class RunningVersions:
    environment: str
    deploy: EnvironmentDeploy
    core_image: str = ""
    config_image: str = ""
    images_read_at: str = ""
    # Services whose image tag is neither the core's nor the country config's deployed tag.
    stray: tuple[str, ...] = ()
    core_services: int = 0

    @property
    def title(self) -> str:
        return ENVIRONMENT_TITLES.get(self.environment, self.environment)

    @property
    def core_running(self) -> str:
        return image_tag(self.core_image)

    @property
    def config_running(self) -> str:
        return image_tag(self.config_image)

    @property
    def mismatches(self) -> list[str]:
        out = []
        if self.core_running and self.core_running != self.deploy.version:
            out.append(f"core runs {self.core_running}, deployed {self.deploy.version}")
        if self.config_running and self.config_running != self.deploy.country_config_version:
            out.append(
                f"the country config runs {self.config_running}, deployed "
                f"{self.deploy.country_config_version}"
            )
        return out


def running_versions(session: Session) -> list[RunningVersions]:
    deploys = DeployRecord.of(session)
    out = []
    for env in ("qa", "production"):
        rec = deploys.get(env)
        if rec is None:
            continue
        images = rec.stack.images if rec.stack is not None else {}
        core = images.get(CORE_SERVICE, "")
        config = images.get(COUNTRY_CONFIG_SERVICE, "")
        core_repo = core.rsplit(":", 1)[0].rsplit("/", 1)[0] if core else ""
        on_core = [
            name
            for name, image in images.items()
            if core_repo and image.startswith(core_repo + "/ocrvs-")
        ]
        stray = tuple(
            f"{name} {image_tag(images[name]) or images[name]}"
            for name in on_core
            if image_tag(images[name]) != rec.version and "migration" not in name
        )
        out.append(
            RunningVersions(
                env,
                rec,
                core,
                config,
                rec.stack.checked_at if images and rec.stack is not None else "",
                stray,
                len(on_core),
            )
        )
    return out


# -- planned against actual ------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedActual:
    what: str
    planned: str
    actual: str

    @property
    def differs(self) -> bool:
        return bool(self.planned and self.actual and self.planned != self.actual)


def planned_actual(session: Session) -> list[PlannedActual]:
    plan = current_plan(session)
    target = plan.target
    release = ReleaseRecord.of(session)
    rows = [
        PlannedActual(
            "Country config release tag",
            f"v{target}" if target else "",
            release.tag.name if release.tag else "not tagged",
        ),
        PlannedActual(
            "Country config image tag",
            release.tag.name if release.tag else (f"v{target}" if target else ""),
            release.image.tag if release.image else "not recorded",
        ),
    ]
    for env in ("qa", "production"):
        rec = DeployRecord.of(session).get(env)
        title = ENVIRONMENT_TITLES[env]
        if rec is None:
            continue
        rows.append(PlannedActual(f"Core deployed to {title}", f"v{target}", rec.version))
        rows.append(
            PlannedActual(
                f"Country config deployed to {title}",
                release.image.tag if release.image else (release.tag.name if release.tag else ""),
                rec.country_config_version,
            )
        )
    return rows


# -- the way back ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackPlan:
    rows: list[tuple[str, str]] = field(default_factory=list)
    ready: bool = False
    summary: str = ""


def rollback_plan(session: Session, journal: JournalLookup | None = None) -> RollbackPlan:
    """From the plan (what the upgrade changes) and the verified backup (what it can restore)."""
    plan = current_plan(session)
    answers = Answers.of(session)
    backup = BackupRecord.of(session)
    gate = compute_gate(session, journal)
    previous = plan.current or answers.current_version
    rows: list[tuple[str, str]] = []
    crossed = [r for r in bundled_catalogue().releases if r.version in plan.crossed]
    migrations = migrations_of(crossed)
    prod = DeployRecord.of(session).production
    replicas = prod.replicas if prod is not None else _cluster_size(answers)
    rows.append(
        (
            "Previous release",
            f"{previous}: core v{previous}; the country config image production ran before "
            "the upgrade (crvs-migrate did not read it before the deploy: take it from "
            "your deploy history)"
            if previous
            else "not known (answer the current version in Prepare)",
        )
    )
    rows.append(
        (
            "1. Redeploy the previous release",
            f"the deploy with --version=v{previous} and the previous country config tag, "
            "always --clear_data=no"
            if previous
            else "the deploy with the previous version tags, --clear_data=no",
        )
    )
    verification = backup.verification
    label = backup.label
    if migrations:
        names = ", ".join(m.label for m in migrations)
        data = (
            f"The upgrade runs automatic data migrations ({names}): the old release cannot "
            "read migrated data, so going back restores the backup"
        )
    else:
        data = "The upgrade crosses no release with a data migration: the data needs no restore"
    rows.append(("Data", data))
    if verification is not None and verification.ok:
        total = sum(p.size for p in verification.parts)
        rows.append(
            (
                "Verified backup",
                f"{label}: {len(verification.parts)} parts, {size(total)}, on "
                f"{verification.host} in {verification.remote_dir}/{label}, verified "
                f"{when(verification.verified_at)}",
            )
        )
    elif verification is not None:
        rows.append(
            ("Verified backup", f"{label}: NOT verified ({'; '.join(verification.problems[:3])})")
        )
    else:
        rows.append(("Verified backup", "none: the backup was not verified on the backup server"))
    if backup.restore is not None:
        healthy, why = qa_health_after_restore(session)
        rows.append(
            (
                "Restore rehearsed on QA",
                f"{backup.restore.label} restored {when(backup.restore.at)} by "
                f"{backup.restore.by}; {why if healthy else 'QA health after it: ' + why}",
            )
        )
    if migrations and label:
        argv = " ".join(restore_argv(label, replicas or 1))
        rows.append(
            (
                "2. Restore the backup on production",
                f"copy {label} back onto production's /data/backups, then `{argv}` on the "
                "manager. It DROPS every database first: registrations made after the backup "
                f"({when(backup.taken.at) if backup.taken else 'its time'}) are lost",
            )
        )
        rows.append(
            (
                "3. Redeploy after the restore",
                "search refuses connections after a restore until the stack is redeployed",
            )
        )
    if backup.risk is not None:
        rows.append(("Strategy chosen", STRATEGIES.get(backup.risk.strategy, backup.risk.strategy)))
    ready = bool(previous) and (not migrations or (verification is not None and verification.ok))
    if not plan.backup_gate_mandatory and verification is None:
        summary = "No verified backup (the plan made it recommended, not mandatory)."
    elif ready and gate.open:
        summary = "Ready: the previous release can be redeployed and the verified backup restored."
    elif ready:
        summary = "The previous release can be redeployed; the production gate is not open."
    else:
        summary = "NOT ready: there is no verified backup to restore the data from."
    return RollbackPlan(rows, ready, summary)


def _cluster_size(answers: Answers) -> int | None:
    from tasks.upgrade.answers import EnvironmentId

    env = answers.environments.get(EnvironmentId.PRODUCTION)
    return env.cluster_size if env is not None else None


# -- outcome ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    verdict: str  # Completed, Completed with incidents, Failed, In progress, Not started, ...
    statement: str


def outcome(inp: ReportInput, incidents: int, downtime: Downtime) -> Outcome:
    session = inp.session
    plan: Plan = current_plan(session)
    answers = Answers.of(session)
    change = ChangeRecord.of(session)
    frm, to = plan.current or answers.current_version, plan.target or answers.target_version
    upgrade = f"OpenCRVS {frm} to {to}" if frm and to else "the OpenCRVS upgrade"
    statuses = {p.id: session.phase(p.id).status for p in PHASES}
    last = _last_needed_phase(plan)
    prod = DeployRecord.of(session).production
    qa = DeployRecord.of(session).get("qa")
    pending = [a.title for a in change.approvers if not a.signed]
    sign = (
        f" {len(change.approvers) - len(pending)} of {len(change.approvers)} approvers signed off."
        if change.approvers
        else " No approver is recorded."
    )
    tail = f" {incidents} incident(s) recorded (listed below)." if incidents else ""
    if plan.kind == "same":
        return Outcome("Nothing to do", f"The installation already runs {to}.{sign}{tail}")
    if plan.blockers and not any(
        s is PhaseStatus.DONE for k, s in statuses.items() if k != "prepare"
    ):
        return Outcome(
            "Blocked",
            f"{upgrade} cannot go ahead: {plan.blockers[0].message}.{sign}{tail}",
        )
    if prod is not None and not prod.succeeded:
        return Outcome(
            "Failed",
            f"The production deploy of {upgrade} exited with code {prod.exit_code} "
            f"({when(prod.at)}).{sign}{tail}",
        )
    if last is not None and statuses[last] is PhaseStatus.DONE:
        where = (
            "QA and production"
            if prod is not None and qa is not None
            else ("production" if prod is not None else "this installation's local checkouts")
        )
        down = (
            f" Production was down {duration(downtime.seconds)}{_in_window(change, downtime)}."
            if downtime.seconds is not None
            else ""
        )
        verdict = "Completed with incidents" if incidents else "Completed"
        return Outcome(verdict, f"{upgrade} was completed on {where}.{down}{sign}{tail}")
    if prod is not None and prod.stack is not None and not prod.stack.up:
        return Outcome(
            "Failed",
            f"Production was deployed but did not come up at the last look "
            f"({when(prod.stack.checked_at)}: {prod.stack.summary}).{sign}{tail}",
        )
    done = [p.title for p in PHASES if statuses[p.id] is PhaseStatus.DONE]
    current = next(
        (
            p.title
            for p in PHASES
            if statuses[p.id] in (PhaseStatus.IN_PROGRESS, PhaseStatus.NOT_STARTED)
        ),
        "",
    )
    if not done:
        return Outcome("Not started", f"{upgrade} has not started yet.{sign}{tail}")
    return Outcome(
        "In progress",
        f"{upgrade} is not finished: {len(done)} of {len(PHASES)} phases done; next: "
        f"{current or 'see the steps'}. Production "
        + ("was deployed" if prod is not None else "has not been deployed")
        + f".{sign}{tail}",
    )


def _in_window(change: ChangeRecord, downtime: Downtime) -> str:
    window = change.window
    start, end = parse_time(downtime.started_at), parse_time(downtime.ended_at)
    if window is None or start is None or end is None:
        return ""
    if window[0] <= start and end <= window[1]:
        return ", inside the planned maintenance window"
    return ", NOT inside the planned maintenance window"


def _last_needed_phase(plan: Plan) -> str | None:
    """The last phase the plan applies (production, or Verify locally when not deployed)."""
    applying = [p.id for p in plan.phases if p.status.value == "applies" and not p.optional]
    return applying[-1] if applying else None
