"""Steps run detached: after the app went away, the next start reattaches a step still running
(its output so far, then live; cancel still ends its whole group), records one that ended
meanwhile with its real exit code and end time, and shows one whose supervisor died as
interrupted, its log kept."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from tasks.local.detached import RunFiles, supervisor_running
from tasks.local.steps import Step
from tasks.session.phases import StepStatus
from tasks.session.state import Session
from tasks.session.workspace import Workspace
from tests.support.app import make_app
from tests.support.detached_local import kill_group, leave_running, wait_ended
from tests.support.pilot import started
from tests.support.sandbox import group_gone

PY = sys.executable


def _installation(tmp_path: Path) -> tuple[Workspace, Session, Path]:
    core = tmp_path / "opencrvs-core"
    core.mkdir()
    workspace = Workspace(tmp_path / "state" / "session.toml")
    session = Session(current_view="update_core")
    from tasks.upgrade.answers import Answers

    Answers.of(session).core_path = str(core)
    workspace.save(session)
    return workspace, session, core


def _step(core: Path, script: str) -> Step:
    return Step("yarn_install", "Install dependencies", (PY, "-c", script), core)


async def until(pilot, condition, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def test_a_step_still_running_is_reattached_and_cancel_still_works(tmp_path: Path) -> None:
    workspace, session, core = _installation(tmp_path)
    script = "import time\nfor i in range(3): print(f'early {i}', flush=True)\ntime.sleep(60)\n"
    run = await leave_running(
        workspace, session, "update_core", _step(core, script), first_line="early 2"
    )
    try:
        assert session.phase("update_core").step("yarn_install").status is StepStatus.RUNNING
        app = make_app(workspace.state_path, load=True)
        async with app.run_test(size=(100, 34)) as pilot:
            screen = app.screen
            await until(pilot, lambda: getattr(screen, "current_run", None) is not None)
            followed = app.running_steps.get("update_core", "yarn_install")
            assert followed is screen.current_run and followed.reattached
            assert followed.pid == run.pid
            # Its output so far, from its log; the elapsed time from its real start.
            await until(pilot, lambda: "early 0" in screen.pane.lines, what="replayed lines")
            assert screen.pane.lines[:3] == ["early 0", "early 1", "early 2"]
            status = str(screen.pane.query_one(".output-status").render())
            command = str(screen.pane.query_one(".output-command").render())
            assert "running" in status and "reattached" in command
            assert followed.elapsed() >= run.elapsed() - 1
            # Quitting asks first, as for a step started here.
            assert app.running_steps.any()
            await pilot.press("x")
            rec = app.session.phase("update_core").step("yarn_install")
            await until(pilot, lambda: rec.status is StepStatus.CANCELLED, what="cancelled")
            assert group_gone(run.pid or -1)
            assert not app.running_steps.any()
    finally:
        kill_group(run.pid)
    commands = [e for e in workspace.journal.entries() if e["kind"] == "command"]
    assert [(c["step"], c["exit_code"]) for c in commands] == [("yarn_install", -signal.SIGTERM)]


async def test_a_step_whose_supervisor_died_is_interrupted_its_log_kept(tmp_path: Path) -> None:
    workspace, session, core = _installation(tmp_path)
    script = "import time\nprint('before the reboot', flush=True)\ntime.sleep(60)\n"
    run = await leave_running(
        workspace, session, "update_core", _step(core, script), first_line="before the reboot"
    )
    log = Path(session.phase("update_core").step("yarn_install").log_file or "")
    try:
        assert run.supervisor_pid is not None
        os.kill(run.supervisor_pid, signal.SIGKILL)  # as a reboot would, for the supervisor
        deadline = time.monotonic() + 10
        while supervisor_running(run.supervisor_pid, log.stem):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        app = make_app(workspace.state_path, load=True)
        async with app.run_test(size=(100, 34)) as pilot:
            await started(pilot)
            rec = app.session.phase("update_core").step("yarn_install")
            assert rec.status is StepStatus.INTERRUPTED
            assert "how it ended is not known" in rec.note and str(log) in rec.note
            heading = str(app.screen.query_one("#phase-heading").render())
            assert "Interrupted: yarn_install" in heading
            assert not app.running_steps.any()
    finally:
        kill_group(run.pid)
    assert "before the reboot" in log.read_text()  # kept, whole


async def test_a_step_that_ended_meanwhile_gets_its_real_exit_code(tmp_path: Path) -> None:
    workspace, session, core = _installation(tmp_path)
    script = "import time, sys\nprint('going', flush=True)\ntime.sleep(0.5)\nsys.exit(3)\n"
    run = await leave_running(
        workspace, session, "update_core", _step(core, script), first_line="going"
    )
    log = Path(session.phase("update_core").step("yarn_install").log_file or "")
    wait_ended(log)
    ended = RunFiles(log).read_status()
    assert ended is not None and run.result is None
    app = make_app(workspace.state_path, load=True)
    async with app.run_test(size=(100, 34)) as pilot:
        await started(pilot)
        rec = app.session.phase("update_core").step("yarn_install")
        assert rec.status is StepStatus.FAILED and rec.exit_code == 3
        assert rec.finished_at == ended.finished_at and rec.duration_s == ended.duration_s
        assert "while crvs-migrate was not running" in rec.note
        assert not app.running_steps.any()
    saved = workspace.journal.entries()
    commands = [e for e in saved if e["kind"] == "command"]
    assert [(c["step"], c["exit_code"]) for c in commands] == [("yarn_install", 3)]


async def test_quit_leaving_a_step_running_and_find_it_again(tmp_path: Path) -> None:
    import gc

    from screens.modals.confirm import ChoiceModal

    workspace, session, core = _installation(tmp_path)
    script = "import time\nprint('long one', flush=True)\ntime.sleep(60)\n"
    run = await leave_running(
        workspace, session, "update_core", _step(core, script), first_line="long one"
    )
    log = Path(session.phase("update_core").step("yarn_install").log_file or "")
    try:
        app = make_app(workspace.state_path, load=True)
        async with app.run_test(size=(100, 34)) as pilot:
            await until(pilot, lambda: app.running_steps.any())
            await pilot.press("ctrl+q")
            await until(
                pilot,
                lambda: (
                    isinstance(app.screen, ChoiceModal) and bool(app.screen.query("#choice-leave"))
                ),
            )
            app.screen.query_one("#choice-leave").press()
            await until(pilot, lambda: not app.is_running, what="exit")
        app.running_steps.runs.clear()
        gc.collect()
        # The app ended normally, its loop closed: the step still runs, saved as running.
        assert run.supervisor_pid is not None
        assert supervisor_running(run.supervisor_pid, log.stem)
        whats = [e.get("what", "") for e in workspace.journal.entries()]
        assert any(w.startswith("quit leaving steps running") for w in whats)
        again = make_app(workspace.state_path, load=True)
        async with again.run_test(size=(100, 34)) as pilot:
            await until(pilot, lambda: again.running_steps.get("update_core", "yarn_install"))
            rec = again.session.phase("update_core").step("yarn_install")
            assert rec.status is StepStatus.RUNNING
            again.running_steps.cancel_all()
            await until(pilot, lambda: rec.status is StepStatus.CANCELLED, what="cancelled")
    finally:
        kill_group(run.pid)
