"""Screens that stand between the operator and a session they cannot safely change.

``SessionUnavailableScreen``: another instance holds the session (or the demo sandbox),
or the lock cannot be made: view it read-only, or quit.
``StorageErrorScreen``: a file could not be written (full disk, read-only directory):
the path and the reason in words, what is still on disk, and what can be done.
Both show messages as plain ``Text`` (paths may hold anything).
``GuardScreen``: their look, and that of ``screens.state_error.StateErrorScreen``.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Header, Static

from screens.base import quiet_focus
from tasks.errors import CrvsError, StorageError

Choice = Literal["read-only", "quit", "retry", "continue"]
ResultType = TypeVar("ResultType")


class GuardScreen(Screen[ResultType]):
    """A box with a title, the reason in words and a row of choices, in place of the phases."""

    focused: Reactive[Widget | None] = quiet_focus()

    DEFAULT_CSS = """
    GuardScreen #state-error-box {
        margin: 1 2;
        padding: 1 2;
        border: heavy $error;
        height: auto;
    }
    GuardScreen #state-error-title {
        color: $error;
        margin-bottom: 1;
    }
    GuardScreen #state-error-buttons {
        height: auto;
        margin-top: 1;
    }
    GuardScreen #state-error-buttons Button {
        margin-right: 2;
    }
    """


class SessionUnavailableScreen(GuardScreen[Choice]):
    BINDINGS = [
        Binding("r", "choose('read-only')", "View read-only"),
        Binding("q", "choose('quit')", "Quit"),
    ]

    def __init__(self, reason: CrvsError) -> None:
        super().__init__(id="session-unavailable")
        self.reason = reason

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="state-error-box"):
            yield Static(Text(self.reason.title, style="bold"), id="state-error-title")
            yield Static(Text(self.reason.message), id="state-error-body")
            with Horizontal(id="state-error-buttons"):
                yield Button("View it read-only", id="read-only", variant="primary")
                yield Button("Quit", id="quit")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#read-only", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "quit")

    def action_choose(self, choice: str) -> None:
        self.dismiss("read-only" if choice == "read-only" else "quit")


class StorageErrorScreen(GuardScreen[Choice]):
    """``can_retry``: the failed write was the session save, which "Try again" repeats.
    ``can_continue``: the app can go on (a worker failed, not the screen under it)."""

    BINDINGS = [Binding("q", "choose('quit')", "Quit")]

    def __init__(self, error: StorageError, *, can_retry: bool, can_continue: bool) -> None:
        super().__init__(id="storage-error")
        self.error = error
        self.can_retry = can_retry
        self.can_continue = can_continue

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="state-error-box"):
            yield Static(Text(self.error.title, style="bold"), id="state-error-title")
            body = Text()
            body.append("File: ", style="bold")
            body.append(f"{self.error.path}\n")
            body.append("Problem: ", style="bold")
            body.append(f"{self.error.reason}\n\n")
            body.append(
                "Nothing on disk was damaged: the file still holds what was last written "
                "successfully. The latest change is not saved yet.\n"
            )
            body.append(
                "Free some space on that disk, or make the directory writable, then "
                + ("try again." if self.can_retry else "continue.")
            )
            yield Static(body, id="state-error-body")
            with Horizontal(id="state-error-buttons"):
                if self.can_retry:
                    yield Button("Try again", id="retry", variant="primary")
                if self.can_continue:
                    yield Button("Continue", id="continue")
                yield Button("Quit", id="quit")
        yield Footer()

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "quit")

    def action_choose(self, choice: str) -> None:
        if choice in ("retry", "continue", "quit"):
            self.dismiss(choice)  # type: ignore[arg-type]
