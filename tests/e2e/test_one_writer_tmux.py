"""One writer per session, with the real CLI in real terminals (tmux): a second instance
on the same session (or the same demo dir) is told who holds it and may only look."""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from pathlib import Path

import pytest

from tasks.session.state import load_session
from tasks.upgrade.answers import Answers
from tests.support.tmux import TmuxSession

CLI = str(Path(sys.executable).parent / "crvs-migrate")
ENV = {"TERM": "xterm-256color"}

pytestmark = pytest.mark.tmux


def _wait_until(check, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.1)


def _focus_question(term: TmuxSession, placeholder: str = "~/opencrvs-farajaland") -> None:
    """Tab to the question whose placeholder is ``e.g. <placeholder>``, and wait until it
    has the focus.

    Keys sent while the app starts (or while it is busy) can be lost, so this checks the
    effect: a focused Input draws its cursor on the first letter of the placeholder (a
    cell styled apart).
    """
    term.wait_for("Answer what you know", timeout=60)
    focused = re.compile(r"e(\x1b\[[0-9;]*m)+\.g\. " + re.escape(placeholder))
    for _attempt in range(6):
        term.send("Tab")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if focused.search(term._tmux("capture-pane", "-p", "-e", "-t", term.name)):
                return
            time.sleep(0.1)
    raise AssertionError(f"the first question never took the focus:\n{term.screen()}")


def _answer(path: Path, key: str) -> str:
    session = load_session(path)
    return str(getattr(Answers.of(session), key, "")) if session else ""


def test_two_instances_on_one_session_lose_no_answer(tmp_path: Path) -> None:
    state = tmp_path / "session.toml"
    first = TmuxSession([CLI, "--state", str(state)], width=100, height=30, env=ENV)
    second = None
    try:
        _focus_question(first)  # the country config checkout
        first.send("-l", "/srv/answer-from-the-first")
        first.wait_for("/srv/answer-from-the-first does not exist")
        _wait_until(lambda: _answer(state, "config_path") == "/srv/answer-from-the-first",
                    what="the first instance saving its answer")  # fmt: skip
        saved = state.read_bytes()

        second = TmuxSession([CLI, "--state", str(state)], width=100, height=30, env=ENV)
        second.wait_for("This session is in use", timeout=60)
        screen = second.wait_for("View it read-only")  # the buttons are drawn last
        assert "in use by " in screen and " since " in screen and "(process " in screen
        second.send("r")
        second.wait_for("READ-ONLY")
        second.wait_for("/srv/answer-from-the-first")  # it shows the session
        second.send("h")  # navigating saves the current view, normally
        second.wait_for("READ-ONLY — Cluster health")
        second.send("C-q")
        assert second.wait_exit() == 0
        assert state.read_bytes() == saved  # the read-only window wrote nothing

        _focus_question(first, "~/opencrvs-core")  # the next question: core checkout
        first.send("-l", "/srv/core-from-the-first")
        first.wait_for("/srv/core-from-the-first does not exist")
        _wait_until(lambda: _answer(state, "core_path") == "/srv/core-from-the-first",
                    what="the first instance saving its second answer")  # fmt: skip
        first.send("C-q")
        assert first.wait_exit() == 0
    finally:
        first.close()
        if second is not None:
            second.close()
    session = load_session(state)
    assert session is not None
    assert Answers.of(session).config_path == "/srv/answer-from-the-first"
    assert Answers.of(session).core_path == "/srv/core-from-the-first"
    assert 'current_view = "health"' not in state.read_text()
    assert (tmp_path / "session.toml.lock").read_bytes() == b""  # released on quit


def test_the_second_instance_may_quit_instead(tmp_path: Path) -> None:
    state = tmp_path / "session.toml"
    first = TmuxSession([CLI, "--state", str(state)], env=ENV)
    try:
        first.wait_for("Prepare")
        second = TmuxSession([CLI, "--state", str(state)], env=ENV)
        try:
            second.wait_for("This session is in use")
            second.send("q")
            assert second.wait_exit() == 1
        finally:
            second.close()
        first.send("C-q")
        assert first.wait_exit() == 0
    finally:
        first.close()


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess

    state = tmp_path / "session.toml"
    # A holder that dies without releasing (SIGKILL): its record stays in the lock file.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from tasks.session.lock import SessionLock;"
         "SessionLock(Path(sys.argv[1])).acquire(); print('held', flush=True); sys.stdin.read()",
         str(tmp_path / "session.toml.lock")],
        cwd=Path(__file__).resolve().parents[2], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    term = TmuxSession([CLI, "--state", str(state)], width=120, height=30, env=ENV)
    try:
        screen = term.wait_for("stale lock")
        assert f"process {holder.pid}" in screen
        assert "READ-ONLY" not in screen
        term.send("C-q")
        assert term.wait_exit() == 0
    finally:
        term.close()
    journal = (tmp_path / "session.journal.jsonl").read_text().splitlines()
    notes = [json.loads(line)["what"] for line in journal]
    assert any("stale lock" in n and f"process {holder.pid}" in n for n in notes), notes


def test_a_second_demo_on_the_same_dir_leaves_the_first_cluster_alone(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    first = TmuxSession([CLI, "--demo-dir", str(demo_dir)], width=100, height=30, env=ENV)
    second = None
    try:
        first.wait_for("Prepare", timeout=60)
        ports_file = demo_dir / "cluster" / "ports.json"
        _wait_until(ports_file.exists, timeout=30, what="the demo cluster starting")
        ports_before = ports_file.read_bytes()
        port = next(iter(json.loads(ports_before).values()))

        second = TmuxSession([CLI, "--demo-dir", str(demo_dir)], width=100, height=30, env=ENV)
        second.wait_for("in use", timeout=60)
        screen = second.wait_for("View it read-only")
        assert "demo sandbox is in use" in screen
        second.send("r")  # look only: it must not start (or rebuild) a cluster
        second.wait_for("READ-ONLY")
        second.send("C-q")
        assert second.wait_exit() == 0

        assert ports_file.read_bytes() == ports_before
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as conn:
            assert conn.recv(64).startswith(b"SSH-2.0")  # the first's cluster still serves
        first.send("C-q")
        assert first.wait_exit() == 0
    finally:
        first.close()
        if second is not None:
            second.close()
