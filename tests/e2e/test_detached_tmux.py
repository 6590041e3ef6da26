"""A dropped terminal costs nothing: the real CLI in tmux runs a 20-second yarn step; the app
is killed (SIGKILL), or its whole tmux session is; the step goes on; the next start finds it
reattached (live output, elapsed time from its real start) or recorded with its real exit
code and end time, and its log holds every line."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from tasks.local.detached import RunFiles, supervisor_running
from tasks.sections import open_session
from tasks.session.phases import StepStatus
from tasks.session.state import Session, save_session
from tasks.upgrade.answers import Answers
from tests.support.tmux import TmuxSession

CLI = str(Path(sys.executable).parent / "crvs-migrate")
ENV = {"TERM": "xterm-256color"}
TICKS = 20

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("yarn") is None, reason="guard only: CI installs yarn"),
]


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.1)


def _installation(tmp_path: Path, sandbox, exit_code: int) -> Path:
    """opencrvs-core whose `yarn --force` takes 20 s (its preinstall prints a tick a second),
    and a session that opens on Update opencrvs-core."""
    core = sandbox.core_path
    data = json.loads((core / "package.json").read_text())
    data.setdefault("scripts", {})["preinstall"] = (
        f"for i in $(seq 1 {TICKS}); do echo tick $i; sleep 1; done; exit {exit_code}"
    )
    (core / "package.json").write_text(json.dumps(data, indent=2) + "\n")
    state = tmp_path / "state" / "session.toml"
    session = Session(current_view="update_core")
    answers = Answers.of(session)
    answers.core_path = str(core)
    answers.target_version = "1.3.5"
    answers.core_customised = False
    save_session(state, session)
    return state


def _start_yarn(term: TmuxSession) -> None:
    """Tab to the steps, down to yarn --force, Enter; node is not 16 here: --ignore-engines."""
    term.wait_for("Fetch the release tag", timeout=60)
    term.wait_for("local changes: 1 changed", timeout=30)  # the checks are done (package.json)
    term.send("Tab")
    term.send("Down", "Down", "Down", "Down")
    term.send("Enter")
    term.wait_for("is not node 16", timeout=30)
    term.send("BTab")  # from Cancel (the default) to "Run with --ignore-engines"
    term.send("Enter")


def _holder_pid(state: Path) -> int:
    return int(json.loads(state.with_name(state.name + ".lock").read_text())["pid"])


def _step(state: Path):
    session = open_session(state)
    assert session is not None
    return session.phase("update_core").step("yarn_install")


def _ticks(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("tick ")]


def test_app_killed_mid_step_then_reattached_live(tmp_path: Path, sandbox) -> None:
    state = _installation(tmp_path, sandbox, exit_code=7)
    term = TmuxSession([CLI, "--state", str(state)], width=120, height=40, env=ENV)
    try:
        _start_yarn(term)
        term.wait_for("tick 3", timeout=30)
        rec = _step(state)
        assert rec.status is StepStatus.RUNNING and rec.log_file
        log = Path(rec.log_file)
        info = RunFiles(log).read_run()
        assert info is not None
        os.kill(_holder_pid(state), signal.SIGKILL)
        killed_at = time.monotonic()  # "tick 3" was shown: the step ran for 2 s at least
        term.wait_exit(timeout=10)
    finally:
        term.close()
    # The app is gone; the step is not.
    assert supervisor_running(info.supervisor_pid, log.stem)
    seen = len(_ticks(log))
    _wait(lambda: len(_ticks(log)) > seen, 5, "the step going on")

    again = TmuxSession([CLI, "--state", str(state)], width=120, height=40, env=ENV)
    try:
        again.wait_for("reattached", timeout=60)
        # The phase's body (and in it the step's pane) follows its frame by a moment.
        screen = again.wait_for("running · ", timeout=10)
        since_kill = time.monotonic() - killed_at
        # Elapsed from the step's real start, not from the reattach (shown twice a second).
        elapsed = re.search(r"running · (\d+\.\d) s", screen)
        assert elapsed is not None, screen
        assert float(elapsed.group(1)) >= 2.0 + since_kill - 1.0, (since_kill, screen)
        # Its output so far comes from its log (the lines before the kill too), then live.
        again.wait_for("tick 2", timeout=10)
        again.wait_for(f"tick {TICKS}", timeout=40)
        screen = again.wait_for("exit code 7 ·", timeout=20)
        # The cause, found in its output, with the log's path and a way forward.
        screen = again.wait_for("Cause: error Command failed with exit code 7", timeout=10)
        assert "Full output:" in screen and "Press d to record" in screen
        again.send("C-q")
        assert again.wait_exit(timeout=20) == 0
    finally:
        again.close()
    rec = _step(state)
    assert rec.status is StepStatus.FAILED and rec.exit_code == 7
    assert _ticks(log) == [f"tick {i}" for i in range(1, TICKS + 1)]  # every line, once
    status = RunFiles(log).read_status()
    assert status is not None and rec.finished_at == status.finished_at


def test_tmux_session_killed_mid_step_then_recorded_with_its_real_end(
    tmp_path: Path, sandbox
) -> None:
    state = _installation(tmp_path, sandbox, exit_code=0)
    term = TmuxSession([CLI, "--state", str(state)], width=120, height=40, env=ENV)
    try:
        _start_yarn(term)
        term.wait_for("tick 2", timeout=30)
        app_pid = _holder_pid(state)
    finally:
        term.close()  # the terminal goes, and every process of its session with it
    _wait(lambda: not _alive(app_pid), 10, "the app ending with its terminal")
    rec = _step(state)
    assert rec.status is StepStatus.RUNNING and rec.log_file
    log = Path(rec.log_file)
    files = RunFiles(log)
    _wait(lambda: files.read_status() is not None, 40, "the step ending on its own")
    status = files.read_status()
    assert status is not None and status.exit_code == 0

    again = TmuxSession([CLI, "--state", str(state)], width=120, height=40, env=ENV)
    try:
        again.wait_for("Step ended meanwhile", timeout=60)  # the toast's title
        again.send("C-q")
        assert again.wait_exit(timeout=20) == 0
    finally:
        again.close()
    rec = _step(state)
    assert rec.status is StepStatus.SUCCEEDED and rec.exit_code == 0
    assert rec.finished_at == status.finished_at and rec.duration_s == status.duration_s
    assert _ticks(log) == [f"tick {i}" for i in range(1, TICKS + 1)]
    session = open_session(state)
    assert session is not None
    journal = state.with_name("session.journal.jsonl").read_text().splitlines()
    commands = [json.loads(line) for line in journal if '"command"' in line]
    assert [c["step"] for c in commands] == ["yarn_install"] and commands[0]["exit_code"] == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[:1] != ["Z"]
