"""The base of every phase and view screen.

Screens stay thin: they show results from ``tasks`` and call ``tasks``
functions. They never import ``tui``; shared widgets (sidebar, output pane,
node table) reach them through the running app (``self.app.kit``), so imports
flow one way: tui -> screens -> tasks.

What a screen may use on ``self.app`` (see ``tui.app.CrvsMigrateApp``):
  session      the ``tasks.session.state.Session`` being worked on
  workspace    ``tasks.session.workspace.Workspace`` (state path, journal, logs dir, demo sandbox)
  kit          factories for shared widgets: ``kit.sidebar()``
  save_session()  persist the session atomically and refresh the sidebar
  navigate(view_id)  go to a phase or view
  show_error(exc)    show a ``tasks.errors.CrvsError`` in the error modal
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from tasks.session.phases import PHASES_BY_ID, VIEWS_BY_ID, PhaseStatus

if TYPE_CHECKING:
    from tasks.session.journal import Journal
    from tasks.session.state import Session
    from tasks.session.workspace import Workspace


class PhaseHeading(Static):
    """Title, summary and, for a skipped or blocked phase, why."""

    def __init__(self, view_id: str) -> None:
        super().__init__(id="phase-heading")
        self.view_id = view_id

    def render_heading(self, session: Session) -> Text:
        text = Text()
        if self.view_id in PHASES_BY_ID:
            p = PHASES_BY_ID[self.view_id]
            record = session.phase(p.id)
            text.append(f"Phase {p.number} of 9 · {p.title}\n", style="bold")
            text.append(f"{record.status.glyph} {record.status.label}", style="italic")
            text.append("  ")
            text.append(f"· {p.source}\n", style="dim")
            text.append(p.summary)
            if record.status in (PhaseStatus.SKIPPED, PhaseStatus.BLOCKED) and record.reason:
                label = "Skipped" if record.status is PhaseStatus.SKIPPED else "Blocked"
                text.append(f"\n{label}: ", style="bold")
                text.append(record.reason)
        else:
            v = VIEWS_BY_ID[self.view_id]
            text.append(f"{v.title}\n", style="bold")
            text.append(v.summary)
        return text

    def refresh_heading(self, session: Session) -> None:
        self.update(self.render_heading(session))


class PhaseScreen(Screen):
    """A phase or view: sidebar on the left, heading and body on the right."""

    VIEW_ID: ClassVar[str] = ""

    def __init__(self, view_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view_id = view_id or self.VIEW_ID

    # Convenience accessors for the app's services (duck-typed; see module doc).
    @property
    def session(self) -> Session:
        return self.app.session  # type: ignore[attr-defined]

    @property
    def workspace(self) -> Workspace:
        return self.app.workspace  # type: ignore[attr-defined]

    @property
    def journal(self) -> Journal:
        return self.workspace.journal

    def save_session(self) -> None:
        self.app.save_session()  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="frame"):
            yield self.app.kit.sidebar(self.view_id)  # type: ignore[attr-defined]
            with Vertical(id="body"):
                yield PhaseHeading(self.view_id)
                yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """What this phase shows under its heading. Override in each screen."""
        yield VerticalScroll(id="content")

    def on_mount(self) -> None:
        self.refresh_from_session()

    def on_screen_resume(self) -> None:
        # The session may have changed on another screen.
        self.refresh_from_session()

    def refresh_from_session(self) -> None:
        self.query_one(PhaseHeading).refresh_heading(self.session)
        sidebar = self.query_one("#sidebar")
        sidebar.refresh_statuses()  # type: ignore[attr-defined]
        sidebar.highlight(self.view_id)  # type: ignore[attr-defined]
        self.sub_title = self.title_for_header()

    def title_for_header(self) -> str:
        if self.view_id in PHASES_BY_ID:
            return PHASES_BY_ID[self.view_id].title
        return VIEWS_BY_ID[self.view_id].title
