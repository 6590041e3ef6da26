"""One writer per session: the lock between real processes, stale locks, the demo dir."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.session.lock import LockFileError, LockHolder, SessionInUse, SessionLock

ROOT = Path(__file__).resolve().parents[2]

HOLDER = r"""
import sys, time
from pathlib import Path
from tasks.session.lock import SessionLock
lock = SessionLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.readline()  # hold until told (or killed)
lock.release()
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_a_second_process_is_told_who_holds_the_session(tmp_path: Path) -> None:
    path = tmp_path / "session.toml.lock"
    first = _holder(path)
    try:
        with pytest.raises(SessionInUse) as info:
            SessionLock(path).acquire()
        holder = info.value.holder
        assert holder is not None and holder.pid == first.pid
        assert "@" in holder.by and holder.since
        assert f"in use by {holder.by} (process {first.pid}) since {holder.since}" in (
            info.value.message
        )
    finally:
        assert first.stdin is not None
        first.stdin.write("\n")
        first.stdin.close()
        first.wait(timeout=10)
    # Released cleanly: the next one takes it, and nothing stale is reported.
    lock = SessionLock(path)
    assert lock.acquire() is None
    lock.release()
    assert path.read_bytes() == b""


def test_a_killed_holders_lock_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "session.toml.lock"
    first = _holder(path)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    recorded = LockHolder.parse(path.read_bytes())
    assert recorded is not None and recorded.pid == first.pid and not recorded.is_alive_here()
    lock = SessionLock(path)
    stale = lock.acquire()
    assert stale == recorded
    assert json.loads(path.read_text())["pid"] == os.getpid()
    lock.release()


def test_a_lock_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "target").write_text("x")
    link = tmp_path / "session.toml.lock"
    link.symlink_to(tmp_path / "target")
    with pytest.raises(LockFileError) as info:
        SessionLock(link).acquire()
    assert "symbolic link" in info.value.message
    assert (tmp_path / "target").read_text() == "x"


def test_a_garbled_lock_record_still_locks(tmp_path: Path) -> None:
    path = tmp_path / "session.toml.lock"
    path.write_bytes(b"\xff\x00 not json")
    lock = SessionLock(path)
    assert lock.acquire() is None
    with pytest.raises(SessionInUse):
        SessionLock(path).acquire()  # same process, another open file: still exclusive
    lock.release()
