"""Jump-host sessions: advice for an operator working over SSH without tmux or screen.

A dropped SSH connection ends the processes started from it: the app stops. Local
steps run detached from it (``tasks.local.process``), so a step running at that moment
goes on, and the next start follows it again; the session state makes the app
resumable either way. A terminal multiplexer also keeps the screen itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from tasks.lean import dataclass

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
            "If this connection drops, crvs-migrate stops with it; a running step goes on "
            "and is followed again when you start crvs-migrate anew (your progress is saved "
            "either way). To keep this screen too, quit and start crvs-migrate in tmux:\n"
            f"  {TMUX_COMMAND}\n"
            "After a drop, the same command takes you back."
        ),
    )
