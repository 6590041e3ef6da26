"""Crash reports: what went wrong, written beside the session, without local variables
(locals could hold secrets typed by the operator or read from env files)."""

from __future__ import annotations

import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from tasks.lean import dataclass, regex
from tasks.masking import mask_text
from tasks.session.files import open_no_follow, write_atomic
from tasks.text import strip_control

# What is read of a crash report to describe it (a report is a few kilobytes).
_READ = 64 * 1024
_CRASHED_AT = regex(r"crashed at (\S+)")


def _failure(error: BaseException) -> BaseException:
    """The exception that went wrong: a failed worker wraps its error in another one
    (``textual.worker.WorkerFailed.error``) that carries no traceback of its own."""
    inner = getattr(error, "error", None)
    if isinstance(inner, BaseException) and error.__traceback__ is None:
        return inner
    return error


def write_crash_report(directory: Path, error: BaseException, version: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = directory / f"crash-{stamp}.txt"
    failure = _failure(error)
    body = [
        f"crvs-migrate {version} crashed at {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"Python {sys.version.split()[0]} on {platform.platform()}",
        "",
        *(
            [f"{type(error).__name__}: the failure below happened in a background task", ""]
            if failure is not error
            else []
        ),
        # Frames and messages only (format_exception never includes locals); messages
        # are masked in case one quotes a secret-looking argument.
        *(mask_text(line) for line in traceback.format_exception(failure)),
    ]
    write_atomic(path, "\n".join(line.rstrip("\n") for line in body).encode() + b"\n")
    return path


@dataclass(frozen=True)
class CrashReport:
    """A crash report found beside a session: when, and the error it ends with."""

    path: Path
    at: str
    error: str


def find_crash_reports(directory: Path) -> list[CrashReport]:
    """Every ``crash-*.txt`` in ``directory``, oldest first (links and unreadable files
    are left out). The error line is masked and stripped: it is shown in reports."""
    found: list[CrashReport] = []
    try:
        names = sorted(p for p in Path(directory).glob("crash-*.txt"))
    except OSError:
        return found
    for path in names:
        try:
            fd = open_no_follow(path, os.O_RDONLY)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as fh:
            text = fh.read(_READ).decode("utf-8", errors="replace")
        lines = [line for line in text.splitlines() if line.strip()]
        match = _CRASHED_AT.search(lines[0]) if lines else None
        at = match.group(1) if match else ""
        error = lines[-1].strip() if len(lines) > 2 else ""
        found.append(CrashReport(path, at, mask_text(strip_control(error))[:300]))
    return found
