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
from tasks.session.state import Session

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


def confirm_local_ok(session: Session, journal: Journal) -> None:
    what = "OpenCRVS started locally and its migrations finished"
    entry = journal.confirmation(what, phase=PHASE, step=START_STEP)
    phase = session.phase(PHASE)
    phase.step(START_STEP).done_by_hand(what, entry.by or "", at=entry.at)
    phase.step(MIGRATIONS_STEP).done_by_hand(what, entry.by or "", at=entry.at)
    phase.finish(entry.at)


def skip_local(session: Session, journal: Journal, reason: str) -> None:
    reason = reason.strip() or "OpenCRVS is not run locally"
    entry = journal.confirmation(f"Verify locally skipped: {reason}", phase=PHASE, step="local")
    session.phase(PHASE).skip(reason, at=entry.at)
