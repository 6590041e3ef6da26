"""Step records in the session: running, outcome, resume, phase status."""

from __future__ import annotations

import sys
from pathlib import Path

from tasks.local.steps import Step, make_run, needs_run, recover_interrupted, run_step
from tasks.sections import open_session
from tasks.session.phases import PhaseStatus, StepStatus
from tasks.session.state import Session
from tasks.session.workspace import Workspace


async def test_run_step_records_outcome_log_and_phase(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "state" / "session.toml")
    session = Session()
    saves: list[StepStatus] = []
    step = Step("hello", "Say hello", (sys.executable, "-c", "print('hello')"), tmp_path)
    run = make_run(step, phase_id="update_core", workspace=workspace)

    def save() -> None:
        saves.append(session.phase("update_core").step("hello").status)
        workspace.save(session)

    result = await run_step(step, run, phase_id="update_core", session=session, save=save)
    rec = session.phase("update_core").step("hello")
    assert result.ok and rec.status is StepStatus.SUCCEEDED and rec.exit_code == 0
    assert saves == [StepStatus.RUNNING, StepStatus.SUCCEEDED]
    assert rec.log_file and "hello" in Path(rec.log_file).read_text()
    assert Path(rec.log_file).parent == workspace.logs_dir
    assert session.phase("update_core").status is PhaseStatus.IN_PROGRESS
    # Resume: a succeeded step is not run again unless asked.
    reloaded = open_session(workspace.state_path)
    assert reloaded is not None
    assert not needs_run(reloaded, "update_core", step)
    assert needs_run(reloaded, "update_core", step, force=True)


async def test_failed_step_and_interrupted_step(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "s.toml")
    session = Session()
    step = Step("bad", "Fail", (sys.executable, "-c", "raise SystemExit(4)"), tmp_path)
    run = make_run(step, phase_id="merge_config", workspace=workspace)
    await run_step(step, run, phase_id="merge_config", session=session, save=lambda: None)
    rec = session.phase("merge_config").step("bad")
    assert rec.status is StepStatus.FAILED and rec.exit_code == 4 and "4" in rec.note
    assert needs_run(session, "merge_config", step)

    # The app stopped while a step ran: on the next start it is not "running" any more.
    session.phase("merge_config").step("merge").start()
    assert recover_interrupted(session, "merge_config") == ["merge"]
    # It did not finish here: "interrupted", with a note saying so (not "cancelled").
    interrupted = session.phase("merge_config").step("merge")
    assert interrupted.status is StepStatus.INTERRUPTED
    assert "stopped while this step was running" in interrupted.note
