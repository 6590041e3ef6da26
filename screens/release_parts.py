"""Small pieces shared by the Release, Deploy, gate and Report screens (display only).

Confirmations use ``screens.step_modals.ConfirmModal`` (the safe button has the focus).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

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
        text.append(
            "🔒 LOCKED: production cannot be deployed until every line holds\n", style="bold red"
        )
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


async def demo_cluster_ready(app: object, timeout: float = 15.0) -> None:
    """In the demo, wait (bounded) for the in-process demo cluster before talking to it."""
    import asyncio

    from tasks.errors import CrvsError

    cluster = getattr(app, "demo_cluster", None)
    if getattr(app.workspace, "demo", None) is None or cluster is None:  # type: ignore[attr-defined]
        return
    try:
        await asyncio.wait_for(cluster.ready.wait(), timeout)
    except TimeoutError:
        raise CrvsError("The demo cluster did not start.", "Demo cluster") from None
