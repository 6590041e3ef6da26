"""Explicit confirmations for commands that change a repository, and a typed answer.

Bodies are ``rich.text.Text`` (they quote file names and command output: never markup).
The confirm button names exactly what will happen; Escape or "Cancel" does nothing, has
the focus (Enter alone never confirms) and says so: the dialog notifies ``cancelled``
("Nothing was done." unless the caller says more, or ``None`` when the caller tells the
operator itself).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from screens.modals.dialog import StepDialog

NOTHING_DONE = "Nothing was done."


def _say_cancelled(modal: ModalScreen, title: str, message: str | None) -> None:
    if message:
        modal.app.notify(message, title=f"Cancelled: {title.rstrip('?')}", markup=False)


class ConfirmModal(StepDialog[bool]):
    # The first focus, before on_mount runs: a key pressed at once meets the safe answer.
    AUTO_FOCUS = "#cancel"

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        body: Text | str,
        confirm_label: str,
        *,
        danger: bool = False,
        cancelled: str | None = NOTHING_DONE,
    ) -> None:
        super().__init__()
        self.modal_title = title
        self.body = body if isinstance(body, Text) else Text(body)
        self.confirm_label = confirm_label
        self.danger = danger
        self.cancelled = cancelled

    def compose(self) -> ComposeResult:
        with Vertical(classes="step-modal-box"):
            yield Static(Text(self.modal_title, style="bold"), classes="step-modal-title")
            with VerticalScroll(classes="step-modal-body"):
                yield Static(self.body)
            with Horizontal(classes="step-modal-buttons"):
                yield Button(
                    self.confirm_label,
                    id="confirm",
                    variant="error" if self.danger else "primary",
                )
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        # The safe choice has the focus: Enter alone never confirms.
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.dismiss(True)
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        _say_cancelled(self, self.modal_title, self.cancelled)
        self.dismiss(False)


class TextPromptModal(StepDialog["str | None"]):
    """A typed answer (a host name, a reason); its callers say what a cancel left as it was,
    or pass ``cancelled``."""

    # The first focus, before on_mount runs: what is typed at once lands in the answer.
    AUTO_FOCUS = "#answer"

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        body: Text | str,
        placeholder: str,
        confirm_label: str,
        *,
        cancelled: str | None = None,
    ):
        super().__init__()
        self.modal_title = title
        self.body = body if isinstance(body, Text) else Text(body)
        self.placeholder = placeholder
        self.confirm_label = confirm_label
        self.cancelled = cancelled

    def compose(self) -> ComposeResult:
        with Vertical(classes="step-modal-box"):
            yield Static(Text(self.modal_title, style="bold"), classes="step-modal-title")
            yield Static(self.body, classes="step-modal-body")
            yield Input(placeholder=self.placeholder, id="answer")
            with Horizontal(classes="step-modal-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#answer", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.dismiss(self.query_one("#answer", Input).value.strip() or None)
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        _say_cancelled(self, self.modal_title, self.cancelled)
        self.dismiss(None)


class ChoiceModal(StepDialog["str | None"]):
    """Several explicit ways forward (each button says what runs); Escape chooses none."""

    # The first focus, before on_mount runs: a key pressed at once meets the safe answer.
    AUTO_FOCUS = "#cancel"

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        body: Text | str,
        choices: list[tuple[str, str]],
        *,
        cancelled: str | None = NOTHING_DONE,
    ):
        super().__init__()
        self.modal_title = title
        self.body = body if isinstance(body, Text) else Text(body)
        self.choices = choices
        self.cancelled = cancelled

    def compose(self) -> ComposeResult:
        with Vertical(classes="step-modal-box"):
            yield Static(Text(self.modal_title, style="bold"), classes="step-modal-title")
            with VerticalScroll(classes="step-modal-body"):
                yield Static(self.body)
            with Horizontal(classes="step-modal-buttons"):
                for choice_id, label in self.choices:
                    yield Button(label, id=f"choice-{choice_id}")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id.startswith("choice-"):
            self.dismiss(button_id.removeprefix("choice-"))
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        _say_cancelled(self, self.modal_title, self.cancelled)
        self.dismiss(None)
