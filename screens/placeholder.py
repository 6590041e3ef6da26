"""A phase whose own screen is not built yet: what it will do, from the migration notes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.base import PhaseScreen


class PlaceholderScreen(PhaseScreen):
    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="content"):
            yield Static(
                "This phase is not guided by crvs-migrate yet. Follow the migration notes "
                "(press ? for help) and record what you did.",
                classes="hint",
            )
