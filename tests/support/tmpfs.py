"""A real small filesystem to fill up: tmpfs mounted on a temp dir (root only).

``small_tmpfs(tmp_path, size="256k")`` mounts it and unmounts at the end; the test is
skipped with the reason when it cannot be mounted (not root, no CAP_SYS_ADMIN).
``fill(directory)`` writes a file until the disk is full and returns it (delete it to
free the space again).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_tmpfs(tmp_path: Path, size: str = "256k") -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    if shutil.which("mount") is None:
        pytest.skip("mount(8) is not installed")
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, check=False)


def fill(directory: Path, name: str = "filler") -> Path:
    """Write zeros into ``directory/name`` until the filesystem is full."""
    path = directory / name
    block = b"\0" * 4096
    with path.open("wb", buffering=0) as fh:
        while True:
            try:
                fh.write(block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    # The last block may have gone in partly: write single bytes until none fit.
    with path.open("ab", buffering=0) as fh:
        while True:
            try:
                fh.write(b"\0")
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return path
