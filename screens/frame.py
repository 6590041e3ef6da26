"""What a screen may use of the running app: one typed handle, ``PhaseScreen.frame``.

Screens never import ``tui`` (imports flow tui -> screens -> tasks); the app
implements this protocol, and ``tui.app`` has mypy check that it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tasks.errors import CrvsError
    from tasks.local.process import RunningSteps
    from tasks.session.state import Session
    from tasks.session.workspace import Workspace


class Frame(Protocol):
    # The session being worked on, and where its files live (journal, logs, reports).
    session: Session
    workspace: Workspace
    # Steps running in any phase: quitting asks first while one runs.
    running_steps: RunningSteps

    def save_session(self) -> None:
        """Persist the session atomically and show status changes in the sidebar."""

    def save_session_soon(self) -> None:
        """Save once the next frame is drawn (what was typed shows first)."""

    def show_error(self, error: CrvsError) -> None:
        """The one place errors are shown (a modal with the error's title)."""

    def body_mounted(self) -> None:
        """A phase's body is mounted: keys held for it go on (``tui.held_keys``)."""

    def action_navigate(self, view_id: str) -> None:
        """Go to a phase or a view."""

    async def files_ready(self) -> None:
        """Wait (bounded) until the checkouts this session reads exist.

        Returns at once for real ones; in the demo, once its sandbox is built.
        """

    async def servers_ready(self) -> None:
        """Wait (bounded) until the servers this session talks to can answer.

        Returns at once for real servers; in the demo, once its cluster listens.
        """
