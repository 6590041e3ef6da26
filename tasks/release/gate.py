"""The production gate: computed from evidence in ``session.backup``, never from a flag.

Five conditions, each with the evidence that makes it hold:
  1. backup taken      the backup command (lowercase label) and the operator's
                       journalled word that it ran, after the gate was opened
  2. stored off-server a verification over SSH on the backup server: every
                       expected part present, non-empty, newer than the gate
  3. restored on QA    the operator's journalled restore, then a passing QA
                       health check recorded after it, then the operator's word
                       that the restored records look right
  4. drafts            staff told to submit drafts: acknowledged
  5. duration risk     acknowledged, with a strategy chosen

``compute_gate`` is the only way to know whether the gate is open. A state
validator makes ``load_session`` refuse a file whose gate, backup phase or
production deploy claims more than its evidence shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks.errors import CrvsError, InvalidName
from tasks.names import validate_label
from tasks.release.backup import (
    BackupTarget,
    Verification,
    backup_argv,
    expected_parts,
    parse_iso,
)
from tasks.session.journal import Journal
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, now_iso, register_validator

if TYPE_CHECKING:
    from tasks.servers.health import HealthSnapshot

PHASE = "backup_production"
STRATEGIES = {
    "in_place": "Upgrade production in place (reduced performance while migrations run)",
    "new_servers": "Restore the backup onto new servers, upgrade there, then switch DNS",
}


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


def _ts(value: Any) -> float | None:
    try:
        return parse_iso(str(value))
    except (TypeError, ValueError):
        return None


def _after(value: Any, reference: float | None) -> bool:
    ts = _ts(value)
    return ts is not None and reference is not None and ts >= reference


def _confirmed(record: Any) -> bool:
    return isinstance(record, dict) and bool(record.get("by")) and _ts(record.get("at")) is not None


def _cond_taken(b: dict[str, Any], opened: float | None) -> Condition:
    title = "1. Emergency backup taken"
    taken = b.get("taken")
    if opened is None:
        return Condition("taken", title, False, "open the gate first (it records the start time)")
    if not isinstance(taken, dict):
        return Condition("taken", title, False, "run the backup command and confirm it finished")
    try:
        validate_label(str(taken.get("label", "")))
    except InvalidName:
        return Condition("taken", title, False, "the recorded label is not a valid lowercase label")
    if taken.get("label") != b.get("label"):
        return Condition("taken", title, False, "taken with a different label than the gate's")
    if not _confirmed(taken) or not _after(taken.get("at"), opened):
        return Condition("taken", title, False, "no confirmation after the gate was opened")
    return Condition("taken", title, True)


def _cond_stored(b: dict[str, Any], opened: float | None) -> Condition:
    title = "2. Stored off the production server"
    v = b.get("verification")
    label = b.get("label")
    if not isinstance(v, dict):
        return Condition("stored", title, False, "not verified on the backup server yet")
    if not label or v.get("label") != label:
        return Condition("stored", title, False, "verified a different label than the gate's")
    if not _after(v.get("verified_at"), opened) or _ts(v.get("since")) != opened:
        return Condition("stored", title, False, "verification is older than the gate")
    parts = {p.get("path"): p for p in v.get("parts", []) if isinstance(p, dict)}
    bad = []
    for part in expected_parts(label):
        p = parts.get(part.path)
        if p is None:
            bad.append(f"{part.name} missing")
        elif not p.get("ok"):
            bad.append(f"{part.name} {p.get('problem') or 'not ok'}")
        elif int(p.get("size") or 0) <= 0:
            bad.append(f"{part.name} empty")
        elif opened is None or (_ts(p.get("mtime")) or 0) < opened:
            bad.append(f"{part.name} older than the gate")
    if v.get("error"):
        return Condition("stored", title, False, str(v["error"]))
    if bad:
        return Condition("stored", title, False, "; ".join(bad))
    return Condition("stored", title, True)


def _cond_restored(b: dict[str, Any], opened: float | None) -> Condition:
    title = "3. Restored on QA and QA healthy"
    label = b.get("label")
    restore = b.get("restore")
    if (
        not _confirmed(restore)
        or restore.get("label") != label
        or not _after(restore.get("at"), opened)
    ):
        return Condition("restored", title, False, "restore the backup on QA and confirm it")
    restored_at = _ts(restore.get("at"))
    health = b.get("qa_health")
    if not isinstance(health, dict) or not _after(health.get("checked_at"), restored_at):
        return Condition("restored", title, False, "run Cluster health on QA after the restore")
    if not health.get("ok"):
        return Condition(
            "restored", title, False, "Cluster health on QA did not pass after the restore"
        )
    records = b.get("records_ok")
    if not _confirmed(records) or not _after(records.get("at"), restored_at):
        return Condition("restored", title, False, "confirm the restored records look right on QA")
    return Condition("restored", title, True)


def _cond_drafts(b: dict[str, Any], opened: float | None) -> Condition:
    title = "4. Staff told to submit drafts"
    if not _confirmed(b.get("drafts")):
        return Condition(
            "drafts", title, False, "not acknowledged (browser drafts are lost on upgrade)"
        )
    return Condition("drafts", title, True)


def _cond_risk(b: dict[str, Any], opened: float | None) -> Condition:
    title = "5. Migration-duration risk"
    risk = b.get("risk")
    if not _confirmed(risk):
        return Condition("risk", title, False, "not acknowledged")
    if risk.get("strategy") not in STRATEGIES:
        return Condition(
            "risk", title, False, "no strategy chosen (in place, or new servers + DNS)"
        )
    return Condition("risk", title, True)


CONDITIONS: tuple[Callable[[dict[str, Any], float | None], Condition], ...] = (
    _cond_taken,
    _cond_stored,
    _cond_restored,
    _cond_drafts,
    _cond_risk,
)


def compute_gate(session: Session) -> Gate:
    b = session.backup if isinstance(session.backup, dict) else {}
    opened = _ts(b.get("gate_opened_at"))
    return Gate(tuple(check(b, opened) for check in CONDITIONS))


# -- recording evidence (each confirmation journalled with who and when) -----


def open_gate(session: Session, journal: Journal) -> str:
    """Start the gate: files on the backup server must be newer than this moment."""
    if not session.backup.get("gate_opened_at"):
        session.backup["gate_opened_at"] = now_iso()
        journal.event("Production gate opened: evidence from now on counts", phase=PHASE)
        session.phase(PHASE).status = PhaseStatus.IN_PROGRESS
        session.phase(PHASE).started_at = session.backup["gate_opened_at"]
    return str(session.backup["gate_opened_at"])


def _confirm(journal: Journal, what: str, step: str) -> dict[str, str]:
    entry = journal.confirmation(what, phase=PHASE, step=step)
    return {"at": entry.at, "by": entry.by or ""}


def plan_backup(session: Session, target: BackupTarget, label: str) -> list[str]:
    """Choose the label and the backup server; returns the command to run on production."""
    argv = backup_argv(target, label)
    session.backup["label"] = label
    session.backup["target"] = {
        "ssh_user": target.ssh_user,
        "ssh_host": target.ssh_host,
        "ssh_port": target.ssh_port,
        "remote_dir": target.remote_dir,
        "production_ip": target.production_ip,
        "replicas": target.replicas,
    }
    return argv


def planned_target(session: Session) -> BackupTarget | None:
    t = session.backup.get("target")
    if not isinstance(t, dict):
        return None
    try:
        return BackupTarget(
            str(t["ssh_user"]),
            str(t["ssh_host"]),
            int(t["ssh_port"]),
            str(t["remote_dir"]),
            str(t["production_ip"]),
            int(t["replicas"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def confirm_backup_taken(
    session: Session, journal: Journal, target: BackupTarget, label: str
) -> list[str]:
    if not session.backup.get("gate_opened_at"):
        raise CrvsError("Open the gate first.", "Gate not opened")
    argv = plan_backup(session, target, label)
    record = _confirm(
        journal, f"Emergency backup ran on production and finished: {' '.join(argv)}", "backup"
    )
    session.backup["taken"] = {"label": label, "argv": argv, **record}
    return argv


def record_verification(session: Session, verification: Verification) -> None:
    session.backup["verification"] = verification.to_state()


def confirm_restored(session: Session, journal: Journal, label: str) -> None:
    record = _confirm(journal, f"Backup {label} restored on QA", "restore")
    session.backup["restore"] = {"label": validate_label(label), **record}


def record_qa_health(
    session: Session, ok: bool, summary: str, checked_at: str | None = None
) -> None:
    session.backup["qa_health"] = {
        "checked_at": checked_at or now_iso(),
        "ok": bool(ok),
        "summary": summary,
    }


def record_qa_health_snapshot(session: Session, snapshot: HealthSnapshot) -> bool:
    """Evidence from a Cluster health run on QA: it passes when no node fails (warnings allowed)."""
    from tasks.servers.health import Health

    ok = bool(snapshot.results) and snapshot.status in (Health.PASS, Health.WARN)
    bad = [r.node.name for r in snapshot.results if r.status not in (Health.PASS, Health.WARN)]
    summary = f"{len(snapshot.results)} node(s), overall {snapshot.status.label}"
    if bad:
        summary += "; not healthy: " + ", ".join(bad)
    record_qa_health(session, ok, summary, snapshot.checked_at)
    return ok


def confirm_records_ok(session: Session, journal: Journal) -> None:
    session.backup["records_ok"] = _confirm(
        journal, "The restored records on QA look right", "restore_records"
    )


def acknowledge_drafts(session: Session, journal: Journal) -> None:
    session.backup["drafts"] = _confirm(
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
    session.backup["risk"] = {"strategy": strategy, **record}


def refresh_gate(session: Session) -> Gate:
    """Recompute the gate and set the backup phase's status from it (never the other way)."""
    gate = compute_gate(session)
    record = session.phase(PHASE)
    session.backup["gate_open"] = gate.open
    if gate.open:
        if record.status is not PhaseStatus.DONE:
            record.status = PhaseStatus.DONE
            record.finished_at = now_iso()
    elif record.status is PhaseStatus.DONE:
        record.status = PhaseStatus.IN_PROGRESS
        record.finished_at = None
    return gate


# -- the loader refuses a gate that claims more than its evidence ------------


def _claims_open(session: Session) -> list[str]:
    claims = []
    if session.backup.get("gate_open"):
        claims.append("the gate is marked open")
    if session.phase(PHASE).status is PhaseStatus.DONE:
        claims.append("the backup phase is marked done")
    prod = session.phase("deploy_production").status
    if prod in (PhaseStatus.DONE, PhaseStatus.IN_PROGRESS):
        claims.append(f"the production deploy is marked {prod.label}")
    if session.deploy.get("production"):
        claims.append("a production deploy is recorded")
    return claims


@register_validator
def validate_gate_evidence(session: Session) -> str | None:
    claims = _claims_open(session)
    if not claims:
        return None
    gate = compute_gate(session)
    if gate.open:
        return None
    return (
        f"{claims[0][0].upper()}{claims[0][1:]}, but the production gate's evidence does not "
        "hold (" + "; ".join(gate.missing) + "). crvs-migrate will not continue from a state "
        "that could open production without a verified backup"
    )
