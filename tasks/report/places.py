"""Where something happened, in the operator's words: a phase and its step by their titles.

The plan's step titles name steps; the journal's own step names (``merge``, ``backup``,
``sign_off``, ...) have their words here; and the step screens' record ids that differ from
the plan's (``merge`` for ``merge_upstream``) are mapped to the plan's step.
"""

from __future__ import annotations

from tasks.session.phases import PHASES_BY_ID, VIEWS_BY_ID, StepStatus
from tasks.session.state import Session, StepRecord
from tasks.upgrade.plan import current_plan


def where(session: Session, phase: str, step: str = "") -> str:
    """``Deploy to production › Deploy v1.3.5 …`` in words (the plan's step title where known)."""
    if phase in PHASES_BY_ID:
        title = PHASES_BY_ID[phase].title
    elif phase in VIEWS_BY_ID:
        title = VIEWS_BY_ID[phase].title
    else:
        title = phase
    if not step:
        return title
    return f"{title} › {step_title(session, phase, step)}"


def step_title(session: Session, phase: str, step: str) -> str:
    """The plan's title of a step; for the journal's own step names, their words."""
    if phase in PHASES_BY_ID:
        found = current_plan(session).phase(phase).step(step)
        if found is not None:
            return found.title
    return JOURNAL_STEPS.get(step, step.replace("_", " "))


# Step names the screens journal under that are not the plan's step ids.
JOURNAL_STEPS = {
    "merge": "Merge the upgrade pull request",
    "tag": "Tag the release",
    "push_tag": "Push the tag",
    "backup": "Emergency backup",
    "verify": "Verify the backup on the backup server",
    "restore": "Restore the backup on QA",
    "restore_records": "Check the restored records",
    "drafts": "Tell staff to submit their drafts",
    "risk": "Migration-duration risk",
    "local": "Verify locally",
    "change": "Change number and window",
    "approver": "Approvers",
    "sign_off": "Sign-off",
    "closing_note": "Closing note",
}


# Step ids the step screens record under that are not the plan's (the same step).
STEP_ALIASES = {
    ("update_core", "yarn"): "yarn_install",
    ("merge_config", "branch"): "upgrade_branch",
    ("merge_config", "merge"): "merge_upstream",
    ("merge_config", "yarn"): "yarn_install",
}


def step_record(session: Session, phase: str, step: str) -> StepRecord | None:
    """The record of a plan step, under its own id or the id its screen records it as."""
    rec = session.phase(phase).steps.get(step)
    if rec is not None and rec.status is not StepStatus.NOT_STARTED:
        return rec
    for (alias_phase, alias), planned in STEP_ALIASES.items():
        if alias_phase == phase and planned == step and alias in session.phase(phase).steps:
            return session.phase(phase).steps[alias]
    return rec
