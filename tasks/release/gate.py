"""The production gate: computed from evidence in the backup section, never from a flag.

Five conditions, each with the evidence that makes it hold:
  1. backup taken      the backup command (lowercase label) and the operator's
                       journalled word that it ran, after the gate was opened
  2. stored off-server a verification over SSH on the backup server: every
                       expected part present, non-empty, newer than the gate
  3. restored on QA    the operator's journalled restore, then a passing QA
                       health check recorded after it (from any route: Deploy
                       to QA, Cluster health on QA, or this phase), then the
                       operator's word that the restored records look right
  4. drafts            staff told to submit drafts: acknowledged
  5. duration risk     acknowledged, with a strategy chosen

``compute_gate`` is the only way to know whether the gate is open.
``gate_contradictions`` (run by the loader, see ``tasks.sections``) refuses a
file whose backup phase claims more than its evidence shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from tasks.errors import CrvsError, InvalidName
from tasks.names import validate_label
from tasks.release.backup import BackupTarget, Verification, backup_argv, expected_parts, parse_iso
from tasks.servers.health import Health, load_snapshot
from tasks.session import records
from tasks.session.journal import Journal
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, now_iso

PHASE = "backup_production"
STRATEGIES = {
    "in_place": "Upgrade production in place (reduced performance while migrations run)",
    "new_servers": "Restore the backup onto new servers, upgrade there, then switch DNS",
}


@dataclass
class Confirmation:
    """The operator's journalled word: when, and who (user@host)."""

    at: str
    by: str


@dataclass
class BackupTaken:
    label: str
    argv: list[str]
    at: str
    by: str


@dataclass
class RestoreRecord:
    label: str
    at: str
    by: str


@dataclass
class RiskRecord:
    strategy: str
    at: str
    by: str


@dataclass
class BackupRecord:
    """``session.backup``: the gate's evidence, one record per condition."""

    KEY: ClassVar[str] = "backup"

    # When the operator opened the gate: evidence must be newer than this.
    gate_opened_at: str = ""
    label: str = ""
    target: BackupTarget | None = None
    taken: BackupTaken | None = None
    verification: Verification | None = None
    restore: RestoreRecord | None = None
    records_ok: Confirmation | None = None
    drafts: Confirmation | None = None
    risk: RiskRecord | None = None

    @classmethod
    def of(cls, session: Session) -> BackupRecord:
        return session.section(cls)

    def to_state(self) -> dict[str, Any]:
        return records.to_state(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> BackupRecord:
        return records.from_state(cls, data)


@dataclass(frozen=True)
class Condition:
    id: str
    title: str
    met: bool
    # What is missing, in the operator's words (empty when met).
    missing: str = ""


@dataclass(frozen=True)
class Gate:
    conditions: tuple[Condition, ...]

    @property
    def open(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def missing(self) -> list[str]:
        return [f"{c.title}: {c.missing}" for c in self.conditions if not c.met]


def _ts(value: str | None) -> float | None:
    try:
        return parse_iso(str(value)) if value else None
    except (TypeError, ValueError):
        return None


def _after(value: str | None, reference: float | None) -> bool:
    ts = _ts(value)
    return ts is not None and reference is not None and ts >= reference


def _confirmed(by: str, at: str) -> bool:
    return bool(by) and _ts(at) is not None


def _cond_taken(s: Session, b: BackupRecord, opened: float | None) -> Condition:
    title = "1. Emergency backup taken"
    taken = b.taken
    if opened is None:
        return Condition("taken", title, False, "open the gate first (it records the start time)")
    if taken is None:
        return Condition("taken", title, False, "run the backup command and confirm it finished")
    try:
        validate_label(taken.label)
    except InvalidName:
        return Condition("taken", title, False, "the recorded label is not a valid lowercase label")
    if taken.label != b.label:
        return Condition("taken", title, False, "taken with a different label than the gate's")
    if not _confirmed(taken.by, taken.at) or not _after(taken.at, opened):
        return Condition("taken", title, False, "no confirmation after the gate was opened")
    return Condition("taken", title, True)


def _cond_stored(s: Session, b: BackupRecord, opened: float | None) -> Condition:
    title = "2. Stored off the production server"
    v = b.verification
    if v is None:
        return Condition("stored", title, False, "not verified on the backup server yet")
    if not b.label or v.label != b.label:
        return Condition("stored", title, False, "verified a different label than the gate's")
    if not _after(v.verified_at, opened) or _ts(v.since) != opened:
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
        elif opened is None or (_ts(found.mtime) or 0) < opened:
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


def _cond_restored(s: Session, b: BackupRecord, opened: float | None) -> Condition:
    title = "3. Restored on QA and QA healthy"
    restore = b.restore
    if (
        restore is None
        or not _confirmed(restore.by, restore.at)
        or restore.label != b.label
        or not _after(restore.at, opened)
    ):
        return Condition("restored", title, False, "restore the backup on QA and confirm it")
    healthy, why = qa_health_after_restore(s)
    if not healthy:
        return Condition("restored", title, False, why)
    records_ok = b.records_ok
    if records_ok is None or not _confirmed(records_ok.by, records_ok.at):
        return Condition("restored", title, False, "confirm the restored records look right on QA")
    if not _after(records_ok.at, _ts(restore.at)):
        return Condition("restored", title, False, "confirm the restored records look right on QA")
    return Condition("restored", title, True)


def _cond_drafts(s: Session, b: BackupRecord, opened: float | None) -> Condition:
    title = "4. Staff told to submit drafts"
    if b.drafts is None or not _confirmed(b.drafts.by, b.drafts.at):
        return Condition(
            "drafts", title, False, "not acknowledged (browser drafts are lost on upgrade)"
        )
    return Condition("drafts", title, True)


def _cond_risk(s: Session, b: BackupRecord, opened: float | None) -> Condition:
    title = "5. Migration-duration risk"
    risk = b.risk
    if risk is None or not _confirmed(risk.by, risk.at):
        return Condition("risk", title, False, "not acknowledged")
    if risk.strategy not in STRATEGIES:
        return Condition(
            "risk", title, False, "no strategy chosen (in place, or new servers + DNS)"
        )
    return Condition("risk", title, True)


CONDITIONS: tuple[Callable[[Session, BackupRecord, float | None], Condition], ...] = (
    _cond_taken,
    _cond_stored,
    _cond_restored,
    _cond_drafts,
    _cond_risk,
)


def compute_gate(session: Session) -> Gate:
    b = BackupRecord.of(session)
    opened = _ts(b.gate_opened_at)
    return Gate(tuple(check(session, b, opened) for check in CONDITIONS))


# -- recording evidence (each confirmation journalled with who and when) -----


def open_gate(session: Session, journal: Journal) -> str:
    """Start the gate: files on the backup server must be newer than this moment."""
    b = BackupRecord.of(session)
    if not b.gate_opened_at:
        b.gate_opened_at = now_iso()
        journal.event("Production gate opened: evidence from now on counts", phase=PHASE)
        session.phase(PHASE).start(b.gate_opened_at)
    return b.gate_opened_at


def _confirm(journal: Journal, what: str, step: str) -> Confirmation:
    entry = journal.confirmation(what, phase=PHASE, step=step)
    return Confirmation(entry.at, entry.by or "")


def plan_backup(session: Session, target: BackupTarget, label: str) -> list[str]:
    """Choose the label and the backup server; returns the command to run on production."""
    argv = backup_argv(target, label)
    b = BackupRecord.of(session)
    b.label = label
    b.target = target
    return argv


def planned_target(session: Session) -> BackupTarget | None:
    return BackupRecord.of(session).target


def confirm_backup_taken(
    session: Session, journal: Journal, target: BackupTarget, label: str
) -> list[str]:
    if not BackupRecord.of(session).gate_opened_at:
        raise CrvsError("Open the gate first.", "Gate not opened")
    argv = plan_backup(session, target, label)
    record = _confirm(
        journal, f"Emergency backup ran on production and finished: {' '.join(argv)}", "backup"
    )
    BackupRecord.of(session).taken = BackupTaken(label, argv, record.at, record.by)
    return argv


def record_verification(session: Session, verification: Verification) -> None:
    BackupRecord.of(session).verification = verification


def confirm_restored(session: Session, journal: Journal, label: str) -> None:
    label = validate_label(label)
    record = _confirm(journal, f"Backup {label} restored on QA", "restore")
    BackupRecord.of(session).restore = RestoreRecord(label, record.at, record.by)


def confirm_records_ok(session: Session, journal: Journal) -> None:
    BackupRecord.of(session).records_ok = _confirm(
        journal, "The restored records on QA look right", "restore_records"
    )


def acknowledge_drafts(session: Session, journal: Journal) -> None:
    BackupRecord.of(session).drafts = _confirm(
        journal, "Staff were told to submit their drafts before the upgrade", "drafts"
    )


def acknowledge_risk(session: Session, journal: Journal, strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise CrvsError(f"Unknown strategy {strategy!r}.", "Choose a strategy")
    record = _confirm(
        journal,
        f"Migrations may take hours; strategy chosen: {STRATEGIES[strategy]}",
        "risk",
    )
    BackupRecord.of(session).risk = RiskRecord(strategy, record.at, record.by)


def refresh_gate(session: Session) -> Gate:
    """Recompute the gate and set the backup phase's status from it (never the other way)."""
    gate = compute_gate(session)
    record = session.phase(PHASE)
    if gate.open:
        record.finish()
    else:
        record.reopen()
    return gate


# -- the loader refuses what no button can produce -----------------------------


def gate_contradictions(session: Session, production_gate_seen: str | None) -> str | None:
    """A production deploy without an open gate behind it: only a hand edit makes that.

    ``production_gate_seen`` is when the production deploy found the gate open (kept in
    its deploy record), None if no production deploy is recorded. Evidence that changes
    after the deploy (a later QA check failing) must not make the session unloadable,
    so the backup phase's own status is recomputed, never judged.
    """
    prod = session.phase("deploy_production").status
    deployed = production_gate_seen is not None
    if not deployed and prod is not PhaseStatus.DONE:
        return None
    if deployed and _ts(production_gate_seen) is not None:
        return None
    what = "a production deploy is recorded" if deployed else "Deploy to production is marked done"
    return (
        f"{what[0].upper()}{what[1:]}, but no open production gate was recorded before it. "
        "crvs-migrate will not continue from a state that could have reached production "
        "without a verified backup"
    )
