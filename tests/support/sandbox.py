"""Shared helpers for the Update-and-merge tests: a real demo sandbox per test, /proc scans."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tasks.demo.sandbox import DemoSandbox, build_demo_sandbox


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1")
    env.setdefault("GIT_AUTHOR_NAME", "Test")
    env.setdefault("GIT_AUTHOR_EMAIL", "test@example.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "Test")
    env.setdefault("GIT_COMMITTER_EMAIL", "test@example.invalid")
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert out.returncode == 0, f"git {args}: {out.stderr}"
    return out.stdout.strip()


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> DemoSandbox:
    return build_demo_sandbox(tmp_path_factory.mktemp("gitflow-template") / "sandbox")


@pytest.fixture
def sandbox(sandbox_template: DemoSandbox, tmp_path: Path) -> DemoSandbox:
    """A private copy of the demo sandbox (upstream, fork with local changes, core behind origin)."""
    root = tmp_path / "sandbox"
    shutil.copytree(sandbox_template.root, root, symlinks=True)
    sb = DemoSandbox(root)
    # Point the copies at their own remotes, not the template's.
    git(sb.config_path, "remote", "set-url", "origin", str(sb.fork_remote_path))
    git(sb.config_path, "remote", "set-url", "countryconfig", str(sb.upstream_path))
    git(sb.core_path, "remote", "set-url", "origin", str(sb.core_origin_path))
    return sb


def group_gone(pgid: int, timeout: float = 5.0) -> bool:
    """True once no live process is left in group ``pgid`` (SIGKILL takes effect a moment later)."""
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid`` (a /proc scan, no psutil)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may contain spaces) in parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            members.append(int(entry))
    return members
