"""Verify locally: the country config's own start command, and the operator's confirmation.

OpenCRVS runs its migrations automatically when it starts; the app cannot see
inside the local stack, so the operator confirms it came up and migrations
finished (journalled), or skips the phase with a reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from tasks.errors import CrvsError
from tasks.session.journal import Journal
from tasks.session.phases import StepStatus
from tasks.session.state import Session
from tasks.upgrade.manual import missing_text

PHASE = "verify_local"
# The plan's step ids (tasks.upgrade.plan).
START_STEP = "start_locally"
MIGRATIONS_STEP = "local_migrations"
# The 1.3 docs start the country config with `yarn dev`; older forks use `yarn start`.
START_SCRIPTS = ("dev", "start")


def start_command(config_path: Path) -> list[str]:
    """``yarn dev`` or ``yarn start``, whichever the country config's package.json defines."""
    try:
        data = json.loads((Path(config_path) / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CrvsError(
            f"Cannot read {config_path}/package.json ({exc.__class__.__name__}).",
            "No package.json",
        ) from None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    for name in START_SCRIPTS:
        if isinstance(scripts, dict) and name in scripts:
            return ["yarn", name]
    raise CrvsError(
        f"{config_path}/package.json has no 'dev' or 'start' script.", "No start command"
    )


def start_failed(session: Session) -> str | None:
    """How the start run here ended when it did not come up on its own (it failed, or was
    interrupted), or None: confirming "it came up" then needs a typed reason."""
    rec = session.phase(PHASE).step(START_STEP)
    if rec.status in (StepStatus.FAILED, StepStatus.INTERRUPTED):
        return f"{rec.status.label}: {rec.note}" if rec.note else rec.status.label
    return None


def confirm_local_ok(session: Session, journal: Journal, reason: str = "") -> None:
    """The operator says the local stack came up and its migrations finished (journalled).

    A start that failed here needs ``reason`` (why it came up all the same: started in
    another terminal, ...). The phase is done once the plan's by-hand steps of this phase
    are confirmed too.
    """
    reason = " ".join(reason.split())
    failed = start_failed(session)
    if failed and not reason:
        raise CrvsError(
            f"The start run here {failed}. Say why OpenCRVS came up all the same (for example "
            "that you started it in another terminal).",
            "A reason is needed",
        )
    what = "OpenCRVS started locally and its migrations finished"
    if failed:
        what += f", although the start here {failed}: {reason}"
    entry = journal.confirmation(what, phase=PHASE, step=START_STEP)
    phase = session.phase(PHASE)
    phase.step(START_STEP).done_by_hand(what, entry.by or "", at=entry.at)
    phase.step(MIGRATIONS_STEP).done_by_hand(what, entry.by or "", at=entry.at)
    phase.start(entry.at)
    if missing_text(session, PHASE) is None:
        phase.finish(entry.at)


def skip_local(session: Session, journal: Journal, reason: str) -> None:
    reason = reason.strip() or "OpenCRVS is not run locally"
    entry = journal.confirmation(f"Verify locally skipped: {reason}", phase=PHASE, step="local")
    session.phase(PHASE).skip(reason, at=entry.at)
