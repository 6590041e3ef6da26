"""Incidents: what went differently from the plan, found in the session, the journal and the
crash reports beside them.

Each kind of finding is a *source*, registered by name with ``@incident_source("name")``: a
function of the ``ReportInput`` returning ``Incident``s. A feature that can tell something
went wrong adds its own source the same way (for example evidence whose seal does not match:
``@incident_source("edited_evidence")`` in the module that seals it), and the report lists
it with the others. A source that fails is itself reported, never a crash of the report.

Built-in sources: ``crash`` (crash reports written while the session ran), ``unclean_exit``
(a stale lock taken over), ``damaged_journal``, ``interrupted`` (steps that were running when
crvs-migrate stopped), ``failed`` (commands that failed, steps cancelled), ``override`` (the
operator chose against the advice: yarn ignoring node's engines, local verification
skipped, QA's data wiped), ``by_hand`` (steps recorded as done by hand, with the reason),
``unjournalled`` (a confirmation in the session with no journal record behind it),
``approval`` (production deployed before every sign-off, a window moved after one),
``window`` (production outside the planned window), ``versions`` (a server runs another
tag than was deployed) and ``phases_not_done`` (production deployed before a phase the
plan applies was done).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tasks.lean import dataclass
from tasks.local.steps import INTERRUPTED_EVENT
from tasks.release.deploy import DeployRecord
from tasks.release.gate import HOW_APP, BackupRecord
from tasks.release.publish import ReleaseRecord
from tasks.report.change import ChangeRecord, parse_aware, signed_after
from tasks.report.facts import ENVIRONMENT_TITLES, production_downtime, running_versions
from tasks.report.inputs import ReportInput
from tasks.report.places import STEP_ALIASES, step_record, step_title, where
from tasks.report.words import duration, parse_time, seconds_between, when
from tasks.session.phases import PHASES, PhaseStatus, StepStatus
from tasks.upgrade.plan import current_plan


@dataclass(frozen=True)
class Incident:
    source: str  # the source's name
    kind: str  # in words: "Crash", "Interrupted step", ...
    at: str  # ISO time, "" when not known
    where: str  # the phase (and step) it concerns, in words
    what: str
    evidence: str = ""


IncidentSource = Callable[[ReportInput], Iterable[Incident]]
INCIDENT_SOURCES: dict[str, IncidentSource] = {}


def incident_source(name: str) -> Callable[[IncidentSource], IncidentSource]:
    """Register ``fn`` as the incident source ``name`` (a later one of the same name replaces it)."""

    def register(fn: IncidentSource) -> IncidentSource:
        INCIDENT_SOURCES[name] = fn
        return fn

    return register


def collect_incidents(inp: ReportInput) -> list[Incident]:
    """Every source's incidents, in time order (undated ones last)."""
    found: list[Incident] = []
    for name, source in INCIDENT_SOURCES.items():
        try:
            found.extend(source(inp))
        except Exception as exc:  # noqa: BLE001 - one broken source must not hide the others
            found.append(
                Incident(
                    name,
                    "Not checked",
                    "",
                    "",
                    f"the report could not check for {name.replace('_', ' ')} "
                    f"({type(exc).__name__})",
                )
            )
    # Stable: findings of the same second keep the sources' order.
    return sorted(found, key=lambda i: (parse_time(i.at) is None, when(i.at)))


# -- built-in sources -------------------------------------------------------------------------


@incident_source("crash")
def _crashes(inp: ReportInput) -> Iterable[Incident]:
    start = parse_time(inp.session.created_at)
    end = parse_time(inp.exported_at)
    for crash in inp.crashes:
        at = parse_time(crash.at)
        if at is None or start is None or end is None or not start <= at <= end:
            continue
        yield Incident(
            "crash",
            "Crash",
            crash.at,
            "crvs-migrate",
            "crvs-migrate stopped unexpectedly"
            + (f": {crash.error}" if crash.error else "")
            + " (the session was kept as last saved)",
            f"crash report {crash.path.name} beside the session",
        )


@incident_source("unclean_exit")
def _stale_locks(inp: ReportInput) -> Iterable[Incident]:
    for e in inp.events:
        if e.what.startswith("took over a stale lock"):
            yield Incident(
                "unclean_exit",
                "Unclean exit",
                e.at,
                "crvs-migrate",
                "The previous crvs-migrate on this session did not exit cleanly (killed, "
                "crashed or its connection dropped): its lock was taken over",
                f"journal record {e.n}: {e.what}",
            )


@incident_source("damaged_journal")
def _damaged(inp: ReportInput) -> Iterable[Incident]:
    for e in inp.of_kind("damaged"):
        line = e.line if e.line is not None else e.n
        noticed = next(
            (x for x in inp.events if x.what.startswith(f"journal record at line {line} ")), None
        )
        yield Incident(
            "damaged_journal",
            "Damaged journal record",
            noticed.at if noticed else "",
            "Journal",
            f"Journal line {line} is not a whole record (cut short by a full disk or a "
            "kill): what it recorded is lost",
            f"noticed {when(noticed.at)} (journal record {noticed.n})"
            if noticed
            else "found while writing this report",
        )


@incident_source("interrupted")
def _interrupted(inp: ReportInput) -> Iterable[Incident]:
    seen: set[tuple[str, str]] = set()
    for e in inp.events:
        if e.what.startswith(INTERRUPTED_EVENT) and e.phase:
            step = e.what.removeprefix(INTERRUPTED_EVENT).strip()
            seen.add((e.phase, step))
            yield Incident(
                "interrupted",
                "Interrupted step",
                e.at,
                where(inp.session, e.phase, step),
                "It was running when crvs-migrate stopped: its end is not known",
                f"journal record {e.n}",
            )
    for p in PHASES:
        for step_id, rec in inp.session.phase(p.id).steps.items():
            if rec.status is StepStatus.INTERRUPTED and (p.id, step_id) not in seen:
                yield Incident(
                    "interrupted",
                    "Interrupted step",
                    rec.finished_at or rec.started_at or "",
                    where(inp.session, p.id, step_id),
                    rec.note or "It was running when crvs-migrate stopped",
                    f"log {rec.log_file}" if rec.log_file else "",
                )


@incident_source("failed")
def _failed(inp: ReportInput) -> Iterable[Incident]:
    for e in inp.commands:
        if e.exit_code not in (None, 0):
            took = f" after {duration(e.duration_s)}" if e.duration_s is not None else ""
            later = ""
            rec = step_record(inp.session, e.phase, _plan_id(e.phase, e.step)) if e.phase else None
            if (
                rec is not None
                and rec.status is StepStatus.SUCCEEDED
                and _not_before(rec.finished_at, e.finished_at or e.at)
            ):
                later = "; the step succeeded afterwards" + (f" ({rec.note})" if rec.note else "")
            yield Incident(
                "failed",
                "Command failed",
                e.started_at or e.at,
                where(inp.session, e.phase, e.step) if e.phase else (e.host or e.cwd),
                f"`{' '.join(e.argv)}` exited with code {e.exit_code}{took}{later}",
                f"journal record {e.n}",
            )
    for p in PHASES:
        for step_id, rec in inp.session.phase(p.id).steps.items():
            if rec.status is StepStatus.CANCELLED:
                yield Incident(
                    "failed",
                    "Step cancelled",
                    rec.finished_at or "",
                    where(inp.session, p.id, step_id),
                    rec.note or "cancelled by the operator",
                    f"log {rec.log_file}" if rec.log_file else "",
                )
            elif rec.status is StepStatus.FAILED and rec.exit_code is None:
                # A failure with an exit code is the failed command above.
                yield Incident(
                    "failed",
                    "Step failed",
                    rec.finished_at or "",
                    where(inp.session, p.id, step_id),
                    rec.note or "failed",
                    f"log {rec.log_file}" if rec.log_file else "",
                )


def _not_before(later: str | None, earlier: str) -> bool:
    a, b = parse_time(later), parse_time(earlier)
    return a is not None and b is not None and a >= b


def _plan_id(phase: str, step: str) -> str:
    return STEP_ALIASES.get((phase, step), step)


@incident_source("override")
def _overrides(inp: ReportInput) -> Iterable[Incident]:
    for e in inp.confirmations:
        if "--ignore-engines" in e.what:
            what = "yarn was run ignoring the node version the packages ask for"
        elif e.what.startswith("Verify locally skipped"):
            what = "Verifying the upgrade locally was skipped: " + e.what.split(":", 1)[-1].strip()
        else:
            continue
        yield Incident(
            "override",
            "Override",
            e.at,
            where(inp.session, e.phase, e.step),
            what,
            f"journal record {e.n}",
        )
    for e in inp.commands:
        if "--clear_data=yes" in e.argv:
            yield Incident(
                "override",
                "Data wiped",
                e.started_at or e.at,
                where(inp.session, e.phase, e.step),
                "Deployed with --clear_data=yes: every record on that environment was deleted "
                "(allowed on QA only, after typing its host name)",
                f"journal record {e.n}",
            )


@incident_source("by_hand")
def _by_hand(inp: ReportInput) -> Iterable[Incident]:
    for p in PHASES:
        for step_id, rec in inp.session.phase(p.id).steps.items():
            if rec.by:
                yield Incident(
                    "by_hand",
                    "Done by hand",
                    rec.finished_at or "",
                    where(inp.session, p.id, step_id),
                    f"Recorded as done by {rec.by}, not run by crvs-migrate"
                    + (f": {rec.note}" if rec.note else ""),
                    "see the evidence of by-hand steps",
                )
    for env in ("qa", "production"):
        deployed = DeployRecord.of(inp.session).get(env)
        if deployed is not None and deployed.how != "run in crvs-migrate":
            yield Incident(
                "by_hand",
                "Done outside crvs-migrate",
                deployed.at,
                where(inp.session, "deploy_qa" if env == "qa" else "deploy_production", "deploy"),
                f"Deployed to {ENVIRONMENT_TITLES[env]} by {deployed.how}",
                "see the evidence of by-hand steps",
            )


def confirmations_in_session(inp: ReportInput) -> list[tuple[str, str, str, str, str]]:
    """Every confirmation the session holds: (what, phase, step or "", at, by)."""
    s = inp.session
    b = BackupRecord.of(s)
    out: list[tuple[str, str, str, str, str]] = []
    phase = "backup_production"
    # A backup or restore run by crvs-migrate is evidenced by its journalled command (see
    # runs_in_session), not by a confirmation: only the operator's word is one.
    if b.taken is not None and b.taken.how != HOW_APP:
        out.append(("The emergency backup ran", phase, "backup", b.taken.at, b.taken.by))
    if b.restore is not None and b.restore.how != HOW_APP:
        out.append(("The backup was restored on QA", phase, "restore", b.restore.at, b.restore.by))
    if b.records_ok is not None:
        out.append(
            ("The restored records look right", phase, "restore_records", b.records_ok.at,
             b.records_ok.by)
        )  # fmt: skip
    if b.drafts is not None:
        out.append(("Staff were told about drafts", phase, "drafts", b.drafts.at, b.drafts.by))
    if b.risk is not None:
        out.append(("Migration-duration risk acknowledged", phase, "risk", b.risk.at, b.risk.by))
    merge = ReleaseRecord.of(s).merge
    if merge is not None and merge.how == "operator confirmation":
        out.append(("The upgrade branch is merged", "release", "merge", merge.at, merge.by))
    for p in PHASES:
        for step_id, rec in s.phase(p.id).steps.items():
            if rec.by:
                out.append((f"{step_title(s, p.id, step_id)} done", p.id, "", rec.finished_at or "",
                            rec.by))  # fmt: skip
    for a in ChangeRecord.of(s).approvers:
        if a.signed:
            out.append((f"Sign-off of {a.title}", "report", "sign_off", a.signed_at, a.signed_by))
    return out


def runs_in_session(inp: ReportInput) -> list[tuple[str, str, str]]:
    """The gate's evidence made by runs in crvs-migrate: (what, at, journal id of the run)."""
    b = BackupRecord.of(inp.session)
    out = []
    if b.taken is not None and b.taken.how == HOW_APP:
        out.append(("The emergency backup ran", b.taken.at, b.taken.journal_id))
    if b.restore is not None and b.restore.how == HOW_APP:
        out.append(("The backup was restored on QA", b.restore.at, b.restore.journal_id))
    return out


@incident_source("unjournalled")
def _unjournalled(inp: ReportInput) -> Iterable[Incident]:
    for what, at, journal_id in runs_in_session(inp):
        entry = inp.find(journal_id)
        if entry is None or entry.get("kind") != "command":
            yield Incident(
                "unjournalled",
                "Evidence without its journal record",
                at,
                where(inp.session, "backup_production"),
                f"{what} in crvs-migrate: the session says so, but the journal holds no record "
                f"of its command: edited outside crvs-migrate, or the journal lost it",
                "the session file only",
            )
    for what, phase, step, at, _by in confirmations_in_session(inp):
        if inp.confirmation(phase, at, step or None) is None:
            yield Incident(
                "unjournalled",
                "Evidence without its journal record",
                at,
                where(inp.session, phase),
                f"{what}: the session says so, but the journal holds no confirmation at "
                f"{when(at) or 'that time'}: edited outside crvs-migrate, or the journal lost it",
                "the session file only",
            )


@incident_source("approval")
def _approvals(inp: ReportInput) -> Iterable[Incident]:
    change = ChangeRecord.of(inp.session)
    prod = DeployRecord.of(inp.session).production
    downtime = production_downtime(inp)
    started = downtime.started_at or (prod.at if prod is not None else "")
    if prod is not None:
        pending = [a.title for a in change.approvers if not a.signed]
        if not change.approvers:
            yield Incident(
                "approval",
                "No sign-off",
                started,
                where(inp.session, "deploy_production"),
                "Production was deployed with no approver recorded in the change record",
            )
        elif pending:
            yield Incident(
                "approval",
                "Sign-off missing",
                started,
                where(inp.session, "deploy_production"),
                "Production was deployed before these approvers signed off: " + ", ".join(pending),
            )
        for a in change.approvers:
            if a.signed and started and signed_after(a, started):
                yield Incident(
                    "approval",
                    "Late sign-off",
                    a.signed_at,
                    where(inp.session, "deploy_production"),
                    f"{a.title} signed off after the production deploy had started "
                    f"({when(started)})",
                )
    for a in change.approvers:
        if a.signed and change.details_at and signed_after_details(a.signed_at, change.details_at):
            yield Incident(
                "approval",
                "Changed after sign-off",
                change.details_at,
                "Change record",
                f"The change number or window changed after {a.title} signed off "
                f"({when(a.signed_at)}, for {a.signed_for})",
            )


def signed_after_details(signed_at: str, details_at: str) -> bool:
    signed, changed = parse_aware(signed_at), parse_aware(details_at)
    return signed is not None and changed is not None and changed > signed


@incident_source("window")
def _window(inp: ReportInput) -> Iterable[Incident]:
    window = ChangeRecord.of(inp.session).window
    downtime = production_downtime(inp)
    if window is None or not downtime.started_at:
        return
    start, end = window
    began = parse_time(downtime.started_at)
    if began is not None and began < start:
        yield Incident(
            "window",
            "Outside the window",
            downtime.started_at,
            where(inp.session, "deploy_production", "deploy"),
            f"The production deploy started {duration((start - began).total_seconds())} "
            "before the planned maintenance window",
        )
    finished = parse_time(downtime.ended_at)
    if finished is not None and finished > end:
        yield Incident(
            "window",
            "Outside the window",
            downtime.ended_at,
            where(inp.session, "deploy_production", "check_services"),
            f"Production's checks passed {duration((finished - end).total_seconds())} after "
            "the planned maintenance window ended",
        )
    elif finished is None and parse_time(inp.exported_at) is not None:
        over = seconds_between(end.isoformat(), inp.exported_at)
        if over is not None and over > 0:
            yield Incident(
                "window",
                "Outside the window",
                end.isoformat(),
                where(inp.session, "deploy_production"),
                "The planned maintenance window ended before production's checks passed",
            )


@incident_source("versions")
def _versions(inp: ReportInput) -> Iterable[Incident]:
    for rv in running_versions(inp.session):
        for text in rv.mismatches:
            yield Incident(
                "versions",
                "Version differs",
                rv.images_read_at,
                rv.title,
                f"On {rv.title}, {text}",
                f"read from the manager at {when(rv.images_read_at)}",
            )
        if rv.stray:
            yield Incident(
                "versions",
                "Version differs",
                rv.images_read_at,
                rv.title,
                f"On {rv.title}, core services on another tag than {rv.deploy.version}: "
                + ", ".join(rv.stray),
                f"read from the manager at {when(rv.images_read_at)}",
            )


@incident_source("phases_not_done")
def _phases_not_done(inp: ReportInput) -> Iterable[Incident]:
    """Phases the plan applies that were not done when production was deployed."""
    prod = DeployRecord.of(inp.session).production
    if prod is None:
        return
    plan = current_plan(inp.session)
    for phase in plan.phases:
        if phase.id == "deploy_production" or phase.status.value != "applies" or phase.optional:
            continue
        rec = inp.session.phase(phase.id)
        done_at = parse_time(rec.finished_at)
        deployed = parse_time(prod.at)
        if rec.status is PhaseStatus.DONE and (
            done_at is None or deployed is None or done_at <= deployed
        ):
            continue
        yield Incident(
            "phases_not_done",
            "Phase not done",
            prod.at,
            where(inp.session, phase.id),
            f"{phase.title} was not recorded as done when production was deployed "
            f"(it is {rec.status.label} now)",
        )
