"""Jump-host sessions: advice for an operator working over SSH without tmux or screen.

A dropped SSH connection ends the processes started from it, so a step running
at that moment stops. The session state makes the app resumable either way; a
terminal multiplexer also keeps the running step alive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TMUX_COMMAND = "tmux new -A -s upgrade"


@dataclass(frozen=True)
class Advice:
    title: str
    message: str


def over_ssh(env: Mapping[str, str]) -> bool:
    # sshd sets SSH_CONNECTION for every session (SSH_TTY only with a terminal).
    return bool(env.get("SSH_CONNECTION", "").strip())


def inside_multiplexer(env: Mapping[str, str]) -> bool:
    """tmux sets TMUX, GNU screen sets STY; both set TERM to screen* or tmux* inside."""
    if env.get("TMUX") or env.get("STY"):
        return True
    term = env.get("TERM", "")
    return term.startswith(("screen", "tmux"))


def jump_host_advice(env: Mapping[str, str]) -> Advice | None:
    """The advice to show once at start-up, or ``None`` when there is nothing to say."""
    if not over_ssh(env) or inside_multiplexer(env):
        return None
    return Advice(
        title="Working over SSH",
        message=(
            "If this connection drops, a running step stops with it (your progress is "
            "saved either way). To keep steps running, quit and start crvs-migrate in tmux:\n"
            f"  {TMUX_COMMAND}\n"
            "After a drop, the same command takes you back."
        ),
    )
