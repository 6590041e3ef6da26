"""The files of a detached step, beside its log, and what they say after a restart.

A step runs under a supervisor (``tasks.local.supervise``) that outlives the app. Beside
the step's log ``<name>.log`` in the session's logs directory it writes:

- ``<name>.run.json`` when the command started: the supervisor's and the command's pids,
  when it started, where the command's output starts in the log, the command (masked);
- ``<name>.status.json`` when the command ended: exit code, cancelled or not, when, how
  long, where its output ends in the log.

On the next start the app reads them (strictly: any other shape is ignored, never
trusted) to tell a step that still runs (reattach), one that ended while the app was
away (its real exit code and end time) and one whose supervisor died (interrupted).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from tasks.lean import dataclass
from tasks.session.files import open_no_follow

SUPERVISOR = Path(__file__).with_name("supervise.py")
MAX_FILE = 64 * 1024


@dataclass(frozen=True)
class RunInfo:
    supervisor_pid: int
    child_pid: int
    started_at: str
    started_epoch: float
    output_start: int
    argv: tuple[str, ...]
    cwd: str


@dataclass(frozen=True)
class RunStatus:
    exit_code: int | None
    cancelled: bool
    finished_at: str
    finished_epoch: float
    duration_s: float
    lines: int
    output_end: int
    log_error: str | None = None
    # Why the command did not start ("not_found", "cannot_start"), if it did not.
    error: str | None = None


def _int(data: dict[str, Any], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(key)
    return value


def _float(data: dict[str, Any], key: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(key)
    return float(value)


def _str(data: dict[str, Any], key: str, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(key)
    return value


@dataclass(frozen=True)
class RunFiles:
    """The log of one run and the files its supervisor writes beside it."""

    log: Path

    @property
    def name(self) -> str:
        return self.log.stem

    @property
    def run_path(self) -> Path:
        return self.log.with_name(f"{self.name}.run.json")

    @property
    def status_path(self) -> Path:
        return self.log.with_name(f"{self.name}.status.json")

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            fd = open_no_follow(path, os.O_RDONLY, subdir_levels=1)
        except OSError:
            return None
        try:
            raw = os.read(fd, MAX_FILE + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        if len(raw) > MAX_FILE:
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == 1 else None

    def read_run(self) -> RunInfo | None:
        data = self._read(self.run_path)
        if data is None:
            return None
        try:
            argv = data["argv"]
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                raise ValueError("argv")
            return RunInfo(
                supervisor_pid=_int(data, "supervisor_pid"),
                child_pid=_int(data, "child_pid"),
                started_at=_str(data, "started_at") or "",
                started_epoch=_float(data, "started_epoch"),
                output_start=_int(data, "output_start"),
                argv=tuple(argv),
                cwd=_str(data, "cwd") or "",
            )
        except (KeyError, ValueError):
            return None

    def status_exists(self) -> bool:
        return os.path.lexists(self.status_path)

    def read_status(self) -> RunStatus | None:
        data = self._read(self.status_path)
        if data is None:
            return None
        try:
            code = data.get("exit_code")
            if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
                raise ValueError("exit_code")
            cancelled = data.get("cancelled", False)
            if not isinstance(cancelled, bool):
                raise ValueError("cancelled")
            return RunStatus(
                exit_code=code,
                cancelled=cancelled,
                finished_at=_str(data, "finished_at") or "",
                finished_epoch=_float(data, "finished_epoch"),
                duration_s=_float(data, "duration_s"),
                lines=_int(data, "lines"),
                output_end=_int(data, "output_end"),
                log_error=_str(data, "log_error", optional=True),
                error=_str(data, "error", optional=True),
            )
        except (KeyError, ValueError):
            return None

    def supervisor_alive(self, info: RunInfo) -> bool:
        """Whether ``info``'s supervisor still runs: a live process whose command line is
        this run's supervisor (a pid reused by another program does not count)."""
        return supervisor_running(info.supervisor_pid, self.name)


def supervisor_running(pid: int, name: str) -> bool:
    if pid <= 1:
        return False
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():  # pragma: no cover - Linux is the target
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]:
        return False  # ended, not reaped yet
    args = [a.decode("utf-8", "replace") for a in cmdline]
    return any(a.endswith(SUPERVISOR.name) for a in args) and name in args


def supervisor_argv(
    dir_fd: int, log_fd: int, name: str, cwd: Path, grace_s: float, argv: tuple[str, ...]
) -> list[str]:
    """How the app starts the supervisor: this interpreter, isolated (-I), constant code."""
    return [
        sys.executable,
        "-I",
        str(SUPERVISOR),
        str(dir_fd),
        str(log_fd),
        name,
        str(cwd),
        f"{grace_s:g}",
        *argv,
    ]
