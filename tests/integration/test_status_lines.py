"""Phase statuses follow what was done: the rules of each phase's settle function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tasks.release.deploy import settle_backup_phase
from tasks.release.publish import (
    record_image_tag,
    record_merge_checked,
    record_merge_confirmed,
    record_tag,
)
from tasks.sections import open_session
from tasks.servers.health import Health
from tasks.session.journal import Journal
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, save_session
from tests.support.evidence import qa_health
from tests.support.finished import finished_session


def test_any_release_step_starts_the_release_phase(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    for record in (
        lambda s: record_merge_checked(s, "upgrade-v1.3.5", "origin/master"),
        lambda s: record_merge_confirmed(s, journal, "upgrade-v1.3.5", "origin/master"),
        lambda s: record_tag(s, "v1.3.5-1", "0" * 40),
        lambda s: record_image_tag(s, "v1.3.5-1"),
    ):
        session = Session()
        assert session.phase("release").status is PhaseStatus.NOT_STARTED
        record(session)
        assert session.phase("release").status is PhaseStatus.IN_PROGRESS


async def test_the_backup_phase_is_done_once_production_was_deployed_through_the_gate(
    tmp_path: Path,
) -> None:
    f = await finished_session(tmp_path)
    assert f.session.phase("backup_production").status is PhaseStatus.DONE
    # Evidence moves on after production (QA redeployed, a later QA check fails): the gate
    # would close now, but the backup did its job and its phase stays done.
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="seconds")
    qa_health(f.session, Health.FAIL, at=later)
    gate = settle_backup_phase(f.session, f.workspace.journal)
    assert not gate.open
    assert f.session.phase("backup_production").status is PhaseStatus.DONE
    save_session(f.workspace.state_path, f.session)
    reopened = open_session(f.workspace.state_path)
    assert reopened is not None
    assert reopened.phase("backup_production").status is PhaseStatus.DONE


async def test_without_a_production_deploy_the_backup_phase_follows_the_gate(
    tmp_path: Path,
) -> None:
    f = await finished_session(tmp_path)
    f.session.phase("backup_production").reopen()
    # No production deploy: a closing gate reopens the phase (evidence, not belief).
    from tasks.release.deploy import DeployRecord

    DeployRecord.of(f.session).production = None
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="seconds")
    qa_health(f.session, Health.FAIL, at=later)
    settle_backup_phase(f.session, f.workspace.journal)
    assert f.session.phase("backup_production").status is PhaseStatus.IN_PROGRESS
