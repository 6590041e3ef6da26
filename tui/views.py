"""Navigation between the phases and views: one installed screen each.

Every phase and view is a screen installed under its id, made on its first visit and
kept. Showing one switches the screen on top (``App.switch_screen``) and leaves the
others mounted, so a step running in one phase keeps running, and its output keeps
arriving, while the operator looks at another. (Not Textual modes: a mode switch holds
every update for 50 ms and parses the whole stylesheet again for each new mode: a
quarter of a second per first visit.)

Help is made on first use and kept. Its module and the Markdown renderer it needs, and
the modules of the phases and views, are imported in a thread once the first screen is
drawn (``import_ahead``): not at start-up (help's imports Textual's TextArea and
DataTable: 15 ms of every launch), nor on the first ``?`` or the first visit.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING

from screens.base import PhaseScreen
from screens.registry import make_screen, screen_modules
from tasks.session.phases import PHASES, VIEWS

if TYPE_CHECKING:
    from textual.app import App

HELP = "help"


class Views:
    def __init__(self, app: App) -> None:
        self.app = app

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
        from screens.help import HelpScreen

        app = self.app
        if self._help_open():
            app.screen.dismiss()
            return
        if not app.is_screen_installed(HELP):
            app.install_screen(HelpScreen(), name=HELP)
        help_screen = app.get_screen(HELP)
        assert isinstance(help_screen, HelpScreen)
        # About the screen it opens over: its phase, keys and fields.
        help_screen.show_for(app.screen_stack)
        app.push_screen(help_screen)

    def _help_open(self) -> bool:
        app = self.app
        return app.is_screen_installed(HELP) and app.screen is app.get_screen(HELP)

    async def import_ahead(self) -> None:
        """Help's module and rich.markdown (with markdown-it under it, a tenth of a
        second), then every phase's and view's module, imported off the app's loop once
        the first screen is drawn: the first ``?`` and each first visit find them loaded
        (a view's module takes up to 12 ms)."""
        views = [p.id for p in PHASES] + [v.id for v in VIEWS]
        for module in ("rich.markdown", "screens.help", *screen_modules(views)):
            await asyncio.to_thread(importlib.import_module, module)
