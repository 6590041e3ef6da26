"""Prepare's answers once a plan is accepted, re-detection of the current version, and the
server answers a Cluster health run gives (tasks.upgrade.plan, tasks.upgrade.from_health)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import CrvsError
from tasks.servers.health import Health, HealthRecord, HealthSnapshot, NodeHealth, save_snapshot
from tasks.servers.inventory import Node, Role
from tasks.servers.resources import NodeResources
from tasks.session.journal import Journal
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, now_iso
from tasks.units import GIB
from tasks.upgrade.answers import Answers, EnvironmentId, installation_problem
from tasks.upgrade.from_health import answers_from_health
from tasks.upgrade.plan import (
    PlanRecord,
    accept_plan,
    answers_done,
    answers_frozen,
    plan_changes,
    record_detected_version,
    reopen_answers,
    update_plan,
)
from tests.support.plan import env, full_answers


def accepted() -> Session:
    session = Session()
    session.replace_section(full_answers(detected_version="1.3.0"))
    answers_done(session)
    accept_plan(session, now_iso())
    return session


def test_answers_freeze_with_the_accepted_plan_and_reopen_with_a_reason(tmp_path: Path) -> None:
    session = Session()
    session.replace_section(full_answers())
    answers_done(session)
    assert not answers_frozen(session)  # a plan, not accepted yet
    accept_plan(session, now_iso())
    assert answers_frozen(session)
    journal = Journal(tmp_path / "journal.jsonl")
    with pytest.raises(CrvsError):
        reopen_answers(session, "  \x1b[31m ", journal)
    assert answers_frozen(session)
    reopen_answers(session, "production\x1b[2J has 5 servers", journal)
    assert not answers_frozen(session)
    assert PlanRecord.of(session).answers_reopened == "production has 5 servers"
    assert session.phase("prepare").status is PhaseStatus.IN_PROGRESS
    [entry] = list(journal.entries())
    assert entry["kind"] == "confirmation"
    assert "production has 5 servers" in entry["what"]


def test_changes_are_told_against_the_accepted_plan_until_it_is_accepted_again() -> None:
    session = accepted()
    reopen_answers(session, "resized")
    answers = Answers.of(session)
    answers.environments[EnvironmentId.PRODUCTION] = env(1)
    update_plan(session)
    answers.backup_server = False
    update_plan(session)
    texts = [c.text for c in plan_changes(session)]
    # Both changes, against what was accepted (not only the last one).
    assert any("Production runs on 1 server" in t for t in texts)
    assert any("No backup server" in t for t in texts)
    assert not answers_done(session)  # the plan changed: to be accepted again
    assert not answers_frozen(session)
    accept_plan(session, now_iso())
    assert answers_frozen(session)


def test_reopened_answers_left_as_they_were_freeze_again() -> None:
    session = accepted()
    reopen_answers(session, "double-check")
    assert answers_done(session)
    assert answers_frozen(session)


def test_detection_fills_the_version_only_before_the_upgrade_started() -> None:
    session = Session()
    session.replace_section(Answers())
    outcome = record_detected_version(session, "1.3.0")
    assert outcome.filled and Answers.of(session).current_version == "1.3.0"
    session = accepted()
    outcome = record_detected_version(session, "1.3.5")
    assert not outcome.filled and "frozen" in outcome.kept_because
    reopen_answers(session, "fix")
    session.phase("update_core").start()
    outcome = record_detected_version(session, "1.3.5")
    assert not outcome.filled and "now reads 1.3.5" in outcome.kept_because
    answers = Answers.of(session)
    assert (answers.current_version, answers.detected_version) == ("1.3.0", "1.3.0")


def test_a_step_run_counts_as_started_a_step_the_plan_skipped_does_not() -> None:
    session = accepted()
    reopen_answers(session, "fix")
    session.phase("update_core").step("merge_core_fork").skip("no fork")
    assert record_detected_version(session, "1.3.2").filled
    session.phase("merge_config").step("merge_release").start()
    assert not record_detected_version(session, "1.3.5").filled


def _node(name: str, role: Role, ram: float, cpus: int | None, disk: int) -> NodeHealth:
    return NodeHealth(
        Node(name, "10.0.0.9", role),
        Health.PASS,
        resources=NodeResources(
            name,
            "t",
            ram_total_bytes=int(ram * GIB),
            ram_available_bytes=4 * GIB,
            disk_total_bytes=disk * GIB,
            disk_free_bytes=100 * GIB,
            cpus=cpus,
        ),
    )


def test_health_answers_leave_the_backup_server_out() -> None:
    session = Session()
    snapshot = HealthSnapshot(
        "qa",
        "t",
        [
            _node("manager", Role.MANAGER, 15.6, 8, 320),
            _node("backup", Role.BACKUP, 1.9, 1, 2000),
        ],
        "qa.ini",
        inventory="/srv/qa.ini",
    )
    save_snapshot(session, snapshot)
    found = answers_from_health(session, EnvironmentId.QA)
    assert found is not None
    assert (found.cluster_size, found.ram_gb, found.cpus, found.disk_gb) == (1, 16, 8, 320)
    assert found.inventory_path == "/srv/qa.ini" and found.backup_servers == 1
    assert [s.node for s in found.servers] == ["manager"]
    assert answers_from_health(session, EnvironmentId.PRODUCTION) is None
    # Read back from the file (a run keeps no sizes of its own): the same answers.
    reread = Session.from_dict(session.to_dict(), [HealthRecord])
    assert HealthRecord.of(reread).snapshots["qa"].inventory == "/srv/qa.ini"
    assert answers_from_health(reread, EnvironmentId.QA) == found


def test_a_cpu_count_from_a_hand_edited_file_is_refused() -> None:
    row = {"node": "m", "checked_at": "t", "cpus": True}
    assert NodeResources.from_state(row).cpus is None
    assert NodeResources.from_state({**row, "cpus": -2}).cpus is None


def test_the_installation_name_is_one_plain_line() -> None:
    assert installation_problem("Farajaland production") is None
    assert installation_problem("x" * 81)
    assert installation_problem("bad\x1b[2Jname")
