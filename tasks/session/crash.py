"""Crash reports: what went wrong, written beside the session, without local variables
(locals could hold secrets typed by the operator or read from env files)."""

from __future__ import annotations

import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from tasks.masking import mask_text
from tasks.session.files import write_atomic


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
