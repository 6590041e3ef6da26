"""Crash reports: what went wrong, written beside the session, without local variables
(locals could hold secrets typed by the operator)."""

from __future__ import annotations

import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from tasks.session.state import write_atomic


def write_crash_report(directory: Path, error: BaseException, version: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = directory / f"crash-{stamp}.txt"
    body = [
        f"crvs-migrate {version} crashed at {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"Python {sys.version.split()[0]} on {platform.platform()}",
        "",
        *traceback.format_exception(type(error), error, error.__traceback__),
    ]
    write_atomic(path, "\n".join(line.rstrip("\n") for line in body).encode() + b"\n")
    return path
