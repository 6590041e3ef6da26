"""A step's command run in an output pane: the one way every screen runs a command.

``run_in_pane`` builds the ``ProcessRun`` (log file, journal, the pane's batched
``write_lines``), registers it with the app's running steps (quitting asks first), keeps
the step's record in the session up to date (``tasks.local.steps.run_step``) and shows
how it ended in the pane, cancelled and failed runs included.

Steps run detached from the app (``tasks.local.process``): after a restart the app
follows a step that was still running (``tasks.local.steps.reattach``), and
``follow_in_pane`` shows such a run in a pane: the output so far from its log, then live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from screens.frame import Frame
from screens.widgets.output_pane import OutputPane
from tasks.errors import CrvsError
from tasks.local.process import ProcessResult, ProcessRun, log_path_for
from tasks.local.steps import Step, run_step
from tasks.servers.detached import Connect, FollowEvents, RemoteRunRecord, RunFile, follow_run


def finish_pane(pane: OutputPane, result: ProcessResult, detail: str = "") -> None:
    """How ``result`` ended, in ``pane`` (with the log's path when it did not succeed)."""
    if not detail and not result.ok and result.log_file is not None:
        detail = f"Full output: {result.log_file}"
    pane.finish(
        result.exit_code,
        result.duration_s,
        cancelled=result.cancelled,
        interrupted=result.interrupted,
        detail=detail,
    )


async def run_in_pane(
    frame: Frame,
    pane: OutputPane,
    phase_id: str,
    step: Step,
    *,
    key: str | None = None,
    record_step: bool = True,
    env: dict[str, str] | None = None,
    on_start: Callable[[ProcessRun], None] | None = None,
) -> ProcessResult:
    """Run ``step`` with its output streaming into ``pane``.

    ``key`` names the log file and the journal entry (default: the step id);
    ``record_step=False`` runs a helper command (a stash) without a step record.
    ``on_start`` gets the run as soon as it exists (so the screen can cancel it).
    """
    key = key or step.id
    run = ProcessRun(
        step.command,
        log_file=log_path_for(frame.workspace.logs_dir, phase_id, key),
        journal=frame.workspace.journal,
        phase=phase_id,
        step=key,
        on_lines=pane.write_lines,
        env=env,
    )
    if on_start is not None:
        on_start(run)
    frame.running_steps.add(phase_id, key, run)
    pane.start(step.argv, step.cwd)
    try:
        if record_step:
            result = await run_step(
                step, run, phase_id=phase_id, session=frame.session, save=frame.save_session
            )
        else:
            result = await run.run()
    except asyncio.CancelledError:
        if run.result is not None:
            finish_pane(pane, run.result)
        raise
    except CrvsError:
        pane.finish(None, run.elapsed())
        raise
    finally:
        frame.running_steps.remove(phase_id, key)
    finish_pane(pane, result)
    return result


async def follow_in_pane(frame: Frame, pane: OutputPane, run: ProcessRun) -> ProcessResult:
    """Show a run someone else follows (a step reattached after a restart) in ``pane``."""
    note = "reattached: it kept running while crvs-migrate was away" if run.reattached else ""
    pane.start(run.command.argv, run.command.cwd, elapsed=run.elapsed(), note=note)
    run.subscribe(pane.write_lines, replay=True)
    try:
        result = await run.wait()
    finally:
        run.unsubscribe(pane.write_lines)
    finish_pane(pane, result)
    return result


async def run_remote_in_pane(
    frame: Frame,
    pane: OutputPane,
    phase_id: str,
    record: RemoteRunRecord,
    connect: Connect,
    *,
    start: bool,
    stdin_text: str = "",
    file: RunFile | None = None,
    title: str = "",
) -> RemoteRunRecord:
    """Run ``record`` detached on its server (``start``) or reattach to it, its log streaming
    into ``pane``; journalled when it ends. A dropped connection is said in the pane and
    retried: the command goes on on the server meanwhile."""
    if start and frame.workspace.read_only:
        from tasks.errors import ReadOnlySession

        raise ReadOnlySession(f"Running `{' '.join(record.argv[:2])}` on {record.node}")
    where = f"{record.node} ({record.where})"
    pane.start(
        record.argv,
        f"on {where}",
        elapsed=record.elapsed_s() if not start else 0.0,
        note=title or ("reattached: it ran on while crvs-migrate was away" if not start else ""),
    )

    def reconnecting(attempt: int, wait: float, why: str) -> None:
        pane.set_note(
            f"connection lost, reconnecting in {wait:.0f} s (try {attempt}); "
            "the command goes on on the server"
        )

    events = FollowEvents(
        on_lines=pane.write_lines,
        on_reconnecting=reconnecting,
        on_reattached=lambda: pane.set_note("reconnected"),
    )
    try:
        done = await follow_run(
            connect, record, events=events, start=start, stdin_text=stdin_text, file=file
        )
    except CrvsError as exc:
        pane.finish(None, record.elapsed_s())
        pane.set_status(f"✗ {exc.message} (the run may go on on the server: reattach later)")
        raise
    entry = frame.workspace.journal.command(
        done.argv,
        None,
        done.started_at,
        done.finished_at,
        done.exit_code,
        duration_s=done.duration_s(),
        phase=phase_id,
        step=done.run_id,
        host=done.host,
    )
    done.journal_id = entry.id
    pane.finish(done.exit_code, done.duration_s() or record.elapsed_s())
    if done.state == "interrupted":
        pane.set_status(f"✗ interrupted: {done.note}", "bold red")
    return done
