"""The base of every phase and view screen.

Screens stay thin: they show results from ``tasks`` and call ``tasks``
functions. They never import ``tui``: the app's services reach them through one
typed handle, ``self.frame`` (``screens.frame.Frame``), and shared widgets come
from ``screens.widgets``. Errors (``tasks.errors.CrvsError``) raised in a handler
or a worker are shown by the app in one place: screens just raise them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.compose import compose
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget

from screens.frame import Frame
from screens.widgets.keys import KeyBar
from screens.widgets.sidebar import PhaseSidebar
from screens.widgets.status_text import StatusText
from screens.widgets.title_bar import TitleBar
from tasks.errors import CrvsError
from tasks.session.phases import PHASES_BY_ID, VIEWS_BY_ID, PhaseStatus, StepStatus

if TYPE_CHECKING:
    from tasks.session.journal import Journal
    from tasks.session.state import Session
    from tasks.session.workspace import Workspace


def quiet_focus() -> Reactive[Widget | None]:
    """A screen's ``focused``, declared again so that a focus move repaints only the widgets
    it leaves and reaches (they restyle and repaint themselves). Textual's
    ``Screen.focused`` repaints the whole screen, a dialog's dimmed phase below included:
    about 20 KB at 120x40 on every Tab, which an operator on a slow link waits for."""
    return Reactive(None, repaint=False)


class PhaseHeading(StatusText):
    """Title, summary and, for a skipped or blocked phase, why."""

    def __init__(self, view_id: str, session: Session | None = None) -> None:
        # Drawn whole in the screen's first frame (not one frame later, after on_mount).
        shown = self.render_heading(session, view_id) if session is not None else ""
        super().__init__(shown, id="phase-heading")
        self.view_id = view_id

    def render_heading(self, session: Session, view_id: str | None = None) -> Text:
        view_id = view_id or self.view_id
        text = Text()
        if view_id in PHASES_BY_ID:
            p = PHASES_BY_ID[view_id]
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
            interrupted = [
                sid for sid, s in record.steps.items() if s.status is StepStatus.INTERRUPTED
            ]
            if interrupted:
                text.append("\n! Interrupted: ", style="bold")
                text.append(
                    ", ".join(interrupted)
                    + " (crvs-migrate stopped while it ran; see its note and log)"
                )
        else:
            v = VIEWS_BY_ID[view_id]
            text.append(f"{v.title}\n", style="bold")
            text.append(v.summary)
        return text

    def refresh_heading(self, session: Session) -> None:
        self.update(self.render_heading(session))  # unchanged, it costs no layout


class PhaseBody(Vertical):
    """The right of the frame: the heading, then what the phase shows under it, composed
    and mounted once the screen's first frame is drawn (``PhaseScreen.on_screen_resume``).

    A key switches to a phase: its sidebar, heading and keys are on screen at once, and
    the rest follows a frame later, instead of the operator waiting for all of it. Keys
    pressed meanwhile wait for the body (``tui.held_keys``).
    """

    DEFAULT_CSS = """
    PhaseBody {
        width: 1fr;
        height: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, heading: PhaseHeading, make: Callable[[], ComposeResult]) -> None:
        super().__init__(heading, id="body")
        self._make: Callable[[], ComposeResult] | None = make

    async def mount_later(self) -> None:
        make, self._make = self._make, None
        if make is not None and self.is_attached:
            await self.mount_all(compose(self, make()))


class PhaseScreen(Screen):
    """A phase or view: sidebar on the left, heading and body on the right."""

    VIEW_ID: ClassVar[str] = ""

    # A focus move repaints the two widgets it concerns, a body taking the focus on its
    # first show included.
    focused: Reactive[Widget | None] = quiet_focus()

    def __init__(self, view_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view_id = view_id or self.VIEW_ID
        self._body_shown = asyncio.Event()
        self.sub_title = self.title_for_header()
        # The layout's breakpoint class before anything is composed: set after the first
        # layout (as Textual does) it would restyle every widget once more.
        self._update_breakpoint()

    @property
    def frame(self) -> Frame:
        """The running app's services (``tui.app.CrvsMigrateApp`` implements ``Frame``)."""
        return cast(Frame, self.app)

    @property
    def session(self) -> Session:
        return self.frame.session

    @property
    def workspace(self) -> Workspace:
        return self.frame.workspace

    @property
    def journal(self) -> Journal:
        return self.workspace.journal

    def save_session(self) -> None:
        self.frame.save_session()

    def still_shown(self) -> bool:
        """Whether the app still shows this screen's widgets: a worker that waited (git,
        the demo's servers) checks it before filling them, as the app may be quitting."""
        # is_attached turns False once the app is exiting; is_running once it shuts down.
        return self.is_attached and self.app.is_running

    async def _dispatch_message(self, message: Message) -> None:
        if isinstance(message, events.ScreenSuspend):
            self._styled_against = self._style_inputs()
        elif isinstance(message, events.ScreenResume) and message.refresh_styles:
            # Textual restyles the whole screen on resume, for what may have changed
            # while it was hidden. Shown for the first time with nothing changed since
            # its mount styled every widget (at once, or built ahead while hidden), or
            # shown again with nothing changed, that computes the same styles again (a
            # quarter of a first visit's time, a third of a revisit's).
            if self._styled_against == self._style_inputs():
                message = events.ScreenResume(refresh_styles=False)
        # Errors are shown in one place: a CrvsError raised by any handler of this screen
        # goes to the app's error modal, and the screen goes on (Textual would stop the
        # screen's message loop). Workers' errors reach the app the same way.
        try:
            await super()._dispatch_message(message)
        except CrvsError as error:
            self.frame.show_error(error)

    # What this screen's styles were last computed against, when it was hidden.
    _styled_against: tuple[object, ...] | None = None

    def _style_inputs(self) -> tuple[object, ...]:
        """What outside a hidden screen its styles depend on: the stylesheet (a theme or
        CSS change counts), the app's classes (read-only) and pseudo-classes (terminal
        focus, dark), and the terminal's size (the breakpoint classes)."""
        app = self.app
        return (app._css_update_count, frozenset(app.classes), app.pseudo_classes, app.size)

    def _update_breakpoint(self) -> None:
        """The app's horizontal breakpoint class for the terminal's width (``-narrow`` /
        ``-wide``), as Textual's resize handler sets it."""
        try:
            app = self.app
        except Exception:  # noqa: BLE001 - made outside a running app
            return
        breakpoints = (
            app.HORIZONTAL_BREAKPOINTS
            if self.HORIZONTAL_BREAKPOINTS is None
            else self.HORIZONTAL_BREAKPOINTS
        ) or []
        width = app.size.width
        chosen = next(
            (name for low, name in sorted(breakpoints, reverse=True) if width >= low), None
        )
        self.update_classes({name: name == chosen for _, name in breakpoints})

    def compose(self) -> ComposeResult:
        # Few layers: the compositor draws every widget's whole region, a container's
        # under its children too (a first visit draws each of them once).
        yield TitleBar()
        yield PhaseSidebar(self.session, self.view_id)
        yield PhaseBody(PhaseHeading(self.view_id, self.session), self.compose_body)
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        """What this phase shows under its heading. Override in each screen."""
        yield VerticalScroll(id="content")

    # Mounted and not shown yet: the first ScreenResume follows on_mount at once.
    _fresh = False

    _body_started = False

    @property
    def body_ready(self) -> bool:
        """The body is mounted (``PhaseBody``): before that, only the frame is refreshed."""
        return self._body_shown.is_set()

    def on_mount(self) -> None:
        self._fresh = True
        self._styled_against = self._style_inputs()

    def on_screen_resume(self) -> None:
        if self._fresh:
            # Shown for the first time: the body is mounted after this first frame (and
            # reads the session then). The frame may have been built ahead, hidden,
            # before the session last changed.
            self._fresh = False
            self.refresh_frame()
            # Never laid out (or laid out hidden, its size reset: ``tui.views``), the
            # screen draws its frame at once, in Textual's handler of this event (which
            # runs after this one): the body follows right after it, not a refresh tick
            # (1/60 s) and a second drawing of the same frame later.
            self.call_later(self._mount_body)
            return
        # The session may have changed on another screen.
        if self.body_ready:
            self.refresh_from_session()
        else:
            # Left before its body was mounted: mounted now (once).
            self.refresh_frame()
            self.call_after_refresh(self._mount_body)

    async def _mount_body(self) -> None:
        if self._body_started:
            return
        self._body_started = True
        try:
            await self.query_one(PhaseBody).mount_later()
        finally:
            # Even if mounting failed (the error is shown), keys are never held for ever.
            self._body_shown.set()
            self.frame.body_mounted()
        self.refresh_from_session()
        self.body_mounted()
        if self.is_current and not self.app._batch_count:
            # The body on screen now, not at the next refresh tick (1/60 s from here).
            self._on_timer_update()

    async def body_shown(self) -> None:
        """Wait until the body is mounted (at once after the first frame)."""
        await self._body_shown.wait()

    def body_mounted(self) -> None:
        """The body's widgets are mounted: what a screen does once on its first show
        (subclasses extend it, calling ``super().body_mounted()`` first)."""

    def refresh_from_session(self) -> None:
        self.refresh_frame()
        self.query_one("#sidebar", PhaseSidebar).highlight(self.view_id)
        self.sub_title = self.title_for_header()

    def refresh_frame(self) -> None:
        """The heading and the sidebar from the session as it is now (the app calls this
        after every save, so a status line is never left behind by a change)."""
        for heading in self.query(PhaseHeading).results(PhaseHeading):
            heading.refresh_heading(self.session)
        for sidebar in self.query("#sidebar").results(PhaseSidebar):
            sidebar.refresh_statuses()

    def title_for_header(self) -> str:
        if self.view_id in PHASES_BY_ID:
            return PHASES_BY_ID[self.view_id].title
        return VIEWS_BY_ID[self.view_id].title
