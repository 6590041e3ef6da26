"""A crash never shows secrets: the real CLI in tmux, a worker that dies holding a password.

Textual prints a traceback when the app crashes; with local variables it would print
the password from the worker's frame. Neither the terminal nor the crash report may.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tasks.session.state import Session, save_session
from tasks.upgrade.answers import Answers
from tests.support.tmux import TmuxSession

pytestmark = pytest.mark.tmux

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Hunter2-SMTP-pa55word"

# The real CLI, with Prepare's version detection (a worker started as Prepare opens)
# replaced by one that fails while its frame holds a password read from an env file
# (as the release checks do): the source shows no secret, the frame's locals would.
LAUNCHER = """
import sys
from pathlib import Path
import screens.prepare

async def detect_with_a_secret(config_path, journal=None):
    smtp_password = Path(sys.argv[1]).read_text().split("=", 1)[1].strip()
    env = {"SMTP_PASSWORD": smtp_password}
    raise RuntimeError("the worker broke (as a bug would)")

screens.prepare.detect_current_version = detect_with_a_secret
from tui.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_crash_shows_no_local_variables(tmp_path: Path) -> None:
    repo = tmp_path / "countryconfig"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    state = tmp_path / "session.toml"
    session = Session()
    Answers.of(session).config_path = str(repo)
    save_session(state, session)
    launcher = tmp_path / "launch.py"
    launcher.write_text(LAUNCHER)
    env_file = tmp_path / "production.env"
    env_file.write_text(f"SMTP_PASSWORD={PASSWORD}\n")
    term = TmuxSession(
        [sys.executable, str(launcher), str(env_file), "--state", str(state)],
        width=120,
        height=50,
        env={"TERM": "xterm-256color", "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    raw = tmp_path / "raw.out"
    term.record(raw)
    try:
        assert term.wait_exit(timeout=60) == 1
        screen = term.wait_for("stopped unexpectedly")
    finally:
        term.close()
    # The traceback was printed (the test would prove nothing otherwise) ...
    assert "RuntimeError" in screen and "the worker broke" in screen
    assert "detect_with_a_secret" in screen
    # ... without the frame's variables, on screen or anywhere in the bytes written.
    assert PASSWORD not in screen
    assert "locals" not in screen  # Rich's box of a frame's variables
    assert PASSWORD.encode() not in raw.read_bytes()
    reports = sorted(tmp_path.glob("crash-*.txt"))
    assert len(reports) == 1, sorted(p.name for p in tmp_path.iterdir())
    report = reports[0].read_text()
    assert "RuntimeError: the worker broke" in report
    assert PASSWORD not in report
    assert str(reports[0]) in "".join(screen.split())
