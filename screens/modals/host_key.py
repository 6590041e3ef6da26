"""An unknown host key: its fingerprint shown, trusted only on an explicit yes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from screens.modals.dialog import Dialog
from tasks.servers.inventory import Node
from tasks.servers.ssh import HostKeyInfo
from tasks.text import strip_control


class TrustHostKey(Dialog[bool]):
    """Show an unknown host key's fingerprint; trust only on an explicit yes."""

    DEFAULT_CSS = """
    TrustHostKey {
        align: center middle;
    }
    TrustHostKey #trust-box {
        width: 76;
        max-width: 98%;
        height: auto;
        border: heavy $warning;
        background: $surface;
        padding: 1 2;
    }
    TrustHostKey #trust-buttons {
        height: auto;
        margin-top: 1;
    }
    TrustHostKey #trust-buttons Button {
        margin-right: 2;
    }
    """

    # The first focus, before on_mount runs: Enter pressed at once trusts nothing.
    AUTO_FOCUS = "#trust-no"

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, node: Node, key: HostKeyInfo) -> None:
        super().__init__()
        self.node = node
        self.key = key

    def compose(self) -> ComposeResult:
        k = self.key
        text = Text()
        if k.jump_for:
            text.append("Unknown host key of the JUMP HOST\n\n", style="bold")
            text.append(
                f"To reach {strip_control(self.node.name)} ({strip_control(k.jump_for)}), the "
                "connection goes through a jump host (ProxyJump in your ssh config). This key "
                f"is the jump host's, {strip_control(k.known_hosts_name)}, not "
                f"{strip_control(self.node.name)}'s. It presented a "
            )
        else:
            text.append("Unknown host key\n\n", style="bold")
            text.append(
                f"{strip_control(self.node.name)} ({strip_control(k.known_hosts_name)}) "
                "presented a "
            )
        text.append(f"{k.algorithm}", style="bold")
        text.append(" key that is not in known_hosts:\n\n")
        text.append(f"  {k.fingerprint}\n\n", style="bold reverse")
        text.append(
            "Compare it with the fingerprint on the server itself (its console, or your "
            "provider's panel): ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\n"
            "Trust it only if they match. Your answer is recorded in the journal."
        )
        with Vertical(id="trust-box"):
            yield Static(text, id="trust-text")
            with Horizontal(id="trust-buttons"):
                yield Button("Cancel", id="trust-no")
                yield Button("Fingerprints match: trust", id="trust-yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#trust-no", Button).focus()  # the safe answer is the default

    @on(Button.Pressed, "#trust-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#trust-no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)
