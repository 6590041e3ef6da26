"""Steps of a phase: a stable id, a title, the exact command, and its record in the session.

A step's record lives in ``session.phases[<phase>].steps[<step id>]``. A step that
succeeded is not run again on resume unless the operator asks (``needs_run``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tasks.local.process import Command, LinesCallback, ProcessResult, ProcessRun, log_path_for
from tasks.session.phases import StepStatus
from tasks.session.state import Session, StepRecord
from tasks.session.workspace import Workspace


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    argv: tuple[str, ...]
    cwd: Path
    # What a step needs checked before it may run: "git" (a repository), "clean"
    # (no local changes a checkout/pull/merge could overwrite), "yarn" (yarn, node).
    needs: tuple[str, ...] = ()
    why: str = ""

    @property
    def command(self) -> Command:
        return Command(self.argv, self.cwd)


def record(session: Session, phase_id: str, step_id: str) -> StepRecord:
    return session.phase(phase_id).step(step_id)


def needs_run(session: Session, phase_id: str, step: Step, *, force: bool = False) -> bool:
    """False for a step that already succeeded, unless the operator asked (``force``)."""
    return force or record(session, phase_id, step.id).status is not StepStatus.SUCCEEDED


# The journal event noting each one (the report lists it even after the step ran again).
INTERRUPTED_EVENT = "Step interrupted: "


def recover_interrupted(session: Session, phase_id: str) -> list[str]:
    """A step saved as running when the app starts was interrupted: it did not finish.
    The caller journals ``INTERRUPTED_EVENT + step_id`` for each id returned."""
    ids = []
    for step_id, rec in session.phase(phase_id).steps.items():
        if rec.status is StepStatus.RUNNING:
            rec.interrupt("crvs-migrate stopped while this step was running")
            ids.append(step_id)
    return ids


def all_succeeded(session: Session, phase_id: str, steps: list[Step]) -> bool:
    return all(record(session, phase_id, s.id).status is StepStatus.SUCCEEDED for s in steps)


def make_run(
    step: Step,
    *,
    phase_id: str,
    workspace: Workspace,
    on_lines: LinesCallback | None = None,
) -> ProcessRun:
    return ProcessRun(
        step.command,
        log_file=log_path_for(workspace.logs_dir, phase_id, step.id),
        journal=workspace.journal,
        phase=phase_id,
        step=step.id,
        on_lines=on_lines,
    )


async def run_step(
    step: Step,
    run: ProcessRun,
    *,
    phase_id: str,
    session: Session,
    save: Callable[[], None],
) -> ProcessResult:
    """Run ``step`` through ``run``, keeping its record in the session up to date."""
    rec = record(session, phase_id, step.id)
    rec.start(str(run.log_file) if run.log_file else None)
    session.phase(phase_id).start()
    save()
    try:
        result = await run.run()
    except BaseException as exc:
        if run.result is not None and run.result.cancelled:
            rec.cancel(
                "cancelled", exit_code=run.result.exit_code, duration_s=run.result.duration_s
            )
        else:
            rec.fail(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        save()
        raise
    code, took, at = result.exit_code, result.duration_s, result.finished_at
    if result.cancelled:
        rec.cancel(exit_code=code, duration_s=took, at=at)
    elif result.ok:
        rec.succeed(exit_code=code, duration_s=took, at=at)
    else:
        rec.fail(f"exit code {code}", exit_code=code, duration_s=took, at=at)
    save()
    return result
