"""One modal for every error the operator can act on (``tasks.errors.CrvsError``)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from screens.modals.dialog import Dialog


class ErrorModal(Dialog[None]):
    DEFAULT_CSS = """
    ErrorModal {
        align: center middle;
    }
    ErrorModal #error-box {
        width: 70;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: heavy $error;
        padding: 1 2;
        background: $surface;
    }
    ErrorModal #error-title {
        color: $error;
        margin-bottom: 1;
    }
    ErrorModal #error-close {
        margin-top: 1;
    }
    """

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.error_title = title
        self.error_message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(Text(self.error_title, style="bold"), id="error-title")
            # Messages may quote untrusted text: always plain Text, never markup.
            yield Static(Text(self.error_message), id="error-message")
            yield Button("Close", id="error-close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
