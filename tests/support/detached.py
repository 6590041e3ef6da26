"""Helpers for tests of detached remote runs on a real sshd (tests/conftest.py's sshd_factory).

``cut_connections(sshd)`` kills, with SIGKILL, every process under the sshd listener: the
per-connection sshd processes and whatever the sessions run in the foreground (the
log follower). That is what a dropped link between jump host and server does to the
server side: the connection and its session die; a detached run (setsid, nohup) lives on.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.support.sshd import Sshd


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree = _children()
    out: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(tree.get(child, []))
    return out


def cut_connections(sshd: Sshd) -> list[int]:
    """SIGKILL every connection of ``sshd`` (the listener stays up); the pids killed."""
    assert sshd.proc is not None
    killed = []
    for pid in descendants(sshd.proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            continue
    return killed


def run_dir(user: str, run_id: str) -> Path:
    """Where the run lives on the (loopback) server: the login user's home."""
    import pwd

    return Path(pwd.getpwnam(user).pw_dir) / ".crvs-migrate" / "runs" / run_id
