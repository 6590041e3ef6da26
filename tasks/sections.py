"""The session file's sections, each with its owner, and the loader that parses them all.

| table     | owner (module)                 | what it holds                          |
|-----------|--------------------------------|----------------------------------------|
| answers   | ``tasks.upgrade.answers``      | Prepare's answers                      |
| plan      | ``tasks.upgrade.plan``         | the plan, the one before, the accepted |
| health    | ``tasks.servers.health``       | Cluster health runs, resources, nodes  |
| release   | ``tasks.release.publish``      | merge, tag, image, env check           |
| backup    | ``tasks.release.gate``         | the production gate's evidence         |
| deploy    | ``tasks.release.deploy``       | each environment's deploy              |

``open_session`` is how the app and the headless commands read a session: every
section is parsed at once (a damaged one is refused at load, never later in a
screen) and the loader refuses what no button can produce.
"""

from __future__ import annotations

from pathlib import Path

from tasks.release.deploy import DeployRecord, production_contradictions
from tasks.release.gate import BackupRecord, refresh_gate
from tasks.release.publish import ReleaseRecord
from tasks.servers.health import HealthRecord
from tasks.session.journal import Journal
from tasks.session.locations import journal_path
from tasks.session.state import Section, Session, StateCheck, load_session
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers
from tasks.upgrade.plan import PlanRecord

SECTIONS: tuple[type[Section], ...] = (
    Answers,
    PlanRecord,
    HealthRecord,
    ReleaseRecord,
    BackupRecord,
    DeployRecord,
)


# Only contradictions no button can produce: a production deploy crvs-migrate did not
# write. Evidence that fails its seal is not refused: it shows "edited outside
# crvs-migrate" and counts for nothing.
CHECKS: tuple[StateCheck, ...] = (production_contradictions,)


def open_session(path: Path) -> Session | None:
    """The session at ``path`` with every section parsed; None if there is none yet.

    Raises ``StateFileCorrupt`` / ``StateFileUnsupported`` (the file is left as it is).
    """
    session = load_session(path, SECTIONS, CHECKS)
    if session is not None:
        # Derived from evidence, never trusted from the file (a hand edit, or evidence
        # that changed after the phase was marked): recomputed in memory.
        refresh_gate(session, Journal(journal_path(Path(path).expanduser().absolute())))
    return session


def new_session(workspace: Workspace) -> Session:
    """A fresh session for this workspace (a demo one starts as its operator would)."""
    session = Session(demo=workspace.demo is not None)
    if workspace.demo is not None:
        from tasks.demo.seed import seed_session

        seed_session(session, workspace.demo)
    return session
