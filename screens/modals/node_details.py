"""A node's checks and the raw output of every command (untrusted text, in a Log)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Label, Log, Static

from screens.modals.dialog import Dialog
from tasks.servers.health import NodeHealth
from tasks.text import strip_control


class NodeDetails(Dialog[None]):
    """A node's checks and the raw output of every command (untrusted text in a Log)."""

    DEFAULT_CSS = """
    NodeDetails {
        align: center middle;
    }
    NodeDetails #node-details {
        width: 95%;
        height: 90%;
        border: heavy $primary;
        background: $surface;
        padding: 0 1;
    }
    NodeDetails #node-details-head {
        height: auto;
        max-height: 40%;
    }
    NodeDetails #node-details-raw {
        height: 1fr;
        border: round $primary-darken-2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
    ]

    def __init__(self, result: NodeHealth) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        r = self.result
        with Vertical(id="node-details"):
            head = Text()
            head.append(f"{r.status.glyph} {strip_control(r.node.name)}", style="bold")
            head.append(
                f"  {r.node.role.value} · {strip_control(r.node.address)} · {r.status.label}"
            )
            head.append(f"\nchecked {r.checked_at}", style="dim")
            if r.duration_s is not None:
                head.append(f" in {r.duration_s:.2f}s", style="dim")
            if r.reason:
                head.append("\n" + strip_control(r.reason))
            for c in r.checks:
                head.append(f"\n{c.status.glyph} {c.key}: ", style="bold")
                head.append(strip_control(c.summary))
                if c.detail:
                    head.append(f" — {strip_control(c.detail)}")
            with VerticalScroll(id="node-details-head"):
                yield Static(head)
            yield Label("Raw output")
            yield Log(id="node-details-raw", max_lines=20000, auto_scroll=False)
            yield Button("Close", id="node-details-close")

    def on_mount(self) -> None:
        lines: list[str] = []
        for c in self.result.checks:
            lines.append(f"── {c.key} ──")
            lines.extend(c.raw.split("\n") if c.raw else ["(no output)"])
        if not self.result.checks:
            lines.append("(no commands ran: " + strip_control(self.result.reason) + ")")
        # Already sanitised in tasks.servers.health; Log never parses markup.
        self.query_one(Log).write_lines(lines)
        self.query_one("#node-details-close", Button).focus()

    @on(Button.Pressed, "#node-details-close")
    def _close(self) -> None:
        self.dismiss(None)
