"""The plan in the session: saved, applied to the phase records, diffed, queried."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.sections import open_session
from tasks.session.phases import PhaseStatus, StepStatus
from tasks.session.state import Session, save_session
from tasks.upgrade.answers import CitizenRegistration, EnvironmentId
from tasks.upgrade.detect import (
    combine,
    describe_argv,
    detect_current_version,
    git_checkout_problem,
)
from tasks.upgrade.plan import (
    PlanRecord,
    accept_plan,
    apply_plan,
    build_plan,
    diff_plans,
    plan_accepted,
    plan_changes,
    plan_step_applies,
    update_plan,
)
from tests.support.gitutil import git
from tests.support.plan import full_answers, make_checkout


def session_with(answers) -> Session:
    session = Session()
    session.replace_section(answers)
    return session


def test_plan_is_saved_and_survives_a_reload(tmp_path: Path) -> None:
    session = session_with(full_answers(backup_server=False))
    plan, changed = update_plan(session)
    assert changed
    path = tmp_path / "s.toml"
    save_session(path, session)
    loaded = open_session(path)
    assert loaded is not None
    assert loaded.phase("deploy_production").status is PhaseStatus.BLOCKED
    assert "backup server" in loaded.phase("deploy_production").reason
    again, changed = update_plan(loaded)
    assert not changed and again == plan


def test_plan_drives_skipped_and_blocked_phases_and_steps() -> None:
    session = session_with(full_answers(current_version="1.3.2", deployed=False, environments={}))
    update_plan(session)
    assert session.phase("release").status is PhaseStatus.SKIPPED
    assert "Not deployed" in session.phase("release").reason
    assert session.phase("update_core").status is PhaseStatus.NOT_STARTED
    step = session.phase("update_core").steps["merge_core_fork"]
    assert step.status is StepStatus.SKIPPED and "No customisations" in step.note


def test_apply_never_downgrades_done_or_in_progress() -> None:
    session = session_with(full_answers())
    session.phase("deploy_qa").finish()
    session.phase("deploy_production").start()
    session.replace_section(full_answers(deployed=False, environments={}))
    update_plan(session)
    assert session.phase("deploy_qa").status is PhaseStatus.DONE
    assert session.phase("deploy_production").status is PhaseStatus.IN_PROGRESS
    assert session.phase("release").status is PhaseStatus.SKIPPED


def test_a_phase_that_applies_again_is_released_but_not_someone_elses_block() -> None:
    session = session_with(full_answers(backup_server=False))
    update_plan(session)
    assert session.phase("backup_production").status is PhaseStatus.BLOCKED
    # Another feature blocks deploy_production for its own reason.
    session.phase("deploy_production").block("Backup gate not open")
    session.replace_section(full_answers(backup_server=True))
    update_plan(session)
    assert session.phase("backup_production").status is PhaseStatus.NOT_STARTED
    assert session.phase("backup_production").reason == ""
    assert session.phase("deploy_production").status is PhaseStatus.BLOCKED
    assert session.phase("deploy_production").reason == "Backup gate not open"


def test_steps_skipped_by_the_plan_come_back_when_they_apply() -> None:
    session = session_with(full_answers(integrations=False))
    update_plan(session)
    assert session.phase("deploy_qa").steps["test_integrations"].status is StepStatus.SKIPPED
    session.replace_section(full_answers(integrations=True, integrations_list="DHIS2"))
    update_plan(session)
    assert session.phase("deploy_qa").steps["test_integrations"].status is StepStatus.NOT_STARTED
    assert plan_step_applies(session, "deploy_qa", "test_integrations")


def test_what_changed_since_the_last_plan() -> None:
    session = session_with(full_answers())
    update_plan(session)
    assert plan_changes(session) == []
    session.replace_section(full_answers(backup_server=False, integrations=True))
    update_plan(session)
    texts = [f"{c.sign} {c.text}" for c in plan_changes(session)]
    assert any(t.startswith("+ Blocker: No backup server") for t in texts)
    assert any("Deploy to production: applies → blocked" in t for t in texts)
    assert any(t.startswith("+ Deploy to QA › Test your integrations") for t in texts)
    assert diff_plans(None, build_plan(full_answers())) == []


def test_accepting_and_a_changed_plan_needs_accepting_again() -> None:
    session = session_with(full_answers())
    update_plan(session)
    accept_plan(session, "2026-01-01T00:00:00+00:00")
    assert session.phase("plan").status is PhaseStatus.DONE and plan_accepted(session)
    update_plan(session)
    assert session.phase("plan").status is PhaseStatus.DONE
    session.replace_section(full_answers(real_citizens=CitizenRegistration.NO))
    update_plan(session)
    assert session.phase("plan").status is PhaseStatus.IN_PROGRESS
    assert not plan_accepted(session)


def test_plan_step_applies_without_a_saved_plan_uses_the_answers() -> None:
    session = session_with(full_answers(current_version="1.3.0"))
    assert PlanRecord.of(session).current is None
    assert plan_step_applies(session, "deploy_production", "data_migration")
    assert not plan_step_applies(session, "deploy_production", "no_such_step")
    with pytest.raises(KeyError):
        plan_step_applies(session, "no_such_phase", "deploy")


def test_apply_plan_on_blank_session_marks_nothing_for_prepare_and_plan() -> None:
    session = Session()
    apply_plan(session, build_plan(full_answers()))
    assert session.phase("prepare").status is PhaseStatus.NOT_STARTED
    assert session.phase("plan").status is PhaseStatus.NOT_STARTED


# -- detection from real git repositories ---------------------------------------


async def test_detects_version_from_package_json_and_nearest_tag(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "cc", ["1.3.0", "1.3.1", "1.3.2"])
    found = await detect_current_version(repo)
    assert found.version == "1.3.2"
    assert found.tag == "v1.3.2" and found.package_version == "1.3.2"
    assert "nearest tag v1.3.2" in found.note


async def test_detection_reports_a_disagreement(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "cc", ["1.3.0"], package_version="1.3.1")
    found = await detect_current_version(repo)
    assert found.version == "1.3.1" and found.tag == "v1.3.0"
    assert "but the nearest tag is v1.3.0" in found.note


async def test_detection_without_tags_or_repo(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    found = await detect_current_version(tmp_path / "plain")
    assert found.version == "" and "not a git repository" in found.note
    assert combine(None, None).version == ""


def test_git_checkout_problem(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "cc", ["1.3.0"])
    assert git_checkout_problem(repo) is None
    assert "does not exist" in git_checkout_problem(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    assert "not a directory" in git_checkout_problem(tmp_path / "file")
    assert "not a git repository" in git_checkout_problem(tmp_path)


def test_problems_list_what_is_missing(tmp_path: Path) -> None:
    answers = full_answers()
    names = [name for name, _ in answers.problems()]
    assert names == ["config_path", "core_path"]
    answers.config_path = str(make_checkout(tmp_path / "cc", ["1.3.0"]))
    answers.core_path = str(make_checkout(tmp_path / "core", ["1.3.0"]))
    assert answers.complete
    answers.environments[EnvironmentId.PRODUCTION].cluster_size = 2
    assert answers.problems() == [
        ("env.production.cluster_size", "'2': OpenCRVS runs on a cluster of 1, 3 or 5 servers")
    ]


async def test_detection_is_recorded_in_the_journal(tmp_path: Path) -> None:
    from tasks.session.journal import Journal

    repo = make_checkout(tmp_path / "cc", ["1.3.0"])
    journal = Journal(tmp_path / "journal.jsonl")
    await detect_current_version(repo, journal)
    (entry,) = list(journal.entries())
    assert entry["kind"] == "command" and entry["exit_code"] == 0
    assert entry["argv"] == describe_argv(repo)
    assert entry["argv"][3:7] == ["describe", "--tags", "--match", "v1.3.*"]
    assert entry["argv"][-1] == "--abbrev=0"


async def test_detection_reads_a_country_s_own_tags(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "cc", ["1.3.0"])
    # The country's build of 1.3.0, tagged with its own suffix (lightweight, as upstream's are).
    (repo / "src.ts").write_text("export const COUNTRY = 'Ruritania'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Ruritania build")
    git(repo, "tag", "v1.3.0-ruritania.2")
    found = await detect_current_version(repo)
    assert found.tag == "v1.3.0-ruritania.2"
    assert found.version == "1.3.0"
    assert "v1.3.0-ruritania.2" in found.note and "but" not in found.note


async def test_detection_skips_pre_release_tags(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "cc", ["1.3.1"])
    (repo / "next.ts").write_text("x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "next")
    git(repo, "tag", "v1.3.2-rc.1")
    found = await detect_current_version(repo)
    assert found.tag == "v1.3.1" and found.version == "1.3.1"
