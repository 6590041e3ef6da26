"""The real `crvs-migrate --demo` in a real terminal (tmux, 80x24)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tasks.session.state import load_session
from tests.support.tmux import TmuxSession

CLI = str(Path(sys.executable).parent / "crvs-migrate")


@pytest.mark.tmux
def test_demo_in_tmux_moves_through_the_sidebar_and_quits_cleanly(tmp_path):
    demo_dir = tmp_path / "demo"
    term = TmuxSession(
        [CLI, "--demo", "--demo-dir", str(demo_dir)],
        width=80,
        height=24,
        env={"TERM": "xterm-256color"},
    )
    raw = tmp_path / "raw.out"
    term.record(raw)
    try:
        screen = term.wait_for("Prepare")
        assert "Merge config" in screen or "Merge the country" in screen
        assert term.pane("#{alternate_on}") == "1"
        term.send("j", "j", "Enter")
        term.wait_for("Phase 3 of 9")
        term.send("5")
        screen = term.wait_for("Phase 5 of 9")
        assert "Verify locally" in screen
        term.send("C-q")
        assert term.wait_exit() == 0
        # The last thing printed, after the app left the screen.
        after = term.wait_for("Demo sandbox kept in")
        assert "Phase 5 of 9" not in after
        # The terminal is restored: alternate screen left, cursor shown again,
        # mouse reporting off (the last word on each is the restoring one).
        assert term.pane("#{alternate_on}") == "0"
        out = raw.read_bytes()
        assert out.rfind(b"\x1b[?1049l") > out.rfind(b"\x1b[?1049h") >= 0
        assert out.rfind(b"\x1b[?25h") > out.rfind(b"\x1b[?25l") >= 0
        assert out.rfind(b"\x1b[?1000l") > out.rfind(b"\x1b[?1000h") >= 0
    finally:
        term.close()
    session = load_session(demo_dir / "state" / "session.toml")
    assert session is not None and session.demo
    assert session.current_view == "verify_local"
