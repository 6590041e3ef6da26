"""Status lines are true: the sidebar and the phase heading say what the session says,
as soon as a step has run (not only after a phase is done or the screen is left)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.widgets import Button

from screens.modals.confirm import ChoiceModal
from screens.widgets.sidebar import PhaseSidebar
from tasks.servers.health import Health
from tasks.session.phases import PHASES_BY_ID
from tasks.session.state import save_session
from tests.support.app import make_app
from tests.support.evidence import qa_health
from tests.support.finished import finished_session
from tests.support.gitutil import fork_with_upgrade_branch, git
from tests.support.pilot import press_when_shown, started, static_text


async def _until(pilot, predicate, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await pilot.pause(0.05)


def _heading_status(app) -> str:
    """The status line under the heading's title: "◐ in progress  · migration notes …"."""
    return static_text(app, "#phase-heading").splitlines()[1]


def _sidebar_line(app, phase_id: str) -> str:
    prompt = app.screen.query_one("#sidebar", PhaseSidebar).get_option(phase_id).prompt
    return getattr(prompt, "plain", str(prompt))


async def test_release_is_in_progress_once_a_step_of_it_is_recorded(tmp_path: Path) -> None:
    repo, _ = fork_with_upgrade_branch(tmp_path)
    git(repo, "push", "-q", "origin", "upgrade-countryconfig-v1.3.5:master")  # the PR merged
    app = make_app(
        tmp_path / "state" / "session.toml",
        view="release",
        answers={"target_version": "1.3.5", "config_path": str(repo)},
    )
    async with app.run_test(size=(110, 50)) as pilot:
        await started(pilot)
        assert _heading_status(app).startswith("○ not started")
        await press_when_shown(pilot, app, "#merge-check")
        await _until(pilot, lambda: "✓" in static_text(app, "#merge-result"))
        await pilot.pause()
        assert _heading_status(app).startswith("◐ in progress"), _heading_status(app)
        assert _sidebar_line(app, "release").startswith("◐")


async def test_verify_locally_is_in_progress_while_the_start_runs(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    go_on = tmp_path / "go-on"
    # Like `yarn start`: it keeps running (until the test lets it end).
    script = f"echo started; while [ ! -e {go_on} ]; do sleep 0.05; done; echo migrations done"
    (cfg / "package.json").write_text(
        json.dumps({"name": "c", "version": "1.3.5", "scripts": {"start": script}})
    )
    app = make_app(
        tmp_path / "state" / "session.toml",
        view="verify_local",
        answers={"target_version": "1.3.5", "config_path": str(cfg)},
    )
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        assert _heading_status(app).startswith("○ not started")
        await press_when_shown(pilot, app, "#local-start")
        await _until(pilot, lambda: isinstance(app.screen, ChoiceModal) and app.screen.focused)
        app.screen.query_one("#choice-ignore", Button).press()  # node is not 16 here
        await _until(pilot, lambda: not isinstance(app.screen, ChoiceModal))
        pane = app.screen.query_one("#local-pane")
        await _until(pilot, lambda: any("started" in ln for ln in pane.lines))
        assert _heading_status(app).startswith("◐ in progress"), _heading_status(app)
        assert _sidebar_line(app, "verify_local").startswith("◐")
        go_on.touch()
        await _until(pilot, lambda: any("migrations done" in ln for ln in pane.lines))


async def test_back_up_production_reads_done_after_production_was_deployed(
    tmp_path: Path,
) -> None:
    f = await finished_session(tmp_path)
    # After production, QA moves on (redeployed, checked again, failing): the gate closes.
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="seconds")
    qa_health(f.session, Health.FAIL, at=later)
    f.session.current_view = "backup_production"
    save_session(f.workspace.state_path, f.session)
    app = make_app(f.workspace.state_path, load=True)
    async with app.run_test(size=(110, 50)) as pilot:
        await started(pilot)
        assert "LOCKED" in static_text(app, "#gate-panel")
        assert _heading_status(app).startswith("✓ done"), _heading_status(app)
        assert _sidebar_line(app, "backup_production").startswith("✓")


async def test_plans_heading_names_no_step_of_the_notes_as_its_own(tmp_path: Path) -> None:
    app = make_app(tmp_path / "s.toml", view="plan")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        heading = static_text(app, "#phase-heading")
        assert heading.startswith("Phase 2 of 9 · Plan")
        assert "Step 1" not in heading
        assert PHASES_BY_ID["plan"].source in heading
