"""Where one session's files live, and the session itself while the app runs.

The workspace also carries how this instance may use them:
- ``lock``: one writer per session (``tasks.session.lock``); ``read_only`` when another
  instance holds it and the operator chose to look anyway: nothing is saved, recorded
  or run.
- ``confine_to``: in a served demo, the one directory tree the app may read or run
  anything in (``check_path`` refuses paths that lead elsewhere).
"""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.errors import CrvsError, ReadOnlySession
from tasks.lean import dataclass
from tasks.session import locations
from tasks.session.journal import Journal
from tasks.session.lock import SessionLock
from tasks.session.state import Session, save_session

if TYPE_CHECKING:
    from tasks.demo.sandbox import DemoSandbox


class OutsideSandbox(CrvsError):
    title = "Outside the demo sandbox"


@dataclass
class Workspace:
    """A state file and everything kept beside it (journal, step logs, reports).

    Read a session with ``tasks.sections.open_session(workspace.state_path)``.
    """

    state_path: Path
    demo: DemoSandbox | None = None
    confine_to: Path | None = None
    journal: Journal = field(init=False)
    lock: SessionLock = field(init=False)

    def __post_init__(self) -> None:
        self.state_path = Path(self.state_path).expanduser().absolute()
        self.journal = Journal(locations.journal_path(self.state_path))
        self.lock = SessionLock(locations.lock_path(self.state_path))
        if self.confine_to is not None:
            self.confine_to = Path(self.confine_to).resolve()

    @property
    def logs_dir(self) -> Path:
        return locations.logs_dir(self.state_path)

    @property
    def reports_dir(self) -> Path:
        return locations.reports_dir(self.state_path)

    # -- one writer ---------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.journal.read_only

    def open_read_only(self) -> None:
        """View the session without ever writing it (another instance holds it)."""
        self.journal.read_only = True

    def save(self, session: Session) -> None:
        """Raises ``StateWriteError``; in a read-only view, ``ReadOnlySession``."""
        if self.read_only:
            raise ReadOnlySession("Saving")
        save_session(self.state_path, session)

    # -- confinement (served demo) ----------------------------------------------------

    def path_problem(self, path: str | os.PathLike[str]) -> str | None:
        """Why this instance may not read or run anything at ``path``; ``None`` if it may."""
        if self.confine_to is None:
            return None
        text = os.path.expanduser(str(path).strip())
        if not text:
            return None
        resolved = Path(text).resolve() if os.path.isabs(text) else (Path.cwd() / text).resolve()
        if resolved == self.confine_to or resolved.is_relative_to(self.confine_to):
            return None
        return (
            f"{text} is outside the demo sandbox ({self.confine_to}): a served demo reads "
            "and runs nothing anywhere else"
        )

    def allowed(self, path: str | os.PathLike[str]) -> Path | None:
        """``path`` as a Path, or ``None`` when it leads outside the sandbox (the answer
        that named it was refused where it was typed; readers fall back as if unset)."""
        return None if self.path_problem(path) else Path(os.path.expanduser(str(path).strip()))

    def check_path(self, path: str | os.PathLike[str]) -> Path:
        """``path`` as a Path; raises ``OutsideSandbox`` when it leads outside the sandbox."""
        problem = self.path_problem(path)
        if problem:
            raise OutsideSandbox(problem + ".")
        return Path(os.path.expanduser(str(path).strip()))
