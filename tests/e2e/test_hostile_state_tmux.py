"""The real CLI on hostile session files: the damaged-file screen at once, Ctrl+Q quits,
no traceback, the file untouched (deep nesting used to hang at full CPU)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.tmux import TmuxSession

CLI = str(Path(sys.executable).parent / "crvs-migrate")
pytestmark = pytest.mark.tmux

FILES = {
    "deep arrays": "schema_version = 1\nx = " + "[" * 200_000 + "]" * 200_000 + "\n",
    "deep dotted keys": "schema_version = 1\n" + ".".join(["a"] * 20_000) + " = 1\n",
    "steps not a table": 'schema_version = 1\n[phases.update_core]\nsteps = "x"\n',
}


@pytest.mark.parametrize("kind", list(FILES))
def test_hostile_file_in_a_real_terminal(tmp_path: Path, kind: str) -> None:
    state = tmp_path / "session.toml"
    state.write_text(FILES[kind])
    before = state.read_bytes()
    term = TmuxSession([CLI, "--state", str(state)], width=100, height=30)
    try:
        screen = term.wait_for("The session file is damaged", timeout=30)
        assert "Traceback" not in screen
        term.send("C-q")
        assert term.wait_exit(timeout=15) in (0, 1)
        assert "Traceback" not in term.screen()
    finally:
        term.close()
    assert state.read_bytes() == before
