"""The plan's by-hand steps: shown in their phase (3-9), confirmed with who, when and a note
(journalled), and a phase is done only when each applicable one is (recommended ones never
hold a phase back)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import Input

from screens.modals.confirm import TextPromptModal
from screens.widgets.manual_steps import ManualSteps
from tasks.release.deploy import (
    DeployRecord,
    settle_phase,
    settle_problems,
)
from tasks.session.journal import Journal
from tasks.session.phases import PhaseStatus, StepStatus
from tasks.session.state import Session, now_iso
from tasks.upgrade.manual import confirm_manual_step, manual_missing, manual_steps
from tasks.upgrade.plan import accept_plan, update_plan
from tests.support.app import make_app
from tests.support.evidence import qa_deployed_and_checked
from tests.support.plan import full_answers


def planned_session(**answers: object) -> Session:
    """A session whose accepted plan goes 1.3.0 -> 1.3.5 with integrations (as Plan leaves it)."""
    session = Session(session_id="byhand", created_at="2026-01-01T00:00:00+00:00")
    session.replace_section(full_answers(integrations=True, **answers))
    update_plan(session)
    accept_plan(session, now_iso())
    return session


def test_the_plan_s_by_hand_steps_per_phase() -> None:
    session = planned_session()
    ids = {phase: [s.id for s in manual_steps(session, phase)] for phase in session.phases}
    assert ids["merge_config"] == ["resolve_conflicts", "certificate_templates"]
    # 1.3.0 -> 1.3.5 crosses 1.3.1, whose playbooks change: Ansible on both environments.
    assert ids["deploy_qa"] == ["ansible_playbook", "test_integrations"]
    assert ids["deploy_production"] == ["inform_staff", "ansible_playbook"]
    assert ids["update_core"] == [] and ids["verify_local"] == []
    # The certificate templates are recommended: they never hold the phase back.
    assert [s.id for s in manual_missing(session, "merge_config")] == ["resolve_conflicts"]


def test_a_deploy_phase_is_done_only_once_its_by_hand_steps_are(tmp_path: Path) -> None:
    session = planned_session()
    journal = Journal(tmp_path / "j.jsonl")
    qa_deployed_and_checked(session)
    assert DeployRecord.of(session).qa is not None
    assert not settle_phase(session, "qa")
    assert "not confirmed yet (by hand): Run the Ansible playbook on the QA servers" in (
        settle_problems(session, "qa")
    )
    assert session.phase("deploy_qa").status is not PhaseStatus.DONE
    confirm_manual_step(session, journal, "deploy_qa", "ansible_playbook", "ran playbook-1.yml")
    assert not settle_phase(session, "qa")
    rec = confirm_manual_step(session, journal, "deploy_qa", "test_integrations", "DHIS2 ok")
    assert settle_phase(session, "qa")
    assert session.phase("deploy_qa").status is PhaseStatus.DONE
    assert rec.status is StepStatus.SUCCEEDED and rec.by and rec.note == "DHIS2 ok"
    (first, second) = [e for e in journal.entries() if e["kind"] == "confirmation"]
    assert first["step"] == "ansible_playbook" and "ran playbook-1.yml" in first["what"]
    assert second["by"] and second["at"]


async def until(pilot, condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


PHASE_STEPS = {
    "update_core": [],
    "merge_config": ["resolve_conflicts", "certificate_templates"],
    "verify_local": [],
    "release": [],
    "deploy_qa": ["ansible_playbook", "test_integrations"],
    "backup_production": [],
    "deploy_production": ["inform_staff", "ansible_playbook"],
}


@pytest.mark.parametrize("phase", sorted(PHASE_STEPS))
async def test_every_phase_screen_shows_its_by_hand_steps(tmp_path: Path, phase: str) -> None:
    session = planned_session()
    session.current_view = phase
    app = make_app(tmp_path / "state.toml", session=session)
    async with app.run_test(size=(120, 50)) as pilot:
        await until(pilot, lambda: bool(app.screen.query(ManualSteps)))
        widget = app.screen.query_one(ManualSteps)
        await pilot.pause()
        shown = [widget.get_option_at_index(i).id for i in range(widget.option_count)]
        assert shown == PHASE_STEPS[phase]
        assert widget.display is bool(PHASE_STEPS[phase])


async def test_confirming_a_by_hand_step_in_the_ui(tmp_path: Path) -> None:
    session = planned_session()
    session.current_view = "deploy_production"
    app = make_app(tmp_path / "state.toml", session=session)
    async with app.run_test(size=(120, 50)) as pilot:
        await until(pilot, lambda: bool(app.screen.query(ManualSteps)))
        widget = app.screen.query_one(ManualSteps)
        widget.focus()
        widget.highlighted = 0
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextPromptModal))
        # Escape records nothing, and says so.
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TextPromptModal))
        rec = app.session.phase("deploy_production").step("inform_staff")
        assert rec.status is StepStatus.NOT_STARTED
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextPromptModal))
        app.screen.query_one("#answer", Input).value = "email to all registrars, 2 days ahead"
        await pilot.press("enter")
        await until(pilot, lambda: rec.status is StepStatus.SUCCEEDED)
        assert rec.by and rec.finished_at and rec.note == "email to all registrars, 2 days ahead"
        assert "done by" in str(widget.get_option_at_index(0).prompt)
    (entry,) = [e for e in app.workspace.journal.entries() if e["kind"] == "confirmation"]
    assert entry["step"] == "inform_staff" and entry["by"] == rec.by
    assert "email to all registrars" in entry["what"]
