"""A change that needs a reason: the operator types why, and it goes into the journal.

Bodies are ``rich.text.Text`` (never markup). Escape or "Cancel" changes nothing; an
empty reason is refused where it is typed, with the reason why.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from screens.modals.dialog import StepDialog


class ReasonModal(StepDialog["str | None"]):
    """Asks why; dismisses with the reason typed, or ``None`` when cancelled."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, body: Text | str, placeholder: str, confirm_label: str):
        super().__init__()
        self.modal_title = title
        self.body = body if isinstance(body, Text) else Text(body)
        self.placeholder = placeholder
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="step-modal-box"):
            yield Static(Text(self.modal_title, style="bold"), classes="step-modal-title")
            yield Static(self.body, classes="step-modal-body")
            yield Input(placeholder=self.placeholder, id="reason")
            yield Static("", id="reason-error", classes="field-error")
            with Horizontal(classes="step-modal-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason-error").display = False
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self._confirm()
        else:
            self.dismiss(None)

    def _confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            error = self.query_one("#reason-error", Static)
            error.update(Text("✗ Type why: the reason is kept in the journal."))
            error.display = True
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(reason)
