"""Where one session's files live, and the session itself while the app runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.session import locations
from tasks.session.journal import Journal
from tasks.session.state import Session, save_session

if TYPE_CHECKING:
    from tasks.demo.sandbox import DemoSandbox


@dataclass
class Workspace:
    """A state file and everything kept beside it (journal, step logs, reports).

    Read a session with ``tasks.sections.open_session(workspace.state_path)``.
    """

    state_path: Path
    demo: DemoSandbox | None = None
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        self.state_path = Path(self.state_path).expanduser().absolute()
        self.journal = Journal(locations.journal_path(self.state_path))

    @property
    def logs_dir(self) -> Path:
        return locations.logs_dir(self.state_path)

    @property
    def reports_dir(self) -> Path:
        return locations.reports_dir(self.state_path)

    def save(self, session: Session) -> None:
        save_session(self.state_path, session)
