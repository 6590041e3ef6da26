"""Steps of a phase: a stable id, a title, the exact command, and its record in the session.

A step's record lives in ``session.phases[<phase>].steps[<step id>]``. A step that
succeeded is not run again on resume unless the operator asks (``needs_run``).

Steps run detached (``tasks.local.process``): a step saved as running when the app
starts may still run, may have ended while the app was away, or may have lost its
supervisor. ``reconcile_running`` tells which, once, when a session is opened: it
returns the runs to follow again and records the others (real exit code and end time,
or "interrupted" with its log kept).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import field
from pathlib import Path

from tasks.errors import CrvsError
from tasks.lean import dataclass
from tasks.local.process import Command, LinesCallback, ProcessResult, ProcessRun, log_path_for
from tasks.session.journal import Journal
from tasks.session.phases import StepStatus
from tasks.session.state import Session, StepRecord
from tasks.session.workspace import Workspace

INTERRUPTED_NOTE = "crvs-migrate stopped while this step was running"
# Who did a step the checkout shows done although crvs-migrate did not run it.
OUTSIDE = "outside crvs-migrate"


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
    """Steps of ``phase_id`` saved as running with no run to follow: interrupted.

    For sessions opened without ``reconcile_running`` (a step whose supervisor is known to
    be gone); a step still followed is listed in the app's running steps instead.
    """
    ids = []
    for step_id, rec in session.phase(phase_id).steps.items():
        if rec.status is StepStatus.RUNNING:
            rec.interrupt(INTERRUPTED_NOTE)
            ids.append(step_id)
    return ids


@dataclass
class Reconciled:
    """What ``reconcile_running`` found among the steps saved as running."""

    # Still running: follow them again (phase id, step id, run).
    running: list[tuple[str, str, ProcessRun]] = field(default_factory=list)
    # Ended while the app was away: recorded with their real exit code and end time.
    ended: list[tuple[str, str]] = field(default_factory=list)
    # Their supervisor stopped before they ended (or they never started): interrupted.
    interrupted: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.ended or self.interrupted)


def reconcile_running(session: Session, workspace: Workspace) -> Reconciled:
    """Steps saved as running, as they are now (see the module docstring)."""
    found = Reconciled()
    for phase_id, phase in session.phases.items():
        for step_id, rec in phase.steps.items():
            if rec.status is not StepStatus.RUNNING:
                continue
            run = None
            if rec.log_file:
                run = ProcessRun.attach(
                    Path(rec.log_file), journal=workspace.journal, phase=phase_id, step=step_id
                )
            if run is None:
                rec.interrupt(INTERRUPTED_NOTE + " (it left no record of its run)")
                found.interrupted.append((phase_id, step_id))
                continue
            result = run.ended_result()
            if result is None and run.alive():
                found.running.append((phase_id, step_id, run))
                continue
            result = run.ended_result() or run.interrupted_result()
            record_result(rec, result, away=True)
            (found.interrupted if result.interrupted else found.ended).append((phase_id, step_id))
    # The journal keeps each one (the report lists it even after the step ran again).
    for phase_id, step_id in found.interrupted:
        workspace.journal.event(INTERRUPTED_EVENT + step_id, phase=phase_id)
    return found


def record_result(rec: StepRecord, result: ProcessResult, *, away: bool = False) -> None:
    """A run's outcome in its step record (``away``: it ended while the app was not running)."""
    code, took, at = result.exit_code, result.duration_s, result.finished_at
    suffix = " (while crvs-migrate was not running)" if away else ""
    if result.interrupted:
        rec.interrupt(
            "its supervisor stopped before the step ended (the machine restarted, or it was "
            f"killed): how it ended is not known; its log is kept: {result.log_file}",
            at=at,
        )
    elif result.cancelled:
        rec.cancel("cancelled" + suffix, exit_code=code, duration_s=took, at=at)
    elif result.ok:
        rec.succeed(exit_code=code, duration_s=took, at=at, note=suffix.strip(" ()"))
    else:
        rec.fail(f"exit code {code}" + suffix, exit_code=code, duration_s=took, at=at)


def mark_done_by_hand(
    session: Session, journal: Journal, phase_id: str, step_id: str, reason: str
) -> StepRecord:
    """The operator fixed a failed step outside the app and says so, with a reason:
    journalled (who, when, why) and recorded as done by hand (the report shows it)."""
    reason = " ".join(reason.split())
    if not reason:
        raise CrvsError("Say why the step is done (what you ran, where).", "A reason is needed")
    rec = record(session, phase_id, step_id)
    entry = journal.confirmation(
        f"done by hand after it failed here: {step_id} ({reason})", phase=phase_id, step=step_id
    )
    rec.done_by_hand(f"done by hand: {reason}", entry.by or "", at=entry.at)
    return rec


def mark_done_outside(
    session: Session, journal: Journal, phase_id: str, step_id: str, evidence: str
) -> StepRecord:
    """The checkout shows a step done in the operator's own shell: journalled as done
    outside the app, with what shows it."""
    rec = record(session, phase_id, step_id)
    entry = journal.event(f"done outside crvs-migrate: {step_id} ({evidence})", phase=phase_id)
    rec.done_by_hand(f"done outside crvs-migrate: {evidence}", OUTSIDE, at=entry.at)
    session.phase(phase_id).start(entry.at)
    return rec


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
    """Run ``step`` through ``run``, keeping its record in the session up to date.

    Cancelled as a task (the app quits or dies): the step goes on and stays "running"
    in the session, to be reattached on the next start.
    """
    rec = record(session, phase_id, step.id)
    rec.start(str(run.log_file) if run.log_file else None)
    session.phase(phase_id).start()
    save()
    try:
        result = await run.run()
    except asyncio.CancelledError:
        if run.result is not None:
            record_result(rec, run.result)
            save()
        elif run.supervisor_pid is None:
            rec.cancel("cancelled before it started")
            save()
        raise
    except BaseException as exc:
        rec.fail(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        save()
        raise
    record_result(rec, result)
    save()
    return result


async def follow_step(
    run: ProcessRun,
    *,
    phase_id: str,
    step_id: str,
    session: Session,
    save: Callable[[], None],
) -> ProcessResult:
    """Follow a reattached ``run`` to its end and record how it ended."""
    result = await run.follow()
    record_result(record(session, phase_id, step_id), result)
    save()
    return result
