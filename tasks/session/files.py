"""Low-level file writing for the session's files: whole writes, atomic replacement,
no links followed where someone could plant one.

- ``write_all`` retries short writes to the end (a full disk reports itself as an
  error, never as a silently shortened record).
- ``write_atomic`` replaces a file by a temp file + fsync + rename. A symlinked path is
  written through to its target (the link is kept). Temp files a killed writer left
  beside the target are removed on the next write.
- ``open_no_follow`` opens a file in the session directory without following a link
  planted in its place (O_NOFOLLOW), optionally inside a subdirectory opened the same way.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from pathlib import Path

TEMP_SUFFIX = ".tmp"

# Temp files being written right now by this process (another thread may be saving).
_in_flight: set[str] = set()
_in_flight_lock = threading.Lock()


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``, retrying partial writes."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - POSIX write never returns 0 for n > 0
            raise OSError(f"write returned {written}")
        view = view[written:]


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def real_target(path: Path) -> Path:
    """Where writing ``path`` lands: the target of a symlink (followed to its end), else ``path``."""
    path = Path(path)
    if path.is_symlink():
        return path.resolve()
    return path


def remove_stale_temp_files(path: Path) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files beside ``path`` that no write of this process owns."""
    prefix = _temp_prefix(path)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        full = os.path.join(path.parent, name)
        with _in_flight_lock:
            if full in _in_flight:
                continue
        try:
            if entry.is_file(follow_symlinks=False) or entry.is_symlink():
                os.unlink(full)
                removed.append(Path(full))
        except OSError:
            continue
    return removed


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` so that ``path`` always holds either the old or the new content.

    Raises ``OSError`` (the old content is untouched); the caller names the file.
    """
    target = real_target(Path(path))
    remove_stale_temp_files(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(target), suffix=TEMP_SUFFIX)
    with _in_flight_lock:
        _in_flight.add(tmp)
    try:
        try:
            os.fchmod(fd, mode)
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        with _in_flight_lock:
            _in_flight.discard(tmp)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def open_no_follow(path: Path, flags: int, mode: int = 0o600, *, subdir_levels: int = 0) -> int:
    """``os.open(path)`` refusing symbolic links (``ELOOP``) for the file itself and for
    the ``subdir_levels`` directories just above it (e.g. 1 for ``session.logs/x.log``)."""
    path = Path(path)
    flags |= os.O_NOFOLLOW | os.O_CLOEXEC
    if subdir_levels == 0:
        return os.open(path, flags, mode)
    base = path.parents[subdir_levels]
    dir_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        here = base
        for part in path.parent.parts[len(base.parts) :]:
            here = here / part
            try:
                next_fd = os.open(
                    part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd
                )
            except NotADirectoryError:
                # O_DIRECTORY|O_NOFOLLOW on a link says "not a directory": name the link.
                if here.is_symlink():
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(here)) from None
                raise
            os.close(dir_fd)
            dir_fd = next_fd
        return os.open(path.name, flags, mode, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
