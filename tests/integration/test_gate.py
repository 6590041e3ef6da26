"""The production gate: each condition blocks on its own; evidence is sealed and journalled."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tasks.errors import InvalidName, StateFileCorrupt
from tasks.release.backup import backup_argv
from tasks.release.deploy import (
    DeployRecord,
    DeployRequest,
    EnvironmentDeploy,
    GateLocked,
    LiveGateCheck,
    ensure_may_deploy,
    record_deploy,
)
from tasks.release.gate import BackupRecord, compute_gate, refresh_gate, seal_slot
from tasks.sections import open_session
from tasks.servers.health import Health, HealthRecord
from tasks.session.journal import Journal
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, now_iso, save_session
from tests.support.evidence import qa_health
from tests.support.gate_evidence import LABEL, TARGET, full_evidence


@pytest.mark.parametrize("how", ["app", "outside"])
async def test_all_evidence_opens_the_gate_and_each_confirmation_is_journalled(
    tmp_path: Path, how: str
) -> None:
    session, journal = await full_evidence(tmp_path, how)
    gate = refresh_gate(session, journal)
    assert gate.open, gate.missing
    assert session.phase("backup_production").status is PhaseStatus.DONE
    hows = {c.id: c.how for c in gate.conditions}
    expected = "run in crvs-migrate" if how == "app" else "run outside the app"
    assert hows["taken"] == expected and hows["restored"] == expected
    confirmations = [e["step"] for e in journal.entries() if e["kind"] == "confirmation"]
    if how == "app":
        assert confirmations == ["gate", "restore_records", "drafts", "risk"]
        commands = [e for e in journal.entries() if e["kind"] == "command"]
        assert [c["host"] for c in commands] == ["203.0.113.10", "203.0.113.20"]
    else:
        assert confirmations == ["gate", "backup", "restore", "restore_records", "drafts", "risk"]
    ensure_may_deploy(session, journal, "production")  # does not raise


def _set(obj: object, **changes: object) -> None:
    for name, value in changes.items():
        setattr(obj, name, value)


def _resealed(slot: str, change):
    """A change made by crvs-migrate itself (the record sealed again): honest evidence
    that does not hold."""

    def apply(s: Session) -> None:
        change(s)
        seal_slot(s, slot)

    return apply


REMOVALS = {
    "taken": lambda s: _set(BackupRecord.of(s), taken=None),
    "stored": lambda s: _set(BackupRecord.of(s), verification=None),
    "restored": lambda s: _set(BackupRecord.of(s), restore=None),
    "qa_health": lambda s: HealthRecord.of(s).snapshots.pop("qa"),
    "qa_health_failed": lambda s: qa_health(s, Health.FAIL),
    "qa_health_before_restore": lambda s: qa_health(s, Health.PASS, "2000-01-01T00:00:00+00:00"),
    "records_ok": lambda s: _set(BackupRecord.of(s), records_ok=None),
    "drafts": lambda s: _set(BackupRecord.of(s), drafts=None),
    "risk": lambda s: _set(BackupRecord.of(s), risk=None),
    "risk_no_strategy": _resealed("risk", lambda s: _set(BackupRecord.of(s).risk, strategy="")),
    "verified_other_label": _resealed(
        "verification", lambda s: _set(BackupRecord.of(s).verification, label="other")
    ),
    "part_not_ok": _resealed(
        "verification",
        lambda s: _set(BackupRecord.of(s).verification.parts[3], ok=False, problem="empty"),
    ),
    "part_dropped": _resealed(
        "verification", lambda s: BackupRecord.of(s).verification.parts.pop(8)
    ),
    "restore_log_problem": _resealed(
        "restore", lambda s: _set(BackupRecord.of(s).restore, problems=["Skipped."])
    ),
    "backup_exit_1": _resealed("taken", lambda s: _set(BackupRecord.of(s).taken.run, exit_code=1)),
    "gate_never_opened": lambda s: _set(BackupRecord.of(s), opened=None),
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
    "restore_log_problem": "restored",
    "backup_exit_1": "taken",
}


@pytest.mark.parametrize("removal", sorted(REMOVALS))
async def test_each_condition_blocks_on_its_own(tmp_path: Path, removal: str) -> None:
    session, journal = await full_evidence(tmp_path)
    REMOVALS[removal](session)
    gate = refresh_gate(session, journal)
    assert not gate.open
    failing = [c.id for c in gate.conditions if not c.met]
    if removal in CONDITION_OF:
        assert failing == [CONDITION_OF[removal]], gate.missing
    assert all(c.missing for c in gate.conditions if not c.met)
    assert session.phase("backup_production").status is not PhaseStatus.DONE
    with pytest.raises(GateLocked, match="Still missing"):
        ensure_may_deploy(session, journal, "production")
    req = DeployRequest("production", "prod.example.org", "v1.3.5", "v1.3.5", 3)
    with pytest.raises(GateLocked):
        record_deploy(session, journal, req, ["yarn", "deploy"], how="pane")


async def test_an_edited_record_counts_for_nothing_and_says_so(tmp_path: Path) -> None:
    session, journal = await full_evidence(tmp_path)
    BackupRecord.of(session).verification.parts[0].size = 10**9  # edited, not resealed
    gate = compute_gate(session, journal)
    stored = next(c for c in gate.conditions if c.id == "stored")
    assert not stored.met and "edited outside crvs-migrate" in stored.missing


async def test_a_confirmation_counts_only_with_its_journal_entry(tmp_path: Path) -> None:
    session, journal = await full_evidence(tmp_path)
    lines = journal.path.read_text().splitlines()
    journal.path.write_text("".join(ln + "\n" for ln in lines if '"drafts"' not in ln))
    gate = compute_gate(session, journal)
    drafts = next(c for c in gate.conditions if c.id == "drafts")
    assert not drafts.met and "journal" in drafts.missing
    assert not compute_gate(session, None).open  # no journal: no confirmation counts
    assert not compute_gate(session, Journal(tmp_path / "elsewhere.jsonl")).open


def test_uppercase_label_refused() -> None:
    with pytest.raises(InvalidName, match="Elasticsearch"):
        backup_argv(TARGET, "Before-Upgrade")
    argv = backup_argv(TARGET, LABEL)
    assert argv[-1] == f"--label={LABEL}"
    assert "--remote_dir=/backups/opencrvs" in argv
    assert argv[1] == "/opt/opencrvs/infrastructure/emergency-backup-metadata.sh"
    assert backup_argv(TARGET, LABEL, "/srv/infra")[1] == "/srv/infra/emergency-backup-metadata.sh"


def _live(ok: bool = True) -> LiveGateCheck:
    return LiveGateCheck(now_iso(), ok)


async def test_production_needs_a_passing_live_gate_check(tmp_path: Path) -> None:
    session, journal = await full_evidence(tmp_path)
    req = DeployRequest("production", "prod.example.org", "v1.3.5", "v1.3.5", 3)
    with pytest.raises(GateLocked, match="re-verified"):
        record_deploy(session, journal, req, ["yarn", "deploy"], how="pane")
    with pytest.raises(GateLocked, match="failed"):
        record_deploy(
            session, journal, req, ["yarn", "deploy"], how="pane", gate_check=_live(False)
        )
    old = LiveGateCheck("2020-01-01T00:00:00+00:00", True)
    with pytest.raises(GateLocked, match="too old"):
        record_deploy(session, journal, req, ["yarn", "deploy"], how="pane", gate_check=old)
    entry = record_deploy(session, journal, req, ["yarn", "deploy"], how="pane", gate_check=_live())
    assert entry.gate_open_at and entry.seal
    path = tmp_path / "session.toml"
    save_session(path, session)
    assert open_session(path) is not None


@pytest.mark.parametrize("claim", ["production_done", "deploy_recorded", "deploy_edited"])
async def test_hand_edited_state_claiming_production_is_rejected(
    tmp_path: Path, claim: str
) -> None:
    session, journal = await full_evidence(tmp_path)
    if claim == "production_done":
        session.phase("deploy_production").finish()
    elif claim == "deploy_recorded":
        DeployRecord.of(session).production = EnvironmentDeploy(
            ["yarn", "deploy"], "prod", "v1.3.5", "v1.3.5", 3, False, "pane", now_iso()
        )
    else:
        req = DeployRequest("production", "prod.example.org", "v1.3.5", "v1.3.5", 3)
        entry = record_deploy(
            session, journal, req, ["yarn", "deploy"], how="pane", gate_check=_live()
        )
        entry.version = "v9.9.9"  # edited after crvs-migrate sealed it
    path = tmp_path / "session.toml"
    save_session(path, session)
    with pytest.raises(StateFileCorrupt, match="production") as err:
        open_session(path)
    assert path.exists()
    message = str(err.value)
    if claim == "production_done":
        assert "no production deploy is recorded" in message
    else:
        assert "edited outside crvs-migrate" in message


async def test_a_backup_phase_marked_done_by_hand_loads_but_counts_for_nothing(
    tmp_path: Path,
) -> None:
    # Evidence can change after the phase was done (a later QA check failing): the file
    # must stay loadable, and the phase's status is recomputed from the evidence.
    session, journal = await full_evidence(tmp_path)
    BackupRecord.of(session).verification = None
    session.phase("backup_production").finish()
    path = tmp_path / "session.toml"
    save_session(path, session)
    loaded = open_session(path)
    assert loaded is not None
    assert not compute_gate(loaded, journal).open
    assert loaded.phase("backup_production").status is not PhaseStatus.DONE
    with pytest.raises(GateLocked):
        ensure_may_deploy(loaded, journal, "production")


async def test_honest_states_load(tmp_path: Path) -> None:
    session, journal = await full_evidence(tmp_path)
    refresh_gate(session, journal)
    path = tmp_path / "session.toml"
    save_session(path, session)
    loaded = open_session(path)
    assert loaded is not None and compute_gate(loaded, journal).open
    # A half-way gate that claims nothing also loads.
    half = copy.deepcopy(session)
    BackupRecord.of(half).risk = None
    refresh_gate(half, journal)
    save_session(path, half)
    assert open_session(path) is not None
