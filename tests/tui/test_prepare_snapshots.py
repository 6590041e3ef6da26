"""Snapshots of the Prepare form (empty, with errors, complete) and of the Plan, at 80x24.

Deterministic: the app runs in a temp dir with relative checkout paths, so no
temp path or time appears on screen. Update with ``--snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tasks.session.state import Session
from tasks.upgrade.answers import Answers
from tasks.upgrade.plan import update_plan
from tests.support.app import make_app
from tests.support.pilot import phase_shown
from tests.support.plan import detection_done, full_answers, make_checkout
from tui.app import CrvsMigrateApp

SIZE = (80, 24)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    make_checkout(tmp_path / "config", ["1.3.0"])
    make_checkout(tmp_path / "core", ["1.3.0"])
    return tmp_path


def app_with(workdir: Path, answers: Answers | None, view: str = "prepare") -> CrvsMigrateApp:
    session = Session(session_id="snapshot", created_at="2026-01-01T00:00:00+00:00")
    session.current_view = view
    if answers is not None:
        session.replace_section(answers)
        session.phase("prepare").finish()
        update_plan(session)
    return make_app(workdir / "state.toml", session=session)


def complete_answers(**changes: object) -> Answers:
    # Relative paths: they resolve inside the test's temp dir and read the same everywhere.
    return full_answers(config_path="config", core_path="core", **changes)


async def settle(pilot: Pilot) -> None:
    await phase_shown(pilot)
    await detection_done(pilot.app)
    # Scrolling an error into view happens after a refresh: let it land.
    for _ in range(3):
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()


def test_form_empty(workdir: Path, snap_compare) -> None:
    assert snap_compare(app_with(workdir, None), terminal_size=SIZE, run_before=settle)


def test_form_with_errors(workdir: Path, snap_compare) -> None:
    async def type_wrong(pilot: Pilot) -> None:
        await phase_shown(pilot)
        await pilot.press("tab", *"nowhere", "enter", "tab", "tab", *"1.x", "enter")
        await settle(pilot)

    assert snap_compare(app_with(workdir, None), terminal_size=SIZE, run_before=type_wrong)


def test_form_complete(workdir: Path, snap_compare) -> None:
    async def to_the_end(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#done").focus()
        await pilot.pause()
        pilot.app.screen.query_one("#content").scroll_end(animate=False)
        await pilot.pause()

    assert snap_compare(
        app_with(workdir, complete_answers()), terminal_size=SIZE, run_before=to_the_end
    )


def test_plan_with_blockers_and_warnings(workdir: Path, snap_compare) -> None:
    answers = complete_answers(backup_server=False, integrations=True, integrations_list="DHIS2")
    assert snap_compare(
        app_with(workdir, answers, view="plan"), terminal_size=SIZE, run_before=settle
    )


def test_plan_scrolled_to_the_phases(workdir: Path, snap_compare) -> None:
    async def scroll(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("pagedown")
        await pilot.pause()

    assert snap_compare(
        app_with(workdir, complete_answers(current_version="1.3.2"), view="plan"),
        terminal_size=SIZE,
        run_before=scroll,
    )
