"""The production gate: each condition blocks on its own; the loader refuses a faked open gate."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tasks.errors import InvalidName, StateFileCorrupt
from tasks.release.backup import BackupTarget, backup_argv, verify_backup
from tasks.release.deploy import DeployRequest, GateLocked, ensure_may_deploy, record_deploy
from tasks.release.gate import (
    BackupRecord,
    acknowledge_drafts,
    acknowledge_risk,
    compute_gate,
    confirm_backup_taken,
    confirm_records_ok,
    confirm_restored,
    open_gate,
    record_verification,
    refresh_gate,
)
from tasks.sections import open_session
from tasks.servers.health import Health
from tasks.session.journal import Journal
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, now_iso, save_session
from tests.support.backupdir import make_backup_dir
from tests.support.evidence import qa_health
from tests.support.localrun import local_run

LABEL = "before-v1.3.5-20240502"
TARGET = BackupTarget("backup", "203.0.113.50", 22, "/backups/opencrvs", "203.0.113.10", 3)


async def _full_evidence(tmp_path: Path) -> tuple[Session, Journal]:
    session = Session()
    journal = Journal(tmp_path / "journal.jsonl")
    open_gate(session, journal)
    make_backup_dir(tmp_path / "remote", LABEL)
    confirm_backup_taken(session, journal, TARGET, LABEL)
    ver = await verify_backup(
        local_run,
        "backup",
        str(tmp_path / "remote"),
        LABEL,
        BackupRecord.of(session).gate_opened_at,
    )
    assert ver.ok, ver.problems
    record_verification(session, ver)
    confirm_restored(session, journal, LABEL)
    qa_health(session, Health.PASS)
    confirm_records_ok(session, journal)
    acknowledge_drafts(session, journal)
    acknowledge_risk(session, journal, "in_place")
    return session, journal


async def test_all_evidence_opens_the_gate_and_each_confirmation_is_journalled(
    tmp_path: Path,
) -> None:
    session, journal = await _full_evidence(tmp_path)
    gate = refresh_gate(session)
    assert gate.open, gate.missing
    assert session.phase("backup_production").status is PhaseStatus.DONE
    confirmations = [e for e in journal.entries() if e["kind"] == "confirmation"]
    assert [e["step"] for e in confirmations] == [
        "backup",
        "restore",
        "restore_records",
        "drafts",
        "risk",
    ]
    assert all("@" in e["by"] and e["at"] for e in confirmations)
    ensure_may_deploy(session, "production")  # does not raise


def _set(obj: object, **changes: object) -> None:
    for name, value in changes.items():
        setattr(obj, name, value)


def _no_qa_health(s: Session) -> None:
    from tasks.servers.health import HealthRecord

    HealthRecord.of(s).snapshots.pop("qa")


REMOVALS = {
    "taken": lambda s: _set(BackupRecord.of(s), taken=None),
    "stored": lambda s: _set(BackupRecord.of(s), verification=None),
    "restored": lambda s: _set(BackupRecord.of(s), restore=None),
    "qa_health": _no_qa_health,
    "qa_health_failed": lambda s: qa_health(s, Health.FAIL),
    "qa_health_before_restore": lambda s: qa_health(s, Health.PASS, "2000-01-01T00:00:00+00:00"),
    "records_ok": lambda s: _set(BackupRecord.of(s), records_ok=None),
    "drafts": lambda s: _set(BackupRecord.of(s), drafts=None),
    "risk": lambda s: _set(BackupRecord.of(s), risk=None),
    "risk_no_strategy": lambda s: _set(BackupRecord.of(s).risk, strategy=""),
    "verified_other_label": lambda s: _set(BackupRecord.of(s).verification, label="other"),
    "part_not_ok": lambda s: _set(
        BackupRecord.of(s).verification.parts[3], ok=False, problem="empty"
    ),
    "part_dropped": lambda s: BackupRecord.of(s).verification.parts.pop(8),
    "taken_before_gate": lambda s: _set(BackupRecord.of(s).taken, at="2000-01-01T00:00:00+00:00"),
    "gate_never_opened": lambda s: _set(BackupRecord.of(s), gate_opened_at=""),
}
CONDITION_OF = {
    "taken": "taken",
    "stored": "stored",
    "restored": "restored",
    "qa_health": "restored",
    "qa_health_failed": "restored",
    "qa_health_before_restore": "restored",
    "records_ok": "restored",
    "drafts": "drafts",
    "risk": "risk",
    "risk_no_strategy": "risk",
    "verified_other_label": "stored",
    "part_not_ok": "stored",
    "part_dropped": "stored",
    "taken_before_gate": "taken",
}


@pytest.mark.parametrize("removal", sorted(REMOVALS))
async def test_each_condition_blocks_on_its_own(tmp_path: Path, removal: str) -> None:
    session, _ = await _full_evidence(tmp_path)
    REMOVALS[removal](session)
    gate = refresh_gate(session)
    assert not gate.open
    failing = [c.id for c in gate.conditions if not c.met]
    if removal in CONDITION_OF:
        assert failing == [CONDITION_OF[removal]], gate.missing
    assert all(c.missing for c in gate.conditions if not c.met)
    assert session.phase("backup_production").status is not PhaseStatus.DONE
    with pytest.raises(GateLocked, match="Still missing"):
        ensure_may_deploy(session, "production")
    req = DeployRequest("production", "prod.example.org", "v1.3.5", "v1.3.5", 3)
    with pytest.raises(GateLocked):
        record_deploy(session, req, ["yarn", "deploy"], how="pane")


def test_uppercase_label_refused() -> None:
    with pytest.raises(InvalidName, match="Elasticsearch"):
        backup_argv(TARGET, "Before-Upgrade")
    argv = backup_argv(TARGET, LABEL)
    assert argv[-1] == f"--label={LABEL}"
    assert "--remote_dir=/backups/opencrvs" in argv


@pytest.mark.parametrize("claim", ["production_done", "deploy_recorded"])
async def test_hand_edited_state_claiming_production_without_a_gate_is_rejected(
    tmp_path: Path, claim: str
) -> None:
    session, _ = await _full_evidence(tmp_path)
    BackupRecord.of(session).verification = None  # the evidence an editor cannot produce honestly
    if claim == "production_done":
        session.phase("deploy_production").finish()
    else:
        from tasks.release.deploy import DeployRecord, EnvironmentDeploy

        DeployRecord.of(session).production = EnvironmentDeploy(
            ["yarn", "deploy"], "prod", "v1.3.5", "v1.3.5", 3, False, "pane", now_iso()
        )
    path = tmp_path / "session.toml"
    save_session(path, session)
    with pytest.raises(StateFileCorrupt, match="production gate"):
        open_session(path)


async def test_a_backup_phase_marked_done_by_hand_loads_but_counts_for_nothing(
    tmp_path: Path,
) -> None:
    # Evidence can change after the phase was done (a later QA check failing): the file
    # must stay loadable, and the phase's status is recomputed from the evidence.
    session, _ = await _full_evidence(tmp_path)
    BackupRecord.of(session).verification = None
    session.phase("backup_production").finish()
    path = tmp_path / "session.toml"
    save_session(path, session)
    loaded = open_session(path)
    assert loaded is not None
    assert not compute_gate(loaded).open
    assert loaded.phase("backup_production").status is not PhaseStatus.DONE
    with pytest.raises(GateLocked):
        ensure_may_deploy(loaded, "production")


async def test_honest_states_load(tmp_path: Path) -> None:
    session, _ = await _full_evidence(tmp_path)
    refresh_gate(session)
    path = tmp_path / "session.toml"
    save_session(path, session)
    loaded = open_session(path)
    assert loaded is not None and compute_gate(loaded).open
    # A half-way gate that claims nothing also loads.
    half = copy.deepcopy(session)
    BackupRecord.of(half).risk = None
    refresh_gate(half)
    save_session(path, half)
    assert open_session(path) is not None
