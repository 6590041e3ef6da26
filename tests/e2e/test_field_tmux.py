"""The real CLI in a real terminal (tmux): 16-colour output on TERM=linux, and the SSH advice."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.support.tmux import TmuxSession

CLI = str(Path(sys.executable).parent / "crvs-migrate")
# SGR colour in 256-colour or truecolor form: what a 16-colour console cannot show.
BEYOND_16 = re.compile(rb"\x1b\[[0-9;]*[34]8;[25];")


def _run(tmp_path: Path, name: str, env: dict[str, str], unset_tmux: bool) -> tuple[str, bytes]:
    # tmux sets TMUX and its own TERM in its panes: `env` sets what the app must see.
    prefix = ["env", *(["-u", "TMUX"] if unset_tmux else []), *(f"{k}={v}" for k, v in env.items())]
    term = TmuxSession(
        [*prefix, CLI, "--state", str(tmp_path / f"{name}.toml")], width=80, height=24
    )
    raw = tmp_path / f"{name}.out"
    term.record(raw)
    try:
        screen = term.wait_for("Deploy prod")
        if unset_tmux:
            screen = term.wait_for("Working over SSH")
        # Quitting cleanly is test_e2e_tmux's concern; here the screen and bytes are.
    finally:
        term.close()
    return screen, raw.read_bytes()


@pytest.mark.tmux
def test_linux_console_over_ssh(tmp_path: Path) -> None:
    env = {"TERM": "linux", "SSH_CONNECTION": "203.0.113.5 50022 198.51.100.7 22"}
    screen, out = _run(tmp_path, "console", env, unset_tmux=True)
    # Short titles at 80 columns, every phase whole.
    for title in ("1 Prepare", "3 Update core", "4 Merge config", "8 Back up prod"):
        assert title in screen
    assert "tmux new -A -s upgrade" in screen
    assert b"\x1b[3" in out or b"\x1b[9" in out  # it does use colour...
    assert not BEYOND_16.search(out)  # ...but only the console's 16


@pytest.mark.tmux
def test_truecolor_terminal_inside_tmux(tmp_path: Path) -> None:
    env = {
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "SSH_CONNECTION": "203.0.113.5 50022 198.51.100.7 22",
    }
    screen, out = _run(tmp_path, "truecolor", env, unset_tmux=False)
    assert BEYOND_16.search(out)  # the check above can fail: here colours are 24-bit
    assert "Working over SSH" not in screen  # already inside tmux: nothing to say
