"""A step left running by a crvs-migrate that went away: started for real (its supervisor,
its log, its record saved as running), then no longer followed, as after a kill."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from tasks.local.process import ProcessRun
from tasks.local.steps import Step, run_step
from tasks.session.state import Session
from tasks.session.workspace import Workspace
from tests.support.sandbox import group_members


async def leave_running(
    workspace: Workspace,
    session: Session,
    phase_id: str,
    step: Step,
    *,
    first_line: str,
    log_name: str | None = None,
) -> ProcessRun:
    """Run ``step`` until ``first_line`` shows, then stop following it (the app "dies")."""
    seen = asyncio.Event()

    def lines(batch: list[str]) -> None:
        if first_line in batch:
            seen.set()

    log = workspace.logs_dir / (log_name or f"{phase_id}-{step.id}.log")
    run = ProcessRun(
        step.command,
        log_file=log,
        journal=workspace.journal,
        phase=phase_id,
        step=step.id,
        on_lines=lines,
    )
    task = asyncio.create_task(
        run_step(
            step, run, phase_id=phase_id, session=session, save=lambda: workspace.save(session)
        )
    )
    await asyncio.wait_for(seen.wait(), 20)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return run


def kill_group(pgid: int | None) -> None:
    """Whatever is left of a step's process group (a test's own clean-up)."""
    if pgid is None:
        return
    for pid in group_members(pgid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_ended(log: Path, timeout: float = 20.0) -> None:
    import time

    status = log.with_name(f"{log.stem}.status.json")
    deadline = time.monotonic() + timeout
    while not status.exists():
        assert time.monotonic() < deadline, f"{status} never appeared"
        time.sleep(0.05)
