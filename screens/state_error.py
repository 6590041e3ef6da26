"""Shown instead of the phases when the session file cannot be used.

The damaged file is never written to; the operator may start a new session in
a different file.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Footer, Header, Static

from screens.session_guard import GuardScreen
from tasks.errors import StateFileError


class StateErrorScreen(GuardScreen[None]):
    BINDINGS = [
        Binding("n", "new_session", "New session in another file"),
        Binding("q", "app.quit", "Quit"),
    ]

    class StartNewSession(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, error: StateFileError, new_path: Path) -> None:
        super().__init__(id="state-error")
        self.error = error
        self.new_path = new_path

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="state-error-box"):
            yield Static(Text(self.error.title, style="bold"), id="state-error-title")
            body = Text()
            body.append("File: ", style="bold")
            body.append(str(self.error.path) + "\n")
            body.append("Problem: ", style="bold")
            body.append(self.error.problem + "\n\n")
            body.append("The file has not been changed and will not be overwritten. ")
            body.append("You can start a new session in a different file:\n")
            body.append(str(self.new_path), style="bold")
            yield Static(body, id="state-error-body")
            with Horizontal(id="state-error-buttons"):
                yield Button("Start a new session there", id="new-session", variant="primary")
                yield Button("Quit", id="quit")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "new-session":
            self.action_new_session()
        else:
            self.app.exit(1)

    def action_new_session(self) -> None:
        self.post_message(self.StartNewSession(self.new_path))
