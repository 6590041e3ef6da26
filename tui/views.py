"""Navigation between the phases and views: one installed screen each, made ahead.

Every phase and view is a screen installed under its id. Showing one switches the
screen on top (``App.switch_screen``) and leaves the others mounted, so a step running
in one phase keeps running, and its output keeps arriving, while the operator looks at
another. (Not Textual modes: a mode switch holds every update for 50 ms and parses the
whole stylesheet again for each new mode: a quarter of a second per first visit.)

After the first paint the screens not made yet are made ahead, one at a time in idle
time, and so is help: a first visit then costs what a revisit costs. A screen made ahead
runs none of its own work (checks, workers, files) until it is first shown
(``screens.base.PhaseScreen.made_ahead``). One made before the session last changed
is made again before it is shown, so nothing on screen is older than the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from screens.base import PhaseScreen
from screens.help import HelpScreen
from screens.registry import make_screen
from tasks.session.phases import PHASE_IDS, VIEWS

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

HELP = "help"
# Time left between two screens made ahead, so keys pressed meanwhile are not held up.
AHEAD_GAP_S = 0.005
# After a change to the session, screens made ahead are made again once it is quiet.
QUIET_S = 1.0


class Views:
    def __init__(
        self,
        app: App,
        *,
        made: Callable[[], None] | None = None,
        discarding: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        # Told when a screen has been made ahead, and before one is discarded (the app
        # keeps long-lived objects out of the garbage collector's scans).
        self._made = made or (lambda: None)
        self._discarding = discarding or (lambda: None)
        # Bumped by every change of the session (not by moving between views).
        self.generation = 0
        self._made_at: dict[str, int] = {}
        self._ahead_started = False
        self._closing = False
        self._quiet: Timer | None = None
        # The screen being made ahead, until it is mounted.
        self._mounting: asyncio.Future[None] | None = None

    # -- showing ----------------------------------------------------------------------

    def screen(self, view_id: str) -> PhaseScreen:
        """The screen of ``view_id``: made now if it was never made (or made stale)."""
        app = self.app
        if app.is_screen_installed(view_id):
            screen = app.get_screen(view_id)
            if isinstance(screen, PhaseScreen) and not self._stale(view_id, screen):
                return screen
            self._discard(view_id)
        screen = make_screen(view_id)
        app.install_screen(screen, name=view_id)
        return screen

    def show(self, view_id: str) -> None:
        app = self.app
        screen = self.screen(view_id)
        top = app.screen
        if isinstance(top, HelpScreen):
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
        app = self.app
        if not app.is_screen_installed(HELP):
            app.install_screen(HelpScreen(), name=HELP)
        app.push_screen(HELP)

    # -- made ahead -------------------------------------------------------------------

    def changed(self) -> None:
        """The session changed: screens made ahead are made again once it is quiet."""
        self.generation += 1
        if not self._ahead_started or self._closing:
            return
        if self._quiet is None:
            self._quiet = self.app.set_timer(QUIET_S, self.make_ahead)
        else:
            self._quiet.reset()

    def make_ahead(self) -> None:
        """Start (or restart) making the screens not made yet."""
        if self._closing:
            return
        self._ahead_started = True
        self.app.run_worker(
            self._make_ahead(), group="views-ahead", exclusive=True, exit_on_error=False
        )

    def _order(self) -> list[str]:
        """The phases from the one shown onwards (the next is the likeliest), then the
        ones before it, then the views; Prepare, the largest, last."""
        shown = getattr(self.app.screen, "view_id", None)
        phases = list(PHASE_IDS)
        at = phases.index(shown) if shown in phases else 0
        order = phases[at + 1 :] + phases[:at][::-1] + [v.id for v in VIEWS]
        return sorted(order, key=lambda view_id: view_id == "prepare")

    async def _make_ahead(self) -> None:
        app = self.app
        stale = [
            view_id
            for view_id in self._order()
            if app.is_screen_installed(view_id)
            and isinstance(screen := app.get_screen(view_id), PhaseScreen)
            and self._stale(view_id, screen)
        ]
        if stale:
            self._discarding()
            for view_id in stale:
                self._discard(view_id)
        for view_id in self._order():
            if self._closing:
                return
            if app.is_screen_installed(view_id):
                continue
            await asyncio.sleep(AHEAD_GAP_S)
            screen = make_screen(view_id)
            screen.made_ahead = True
            self._made_at[view_id] = self.generation
            app.install_screen(screen, name=view_id)
            await self._mount(view_id)
        if not app.is_screen_installed(HELP):
            # rich.markdown brings markdown-it: imported in a thread, not on the app's loop.
            await asyncio.to_thread(importlib.import_module, "rich.markdown")
            await asyncio.sleep(AHEAD_GAP_S)
            if not app.is_screen_installed(HELP) and not self._closing:
                app.install_screen(HelpScreen(), name=HELP)
                await self._mount(HELP)

    async def _mount(self, name: str) -> None:
        """Compose and mount an installed screen without showing it.

        Textual has no public call for this: ``App._get_screen`` is what ``push_screen``
        uses to start an installed screen (Textual is pinned to one version).
        """
        screen, mounted = self.app._get_screen(name)

        async def mount() -> None:
            await mounted()
            if isinstance(screen, PhaseScreen):
                await screen.prepare_ahead()

        self._mounting = asyncio.ensure_future(mount())
        try:
            await asyncio.shield(self._mounting)
        finally:
            self._mounting = None
        self._made()

    async def close(self) -> None:
        """The app is closing: make nothing more, and let a screen being made finish
        mounting (closing its widgets half-mounted breaks some, Select for one)."""
        self._closing = True
        if self._mounting is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._mounting), 5)

    def _stale(self, view_id: str, screen: PhaseScreen) -> bool:
        """Made ahead, never shown, and the session changed since."""
        return (
            screen.made_ahead
            and not screen.shown
            and self._made_at.get(view_id, self.generation) != self.generation
        )

    def _discard(self, view_id: str) -> None:
        screen = self.app.get_screen(view_id)
        if any(screen is s for s in self.app.screen_stack):
            return
        self.app.uninstall_screen(view_id)
        self._made_at.pop(view_id, None)
        if screen.is_attached:
            screen.remove()
