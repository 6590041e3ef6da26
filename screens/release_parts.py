"""Small pieces shared by the Release, Deploy, gate and Report screens (display only)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

if TYPE_CHECKING:
    from tasks.gate import Gate
    from tasks.state import Session
    from tasks.workspace import Workspace


def command_text(argv: list[str], cwd: str | Path | None = None) -> Text:
    """A command as the operator would type it; never markup."""
    text = Text()
    if cwd:
        text.append(f"in {cwd}\n", style="dim")
    text.append("$ ", style="dim")
    text.append(shlex.join(argv), style="bold")
    return text


def gate_text(gate: Gate) -> Text:
    """The gate as a checklist: glyphs carry the state, colour is a second channel."""
    text = Text()
    if gate.open:
        text.append("✓ OPEN: production may be deployed\n", style="bold green")
    else:
        text.append("🔒 LOCKED: production cannot be deployed until every line holds\n", style="bold red")
    for c in gate.conditions:
        if c.met:
            text.append("  ✓ ", style="green")
            text.append(f"{c.title}\n")
        else:
            text.append("  ✗ ", style="bold red")
            text.append(c.title, style="bold")
            text.append(f": {c.missing}\n")
    text.rstrip()
    return text


def answer(session: Session, key: str, default: str = "") -> str:
    value = session.answers.get(key)
    return str(value) if value not in (None, "") else default


def config_path(session: Session, workspace: Workspace) -> Path | None:
    """The country config checkout: the Prepare answer, or the demo sandbox's."""
    value = answer(session, "config_path")
    if value:
        return Path(value).expanduser()
    if workspace.demo is not None:
        return workspace.demo.config_path
    return None


def target_version(session: Session) -> str:
    from tasks.releases import LATEST

    return answer(session, "target_version", LATEST.version)


class ConfirmModal(ModalScreen[bool]):
    """Ask before anything that cannot be undone; optionally require a typed word (a host name)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, message: Text | str, *, typed: str | None = None, danger: bool = False) -> None:
        super().__init__()
        self.confirm_title = title
        self.message = message if isinstance(message, Text) else Text(message)
        self.typed = typed
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="-danger" if self.danger else ""):
            yield Static(Text(self.confirm_title, style="bold"), id="confirm-title")
            yield Static(self.message, id="confirm-message")
            if self.typed is not None:
                yield Input(placeholder=f"type {self.typed}", id="confirm-typed")
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    "Confirm",
                    id="confirm-yes",
                    variant="error" if self.danger else "primary",
                    disabled=self.typed is not None,
                )
                yield Button("Cancel", id="confirm-no")

    def on_input_changed(self, event: Input.Changed) -> None:
        # Exactly what was asked for: no trimming, no case folding.
        self.query_one("#confirm-yes", Button).disabled = event.value != self.typed

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value == self.typed:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_cancel(self) -> None:
        self.dismiss(False)
