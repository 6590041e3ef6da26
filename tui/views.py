"""Navigation between the phases and views: one installed screen each.

Every phase and view is a screen installed under its id, made on its first visit and
kept. Showing one switches the screen on top (``App.switch_screen``) and leaves the
others mounted, so a step running in one phase keeps running, and its output keeps
arriving, while the operator looks at another. (Not Textual modes: a mode switch holds
every update for 50 ms and parses the whole stylesheet again for each new mode: a
quarter of a second per first visit.)

While the operator reads the first screen, the frame (header, sidebar, heading, keys) of
every other phase and view is made, mounted, laid out and drawn, hidden, one step at a
time whenever no key or click has come for a moment (``build_ahead``, asked by the CLI).
A first visit then only puts together lines its widgets have drawn already, and draws
again only what changed since (a status, the theme, the terminal's size; figures:
README). Bodies are still
mounted when their phase is first shown: they read the session then, and some start
work (a detection, a check of the nodes) that is the operator's to start.

Help is made once and kept. Its module and the Markdown renderer it needs, and
the modules of the phases and views, are imported in a thread once the first screen is
drawn: not at start-up (help's imports Textual's TextArea and DataTable: 15 ms of every
launch), nor on the first ``?`` or the first visit. Each import starts in a quiet moment,
as each build does: the thread shares the interpreter with the app's loop, and a key
handled while it imports takes about twice as long. When frames are built ahead, each
phase's module is imported just before its frame is built (the nearest phases are ready
soonest), and help's imports come after them: a key pressed in the first moments goes
to a phase far more often than to help. Then help's screen is made and mounted, hidden,
too (``build_help``): the first ``?`` only fills in the part about the screen it opens
over.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from typing import TYPE_CHECKING, Any

from textual.geometry import NULL_SIZE

from screens.base import PhaseScreen
from screens.registry import make_screen, screen_modules
from tasks.session.phases import PHASES, VIEWS

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App
    from textual.screen import Screen

    from screens.help import HelpScreen

HELP = "help"
# Help's imports: rich.markdown (with markdown-it under it, a tenth of a second), then
# help's own module.
HELP_MODULES = ("rich.markdown", "screens.help")
# A frame is built only once no key or click has come for this long: typing and
# navigating go first, and a key arriving meets at most one build (25-40 ms). While
# text is typed into a field the pause must be longer: a typist's keys come about a
# tenth of a second apart, and a build in each gap would hold every next key.
QUIET_S = 0.1
TYPING_QUIET_S = 0.4


class Views:
    def __init__(self, app: App) -> None:
        self.app = app
        self._input_at = 0.0
        # How long a quiet moment after the last key or click is (QUIET_S, TYPING_QUIET_S).
        self.quiet_s = QUIET_S

    def input_seen(self, typing: bool = False) -> None:
        """A key or a click has come (building ahead waits for a quiet moment); ``typing``:
        a key into a text field."""
        self._input_at = time.monotonic()
        self.quiet_s = TYPING_QUIET_S if typing else QUIET_S

    def screen(self, view_id: str) -> PhaseScreen:
        """The screen of ``view_id``, made now if it was never shown."""
        app = self.app
        if not app.is_screen_installed(view_id):
            app.install_screen(make_screen(view_id), name=view_id)
        screen = app.get_screen(view_id)
        assert isinstance(screen, PhaseScreen)
        return screen

    def show(self, view_id: str) -> None:
        app = self.app
        screen = self.screen(view_id)
        top = app.screen
        if self._help_open():
            app.pop_screen()  # help closes on the way: it was about where you were
            top = app.screen
        if isinstance(top, PhaseScreen):
            if top is not screen:
                app.switch_screen(view_id)
        elif len(app.screen_stack) == 1:
            app.push_screen(view_id)  # the first view, over Textual's blank default screen
        else:
            # A dialog or a guard screen is up: it is answered first.
            app.notify("Answer the dialog first.", severity="warning")

    def show_help(self) -> None:
        """Help about the screen on top; over help itself (F1 again), help closes."""
        app = self.app
        if self._help_open():
            app.screen.dismiss()
            return
        help_screen = self._help_screen()
        # About the screen it opens over: its phase, keys and fields.
        help_screen.show_for(app.screen_stack)
        app.push_screen(help_screen)

    def _help_screen(self) -> HelpScreen:
        from screens.help import HelpScreen

        app = self.app
        if not app.is_screen_installed(HELP):
            app.install_screen(HelpScreen(), name=HELP)
        help_screen = app.get_screen(HELP)
        assert isinstance(help_screen, HelpScreen)
        return help_screen

    async def build_help(self, closing: Callable[[], bool]) -> bool:
        """Help's screen made and mounted, hidden, after every frame (as ``build_ahead``
        does a frame): the first ``?`` only shows it. False if the app began to close."""
        app = self.app
        await self._when_quiet()
        if closing():
            return False
        if app.is_screen_installed(HELP):
            return True  # opened meanwhile
        await self._mount_hidden(self._help_screen())
        return True

    async def _mount_hidden(self, screen: Screen[Any]) -> None:
        """What push_screen does to show a screen, without showing it: its CSS read, then
        it is registered and its widgets composed and mounted (Textual has no public call
        for this; Textual is pinned exactly)."""
        app = self.app
        app._load_screen_css(screen)
        _, mounted = app._get_screen(screen)
        await mounted

    def _help_open(self) -> bool:
        app = self.app
        return app.is_screen_installed(HELP) and app.screen is app.get_screen(HELP)

    async def import_ahead(self) -> None:
        """Help's module and rich.markdown, then every phase's and view's module (the
        order in which the app imports them when it builds no frames ahead)."""
        await self.import_help()
        await self.import_screens()

    async def import_help(self) -> None:
        """Help's module and rich.markdown, imported off the app's loop: the first ``?``
        finds them loaded."""
        for module in HELP_MODULES:
            await self._import_when_quiet(module)

    async def import_screens(self) -> None:
        """Every phase's and view's module (up to 12 ms each), imported off the app's
        loop in the order their frames are built."""
        for module in screen_modules(self.build_order(self._current())):
            await self._import_when_quiet(module)

    def quiet_in(self) -> float:
        """Seconds until building ahead may go on (0 in a quiet moment)."""
        return max(0.0, self._input_at + self.quiet_s - time.monotonic())

    async def _when_quiet(self) -> None:
        """In a quiet moment (``QUIET_S`` after the last key or click, ``TYPING_QUIET_S``
        while typing into a field), once what came in meanwhile has gone first."""
        while (wait := self.quiet_in()) > 0:
            await asyncio.sleep(wait)
        await asyncio.sleep(0)

    async def _import_when_quiet(self, module: str) -> None:
        """``module`` imported in a thread, started in a quiet moment. The thread shares
        the interpreter with the app's loop: a key handled while it imports takes about
        twice as long, so an import never starts while keys are coming."""
        if module in sys.modules:
            return
        await self._when_quiet()
        await asyncio.to_thread(importlib.import_module, module)

    def _current(self) -> str | None:
        screen = self.app.screen
        return screen.view_id if isinstance(screen, PhaseScreen) else None

    def build_order(self, current: str | None) -> list[str]:
        """The phases nearest the current one first, the next before the previous
        (where the operator goes from here), then the views."""
        phases = [p.id for p in PHASES]
        at = phases.index(current) if current in phases else 0
        nearest = sorted(range(len(phases)), key=lambda i: (abs(i - at), i < at))
        return [phases[i] for i in nearest] + [v.id for v in VIEWS]

    async def build_ahead(self, closing: Callable[[], bool]) -> bool:
        """Make and mount, hidden, the frame of every phase and view not made yet; True
        when all are built (False if the app began to close)."""
        app = self.app
        for view_id in self.build_order(self._current()):
            if app.is_screen_installed(view_id):
                continue
            # Each module just before its frame: the nearest frames are ready soonest.
            (module,) = screen_modules([view_id])
            await self._import_when_quiet(module)
            await self._when_quiet()
            if closing():
                return False
            if app.is_screen_installed(view_id):
                continue  # shown meanwhile
            screen = self.screen(view_id)
            await self._mount_hidden(screen)
            await self._draw_hidden(screen, closing)
        return True

    async def _draw_hidden(self, screen: PhaseScreen, closing: Callable[[], bool]) -> None:
        """Lay a hidden frame out at the terminal's size, then, in the next quiet moment,
        draw its widgets once into their own caches: a first visit then only composes
        lines already drawn (the sidebar, the keys and the heading are most of it)."""
        app = self.app
        await self._when_quiet()
        if closing() or screen is app.screen:
            return
        size = app.size
        try:
            screen._refresh_layout(size)  # not the screen on top: laid out, not displayed
            # The layout told each widget its size (a list clears what it drew on a
            # resize): those messages are handled before anything is drawn.
            for _ in range(50):
                if all(w._message_queue.empty() for w in screen.walk_children(with_self=True)):
                    break
                await asyncio.sleep(0)
            await self._when_quiet()
            if not closing() and screen is not app.screen and app.size == size:
                screen._compositor.render_update(full=True)
        finally:
            # Shown, the screen lays itself out again and draws at once, as one never
            # laid out does (with its size unchanged it would wait for its refresh
            # tick): same regions, so what was drawn is kept.
            screen._size = NULL_SIZE
