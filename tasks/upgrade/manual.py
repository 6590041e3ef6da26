"""The plan's by-hand steps: what crvs-migrate cannot do for the operator, confirmed by them.

Each applicable step the plan marks ``manual`` (the Ansible playbook on QA and on
production, testing integrations, telling staff to submit their drafts, resolving merge
conflicts, the certificate templates, reviewing environment variables, ...) appears in its
phase with a confirmation: who, when and a note, journalled, kept in the step's record
(``StepRecord.done_by_hand``) and so in the report. A phase is done only when each
applicable by-hand step is, except the recommended ones (``PlanStep.recommended``): they
never hold a phase back.
"""

from __future__ import annotations

from tasks.errors import CrvsError
from tasks.session.journal import Journal
from tasks.session.phases import StepStatus
from tasks.session.state import Session, StepRecord
from tasks.upgrade.plan import PlanStep, current_plan

MAX_NOTE = 500


def manual_steps(session: Session, phase_id: str) -> list[PlanStep]:
    """The by-hand steps of ``phase_id`` that apply to this installation, in plan order."""
    phase = current_plan(session).phase(phase_id)
    if phase.status.value != "applies":
        return []
    return [s for s in phase.steps if s.manual and s.applies]


def is_done(session: Session, phase_id: str, step_id: str) -> bool:
    return session.phase(phase_id).step(step_id).status is StepStatus.SUCCEEDED


def manual_missing(session: Session, phase_id: str) -> list[PlanStep]:
    """The required by-hand steps of ``phase_id`` not confirmed yet (recommended ones never
    count: they do not hold the phase back)."""
    return [
        s
        for s in manual_steps(session, phase_id)
        if not s.recommended and not is_done(session, phase_id, s.id)
    ]


def missing_text(session: Session, phase_id: str) -> str | None:
    """Why the phase is not done because of its by-hand steps, or None."""
    missing = manual_missing(session, phase_id)
    if not missing:
        return None
    names = "; ".join(s.title for s in missing)
    return f"By hand, still to confirm: {names}."


def confirm_manual_step(
    session: Session, journal: Journal, phase_id: str, step_id: str, note: str = ""
) -> StepRecord:
    """The operator says ``step_id`` is done: journalled (who, when, the note) and recorded."""
    step = next((s for s in manual_steps(session, phase_id) if s.id == step_id), None)
    if step is None:
        raise CrvsError(
            f"“{step_id}” is not a by-hand step of this phase in the current plan.",
            "Nothing to confirm",
        )
    note = " ".join(note.split())[:MAX_NOTE]
    what = f"done by hand: {step.title}" + (f" ({note})" if note else "")
    entry = journal.confirmation(what, phase=phase_id, step=step_id)
    rec = session.phase(phase_id).step(step_id)
    rec.done_by_hand(note or "confirmed done by hand", entry.by or "", at=entry.at)
    session.phase(phase_id).start(entry.at)
    return rec
