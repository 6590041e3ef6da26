"""The production gate: computed from evidence in the backup section, never from a flag.

Five conditions, each with the evidence that makes it hold:
  1. backup taken      emergency-backup-metadata.sh run by crvs-migrate on the production
                       manager (exit 0, its log), or the operator's journalled word that
                       it ran outside the app; after the gate was opened, lowercase label
  2. stored off-server a verification over SSH on the backup server: every expected
                       part present, non-empty, newer than the gate
  3. restored on QA    the restore run by crvs-migrate on QA (copied there, exit 0, no
                       failure in its log) or the journalled word that it ran outside the
                       app; then a passing QA health check made after it (from any route:
                       Deploy to QA, Cluster health on QA, or this phase); then the
                       operator's word that the restored records look right
  4. drafts            staff told to submit drafts: acknowledged
  5. duration risk     acknowledged, with a strategy chosen

Evidence is believed only when it holds up: every record carries a seal
(``tasks.session.seal``: an HMAC with a key outside the session file) and a record that
fails it shows "edited outside crvs-migrate" and counts for nothing; a confirmation
counts only with its journal entry (same id, step, time and operator); timestamps must
be timezone-aware, not in the future, not before the session was created.

``compute_gate`` is the only way to know whether the gate is open; the production deploy
re-verifies it live (``tasks.release.live_gate``). ``gate_contradictions`` (run by the
loader, see ``tasks.sections``) refuses a file that records a production deploy
crvs-migrate did not write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import Any, ClassVar, Protocol

from tasks.errors import CrvsError, InvalidName
from tasks.lean import dataclass
from tasks.names import validate_label
from tasks.release.backup import BackupTarget, Verification, expected_parts
from tasks.servers.detached import RemoteRunRecord
from tasks.servers.health import Health, load_snapshot, snapshot_sealed
from tasks.session import records
from tasks.session.journal import Journal, operator_identity
from tasks.session.seal import TAMPERED, check_time, is_sealed, parse_aware, seal
from tasks.session.state import Session, now_iso

PHASE = "backup_production"
STRATEGIES = {
    "in_place": "Upgrade production in place (reduced performance while migrations run)",
    "new_servers": "Restore the backup onto new servers, upgrade there, then switch DNS",
}
HOW_APP = "run in crvs-migrate"
HOW_OUTSIDE = "run outside the app"


@dataclass
class Confirmation:
    """The operator's journalled word: when, who (user@host), and its journal entry."""

    at: str
    by: str
    journal_id: str = ""
    seal: str = ""


@dataclass
class BackupTaken:
    label: str
    argv: list[str]
    at: str
    by: str
    how: str = HOW_APP
    # The run on the production manager (run in crvs-migrate).
    run: RemoteRunRecord | None = None
    notes: list[str] = field(default_factory=list)
    journal_id: str = ""
    seal: str = ""


@dataclass
class CopyRecord:
    """The backup copied from the backup server onto the server it is restored on."""

    host: str
    dest: str
    at: str
    bytes: int = 0
    duration_s: float = 0.0
    # The parts as found there after the copy.
    verification: Verification | None = None
    error: str = ""
    seal: str = ""


@dataclass
class RestoreRecord:
    label: str
    at: str
    by: str
    how: str = HOW_APP
    host: str = ""
    replicas: int = 0
    run: RemoteRunRecord | None = None
    # Lines of the restore's output that say a part failed (the script goes on regardless).
    problems: list[str] = field(default_factory=list)
    journal_id: str = ""
    seal: str = ""


@dataclass
class RiskRecord:
    strategy: str
    at: str
    by: str
    journal_id: str = ""
    seal: str = ""


@dataclass
class BackupRecord:
    """``session.backup``: the gate's evidence, one record per condition."""

    KEY: ClassVar[str] = "backup"

    # When the operator opened the gate: evidence must be newer than this.
    opened: Confirmation | None = None
    label: str = ""
    target: BackupTarget | None = None
    # Where emergency-*-metadata.sh are on the managers ("" = /opt/opencrvs/infrastructure).
    scripts_dir: str = ""
    qa_scripts_dir: str = ""
    # The latest run of each script by crvs-migrate (running ones are reattached).
    backup_run: RemoteRunRecord | None = None
    taken: BackupTaken | None = None
    verification: Verification | None = None
    copy: CopyRecord | None = None
    restore_run: RemoteRunRecord | None = None
    restore: RestoreRecord | None = None
    records_ok: Confirmation | None = None
    drafts: Confirmation | None = None
    risk: RiskRecord | None = None

    @property
    def gate_opened_at(self) -> str:
        return self.opened.at if self.opened is not None else ""

    @classmethod
    def of(cls, session: Session) -> BackupRecord:
        return session.section(cls)

    def to_state(self) -> dict[str, Any]:
        return records.to_state(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> BackupRecord:
        return records.from_state(cls, data)


# The seal kinds of the records above (a record moved to another slot fails its seal).
KIND = {
    "opened": "backup.opened",
    "backup_run": "backup.backup_run",
    "taken": "backup.taken",
    "verification": "backup.verification",
    "copy": "backup.copy",
    "restore_run": "backup.restore_run",
    "restore": "backup.restore",
    "records_ok": "backup.records_ok",
    "drafts": "backup.drafts",
    "risk": "backup.risk",
}
# The journal step of each confirmation.
STEP = {
    "opened": "gate",
    "taken": "backup",
    "restore": "restore",
    "records_ok": "restore_records",
    "drafts": "drafts",
    "risk": "risk",
}


def seal_slot(session: Session, slot: str) -> None:
    """Seal the record in ``slot`` as it is now (only functions that made it call this)."""
    record = getattr(BackupRecord.of(session), slot)
    if record is not None:
        seal(session.session_id, KIND[slot], record)


def slot_sealed(session: Session, slot: str) -> bool:
    return is_sealed(session.session_id, KIND[slot], getattr(BackupRecord.of(session), slot))


@dataclass(frozen=True)
class Condition:
    id: str
    title: str
    met: bool
    # What is missing, in the operator's words (empty when met).
    missing: str = ""
    # How the evidence was made ("run in crvs-migrate", "run outside the app"), when met.
    how: str = ""


@dataclass(frozen=True)
class Gate:
    conditions: tuple[Condition, ...]

    @property
    def open(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def missing(self) -> list[str]:
        return [f"{c.title}: {c.missing}" for c in self.conditions if not c.met]


class JournalLookup(Protocol):
    """The journal as the gate reads it: an entry by its id (``Journal``, the report's input)."""

    def find(self, entry_id: str) -> dict[str, Any] | None: ...


class _Evidence:
    """What compute_gate checks every record against: seals, journal, clock."""

    def __init__(self, session: Session, journal: JournalLookup | None) -> None:
        self.session = session
        self.journal = journal
        self.backup = BackupRecord.of(session)

    def sealed(self, slot: str) -> bool:
        return slot_sealed(self.session, slot)

    def time_problem(self, value: str | None, what: str) -> str:
        check = check_time(value, not_before=self.session.created_at, what=what)
        return "" if check.ok else check.problem

    def journalled(self, slot: str, record: Any) -> str:
        """Empty when the journal has this confirmation (same id, step, time, operator)."""
        if self.journal is None:
            return "no journal to check the confirmation against"
        entry = self.journal.find(getattr(record, "journal_id", ""))
        if (
            entry is None
            or entry.get("kind") != "confirmation"
            or entry.get("phase") != PHASE
            or entry.get("step") != STEP[slot]
            or entry.get("at") != record.at
            or entry.get("by") != record.by
        ):
            return "the journal has no record of this confirmation"
        return ""

    def run_journalled(self, run: RemoteRunRecord) -> str:
        if self.journal is None:
            return "no journal to check the run against"
        entry = self.journal.find(run.journal_id)
        if (
            entry is None
            or entry.get("kind") != "command"
            or entry.get("host") != run.host
            or entry.get("exit_code") != run.exit_code
        ):
            return "the journal has no record of this run"
        return ""


def _ts(value: str | None) -> float | None:
    when = parse_aware(value)
    return when.timestamp() if when is not None else None


def _after(value: str | None, reference: float | None) -> bool:
    ts = _ts(value)
    return ts is not None and reference is not None and ts >= reference


def _opened(ev: _Evidence) -> tuple[float | None, str]:
    """When the gate opened (if that record holds up), or why it does not."""
    opened = ev.backup.opened
    if opened is None:
        return None, "open the gate first (it records the start time)"
    if not ev.sealed("opened"):
        return None, f"the gate's opening was {TAMPERED}"
    problem = ev.time_problem(opened.at, "the gate's opening") or ev.journalled("opened", opened)
    if problem:
        return None, problem
    return _ts(opened.at), ""


def _cond_taken(ev: _Evidence, opened: float | None, why_not: str) -> Condition:
    title = "1. Emergency backup taken"
    b = ev.backup
    taken = b.taken
    if opened is None:
        return Condition("taken", title, False, why_not)
    if taken is None:
        run = b.backup_run
        if run is not None and run.running:
            return Condition("taken", title, False, f"the backup is running on {run.node}")
        if run is not None and not run.ok:
            return Condition("taken", title, False, _run_outcome("the backup", run))
        return Condition("taken", title, False, "run the backup on the production manager")
    if not ev.sealed("taken"):
        return Condition("taken", title, False, f"the backup's record was {TAMPERED}")
    try:
        validate_label(taken.label)
    except InvalidName:
        return Condition("taken", title, False, "the recorded label is not a valid lowercase label")
    if taken.label != b.label:
        return Condition("taken", title, False, "taken with a different label than the gate's")
    problem = ev.time_problem(taken.at, "the backup's time")
    if problem:
        return Condition("taken", title, False, problem)
    if not _after(taken.at, opened):
        return Condition("taken", title, False, "taken before the gate was opened")
    if taken.how == HOW_APP:
        run = taken.run
        if run is None or not run.ok:
            return Condition("taken", title, False, "the backup run did not finish with exit 0")
        if not _after(run.started_at, opened):
            return Condition("taken", title, False, "the backup run started before the gate")
        problem = ev.run_journalled(run)
    elif taken.how == HOW_OUTSIDE:
        problem = ev.journalled("taken", taken)
    else:
        problem = "the backup's record says neither how nor where it ran"
    if problem:
        return Condition("taken", title, False, problem)
    return Condition("taken", title, True, how=taken.how)


def _run_outcome(what: str, run: RemoteRunRecord) -> str:
    if run.state == "interrupted":
        return (
            f"{what} on {run.node} was interrupted ({run.note or 'no exit status'}): run it again"
        )
    return (
        f"{what} on {run.node} ended with exit code {run.exit_code}: see its log, then run it again"
    )


def _cond_stored(ev: _Evidence, opened: float | None, why_not: str) -> Condition:
    title = "2. Stored off the production server"
    b = ev.backup
    v = b.verification
    if v is None:
        return Condition("stored", title, False, "not verified on the backup server yet")
    if not ev.sealed("verification"):
        return Condition("stored", title, False, f"the verification's record was {TAMPERED}")
    if not b.label or v.label != b.label:
        return Condition("stored", title, False, "verified a different label than the gate's")
    problem = ev.time_problem(v.verified_at, "the verification's time")
    if problem:
        return Condition("stored", title, False, problem)
    if opened is None or not _after(v.verified_at, opened) or _ts(v.since) != opened:
        return Condition("stored", title, False, "verification is older than the gate")
    if v.error:
        return Condition("stored", title, False, v.error)
    parts = {p.path: p for p in v.parts}
    bad = []
    for part in expected_parts(b.label):
        found = parts.get(part.path)
        if found is None:
            bad.append(f"{part.name} missing")
        elif not found.ok:
            bad.append(f"{part.name} {found.problem or 'not ok'}")
        elif found.size <= 0:
            bad.append(f"{part.name} empty")
        elif (_ts(found.mtime) or 0) < opened:
            bad.append(f"{part.name} older than the gate")
    if bad:
        return Condition("stored", title, False, "; ".join(bad))
    return Condition("stored", title, True)


def qa_health_after_restore(session: Session) -> tuple[bool, str]:
    """Whether a QA health check after the restore passed (from any route), and what it said."""
    b = BackupRecord.of(session)
    restored_at = _ts(b.restore.at) if b.restore else None
    snapshot = load_snapshot(session, "qa")
    if snapshot is None or not _after(snapshot.checked_at, restored_at):
        return False, "run a health check on QA after the restore"
    if not snapshot_sealed(session, snapshot):
        return False, f"the QA health check's record was {TAMPERED}"
    check = check_time(snapshot.checked_at, not_before=session.created_at, what="QA's check")
    if not check.ok:
        return False, check.problem
    if not snapshot.results or snapshot.status not in (Health.PASS, Health.WARN):
        bad = [r.node.name for r in snapshot.results if r.status not in (Health.PASS, Health.WARN)]
        return False, (
            f"the QA health check at {snapshot.checked_at} did not pass"
            + (f" ({', '.join(bad)})" if bad else "")
        )
    return True, (
        f"QA healthy at {snapshot.checked_at}: {len(snapshot.results)} node(s), "
        f"{snapshot.status.label}"
    )


def _cond_restored(ev: _Evidence, opened: float | None, why_not: str) -> Condition:
    title = "3. Restored on QA and QA healthy"
    b = ev.backup
    restore = b.restore
    if restore is None:
        run = b.restore_run
        if run is not None and run.running:
            return Condition("restored", title, False, f"the restore is running on {run.node}")
        if run is not None and not run.ok:
            return Condition("restored", title, False, _run_outcome("the restore", run))
        return Condition("restored", title, False, "restore the backup on QA")
    if not ev.sealed("restore"):
        return Condition("restored", title, False, f"the restore's record was {TAMPERED}")
    if restore.label != b.label:
        return Condition("restored", title, False, "restored a different label than the gate's")
    problem = ev.time_problem(restore.at, "the restore's time")
    if problem:
        return Condition("restored", title, False, problem)
    if not _after(restore.at, opened):
        return Condition("restored", title, False, "restored before the gate was opened")
    if restore.how == HOW_APP:
        run = restore.run
        if run is None or not run.ok:
            return Condition("restored", title, False, "the restore did not finish with exit 0")
        if restore.problems:
            return Condition(
                "restored", title, False, "the restore's log reports: " + restore.problems[0]
            )
        problem = ev.run_journalled(run)
    elif restore.how == HOW_OUTSIDE:
        problem = ev.journalled("restore", restore)
    else:
        problem = "the restore's record says neither how nor where it ran"
    if problem:
        return Condition("restored", title, False, problem)
    healthy, why = qa_health_after_restore(ev.session)
    if not healthy:
        return Condition("restored", title, False, why)
    records_ok = b.records_ok
    if records_ok is None:
        return Condition("restored", title, False, "confirm the restored records look right on QA")
    if not ev.sealed("records_ok"):
        return Condition("restored", title, False, f"the records' confirmation was {TAMPERED}")
    problem = ev.time_problem(records_ok.at, "the records' confirmation") or ev.journalled(
        "records_ok", records_ok
    )
    if problem:
        return Condition("restored", title, False, problem)
    if not _after(records_ok.at, _ts(restore.at)):
        return Condition("restored", title, False, "confirm the restored records look right on QA")
    return Condition("restored", title, True, how=restore.how)


def _confirmed(ev: _Evidence, slot: str, what: str) -> str:
    record = getattr(ev.backup, slot)
    if record is None:
        return "not acknowledged"
    if not ev.sealed(slot):
        return f"the {what} was {TAMPERED}"
    return ev.time_problem(record.at, f"the {what}") or ev.journalled(slot, record)


def _cond_drafts(ev: _Evidence, opened: float | None, why_not: str) -> Condition:
    title = "4. Staff told to submit drafts"
    problem = _confirmed(ev, "drafts", "drafts acknowledgement")
    if problem == "not acknowledged":
        problem = "not acknowledged (browser drafts are lost on upgrade)"
    if problem:
        return Condition("drafts", title, False, problem)
    return Condition("drafts", title, True)


def _cond_risk(ev: _Evidence, opened: float | None, why_not: str) -> Condition:
    title = "5. Migration-duration risk"
    problem = _confirmed(ev, "risk", "risk acknowledgement")
    if problem:
        return Condition("risk", title, False, problem)
    risk = ev.backup.risk
    if risk is None or risk.strategy not in STRATEGIES:
        return Condition(
            "risk", title, False, "no strategy chosen (in place, or new servers + DNS)"
        )
    return Condition("risk", title, True)


CONDITIONS: tuple[Callable[[_Evidence, float | None, str], Condition], ...] = (
    _cond_taken,
    _cond_stored,
    _cond_restored,
    _cond_drafts,
    _cond_risk,
)


def opening_problem(session: Session, journal: JournalLookup | None) -> str:
    """Empty when the gate's opening holds up (sealed, journalled, in time), else why not."""
    return _opened(_Evidence(session, journal))[1]


def compute_gate(session: Session, journal: JournalLookup | None) -> Gate:
    ev = _Evidence(session, journal)
    opened, why_not = _opened(ev)
    return Gate(tuple(check(ev, opened, why_not) for check in CONDITIONS))


# -- recording evidence (each confirmation journalled with who and when) -----


def _confirm(journal: Journal, what: str, step: str) -> Confirmation:
    entry = journal.confirmation(what, phase=PHASE, step=step)
    return Confirmation(entry.at, entry.by or "", entry.id)


def open_gate(session: Session, journal: Journal) -> str:
    """Start the gate: files on the backup server must be newer than this moment."""
    b = BackupRecord.of(session)
    if b.opened is None or not slot_sealed(session, "opened"):
        b.opened = _confirm(journal, "Production gate opened: evidence from now on counts", "gate")
        seal_slot(session, "opened")
        session.phase(PHASE).start(b.opened.at)
    return b.opened.at


def plan_backup(
    session: Session, target: BackupTarget, label: str, scripts_dir: str = ""
) -> BackupTarget:
    """Choose the label, the backup server and where the scripts are (validated)."""
    target = target.validated()
    label = validate_label(label)
    b = BackupRecord.of(session)
    if b.taken is not None and b.label != label:
        # A new label starts the evidence of conditions 1-3 again.
        b.taken = b.verification = b.copy = b.restore = b.records_ok = None
    b.label = label
    b.target = target
    b.scripts_dir = scripts_dir
    return target


def planned_target(session: Session) -> BackupTarget | None:
    return BackupRecord.of(session).target


def _require_open(session: Session, journal: Journal) -> float:
    opened, why = _opened(_Evidence(session, journal))
    if opened is None:
        raise CrvsError(f"Open the gate first ({why}).", "Gate not opened")
    return opened


def start_backup_run(session: Session, journal: Journal, run: RemoteRunRecord) -> None:
    """The backup is starting on the production manager (kept so it can be reattached)."""
    _require_open(session, journal)
    BackupRecord.of(session).backup_run = run
    seal_slot(session, "backup_run")


def update_run(session: Session, slot: str, run: RemoteRunRecord) -> None:
    """The run in ``slot`` changed (finished, interrupted): keep it sealed."""
    if slot not in ("backup_run", "restore_run"):
        raise ValueError(slot)
    setattr(BackupRecord.of(session), slot, run)
    seal_slot(session, slot)


def run_in_slot(session: Session, slot: str) -> RemoteRunRecord | None:
    """The run in ``slot`` if its record holds up (only those are reattached)."""
    run = getattr(BackupRecord.of(session), slot)
    return run if run is not None and slot_sealed(session, slot) else None


def backup_finished(
    session: Session, journal: Journal, run: RemoteRunRecord, notes: list[str] | None = None
) -> None:
    """The backup run ended: the evidence of condition 1 when it ended with exit 0."""
    update_run(session, "backup_run", run)
    if not run.ok:
        return
    b = BackupRecord.of(session)
    b.taken = BackupTaken(
        b.label,
        list(run.argv),
        run.finished_at or now_iso(),
        operator_identity(),
        HOW_APP,
        run=run,
        notes=list(notes or []),
        journal_id=run.journal_id,
    )
    seal_slot(session, "taken")


def confirm_backup_outside(
    session: Session, journal: Journal, target: BackupTarget, label: str, argv: list[str]
) -> None:
    """The operator ran the backup by hand, outside crvs-migrate, and says it finished."""
    _require_open(session, journal)
    plan_backup(session, target, label, BackupRecord.of(session).scripts_dir)
    record = _confirm(
        journal,
        f"Emergency backup {HOW_OUTSIDE} on production and finished: {' '.join(argv)}",
        "backup",
    )
    BackupRecord.of(session).taken = BackupTaken(
        label, list(argv), record.at, record.by, HOW_OUTSIDE, journal_id=record.journal_id
    )
    seal_slot(session, "taken")


def record_verification(session: Session, verification: Verification) -> None:
    BackupRecord.of(session).verification = verification
    seal_slot(session, "verification")


def record_copy(session: Session, copy: CopyRecord) -> None:
    BackupRecord.of(session).copy = copy
    seal_slot(session, "copy")


def start_restore_run(session: Session, journal: Journal, run: RemoteRunRecord) -> None:
    _require_open(session, journal)
    b = BackupRecord.of(session)
    b.restore = b.records_ok = None
    b.restore_run = run
    seal_slot(session, "restore_run")


def restore_finished(
    session: Session, run: RemoteRunRecord, replicas: int, problems: list[str]
) -> None:
    update_run(session, "restore_run", run)
    if run.state != "finished":
        return
    b = BackupRecord.of(session)
    b.restore = RestoreRecord(
        b.label,
        run.finished_at or now_iso(),
        operator_identity(),
        HOW_APP,
        host=run.host,
        replicas=replicas,
        run=run,
        problems=list(problems),
        journal_id=run.journal_id,
    )
    seal_slot(session, "restore")


def confirm_restored_outside(
    session: Session, journal: Journal, label: str, host: str = "", replicas: int = 0
) -> None:
    """The operator restored the backup on QA by hand, outside crvs-migrate."""
    _require_open(session, journal)
    label = validate_label(label)
    record = _confirm(journal, f"Backup {label} restored on QA, {HOW_OUTSIDE}", "restore")
    b = BackupRecord.of(session)
    b.records_ok = None
    b.restore = RestoreRecord(
        label,
        record.at,
        record.by,
        HOW_OUTSIDE,
        host=host,
        replicas=replicas,
        journal_id=record.journal_id,
    )
    seal_slot(session, "restore")


def confirm_records_ok(session: Session, journal: Journal) -> None:
    BackupRecord.of(session).records_ok = _confirm(
        journal, "The restored records on QA look right", "restore_records"
    )
    seal_slot(session, "records_ok")


def acknowledge_drafts(session: Session, journal: Journal) -> None:
    BackupRecord.of(session).drafts = _confirm(
        journal, "Staff were told to submit their drafts before the upgrade", "drafts"
    )
    seal_slot(session, "drafts")


def acknowledge_risk(session: Session, journal: Journal, strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise CrvsError(f"Unknown strategy {strategy!r}.", "Choose a strategy")
    record = _confirm(
        journal,
        f"Migrations may take hours; strategy chosen: {STRATEGIES[strategy]}",
        "risk",
    )
    BackupRecord.of(session).risk = RiskRecord(strategy, record.at, record.by, record.journal_id)
    seal_slot(session, "risk")


def refresh_gate(
    session: Session, journal: JournalLookup | None, *, deployed_through_gate: bool = False
) -> Gate:
    """Recompute the gate and set the backup phase's status from it (never the other way).

    ``deployed_through_gate`` (``tasks.release.deploy.settle_backup_phase`` works it out
    from the sealed production deploy): the backup did its job, so the phase stays done
    when evidence moves on after production (QA redeployed, a later QA check failing).
    """
    gate = compute_gate(session, journal)
    record = session.phase(PHASE)
    if gate.open or deployed_through_gate:
        record.finish()
    else:
        record.reopen()
    return gate


def tampered_records(session: Session) -> list[str]:
    """The backup section's records that fail their seal (for the screen and the report)."""
    b = BackupRecord.of(session)
    return [
        slot for slot in KIND if getattr(b, slot) is not None and not slot_sealed(session, slot)
    ]
