"""One writer per session: an exclusive lock on a file beside the session file.

The lock is ``flock(LOCK_EX)`` on ``<session>.lock`` (beside the real file when the
session path is a link, so two links to one session share one lock), held as long as
the app runs. The file records who holds it (user@host, pid, since) so a second
instance can say who is using the session. The kernel releases an flock when its
process dies, however it dies; a record left behind by a process that no longer holds
the lock (killed, crashed) is a stale lock: it is taken over, and the caller notes it
in the journal. The file itself is never deleted (deleting a lock file races with the
next instance opening it).

The same lock guards a demo sandbox directory (its cluster listens on ports recorded in
the sandbox: two instances would fight over them).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from tasks.errors import CrvsError, StorageError
from tasks.lean import dataclass
from tasks.session.files import open_no_follow, write_all
from tasks.session.state import now_iso


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) a lock, as recorded in the lock file."""

    by: str
    host: str
    pid: int
    since: str

    def describe(self) -> str:
        return f"{self.by} (process {self.pid}) since {self.since}"

    def is_alive_here(self) -> bool:
        """Whether the recorded process still runs (only answerable on its own host)."""
        if self.host != socket.gethostname():
            return True  # cannot tell: assume it does
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # exists, another user's
        return True

    def to_json(self) -> str:
        return json.dumps(
            {"by": self.by, "host": self.host, "pid": self.pid, "since": self.since},
            sort_keys=True,
        )

    @classmethod
    def parse(cls, raw: bytes) -> LockHolder | None:
        """The holder recorded in a lock file; ``None`` when empty or unreadable."""
        try:
            data = json.loads(raw.decode("utf-8"))
            holder = cls(str(data["by"]), str(data["host"]), int(data["pid"]), str(data["since"]))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None
        return holder


class LockFileError(StorageError):
    title = "The session cannot be locked"
    what = "The lock file"


class SessionInUse(CrvsError):
    """Another instance holds the lock."""

    title = "This session is in use"

    def __init__(self, path: Path, holder: LockHolder | None, what: str = "session") -> None:
        self.path = Path(path)
        self.holder = holder
        self.what = what
        if holder is None:
            who = "another crvs-migrate (it did not record who)"
        else:
            who = holder.describe()
            if not holder.is_alive_here():
                who += f" (process {holder.pid} has ended, yet the lock is held)"
        super().__init__(
            f"This {what} is in use by {who}.\n\nLock: {self.path}\n\n"
            "Only one crvs-migrate may change it at a time. You can view it read-only "
            "(nothing is saved or run), or quit and continue in the other window."
        )


def current_holder() -> LockHolder:
    from tasks.session.journal import operator_identity

    return LockHolder(operator_identity(), socket.gethostname(), os.getpid(), now_iso())


class SessionLock:
    """``acquire()`` once; ``release()`` (or process exit) lets the next instance in."""

    def __init__(self, path: Path, what: str = "session") -> None:
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None
        # The record of a dead holder this acquisition took over (for the journal).
        self.taken_over: LockHolder | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait_s: float = 0.0) -> LockHolder | None:
        """Take the lock; returns the stale holder taken over, if any.

        ``wait_s``: keep trying that long while another holds it (a served demo's page
        reloads while the previous app process is still quitting).

        Raises ``SessionInUse`` when another instance holds it, ``LockFileError`` when
        the lock file cannot be created (read-only directory, full disk, a link).
        """
        if self._fd is not None:
            return self.taken_over
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = open_no_follow(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockFileError(self.path, exc) from exc
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                holder = LockHolder.parse(_read_all(fd))
                os.close(fd)
                raise SessionInUse(self.path, holder, self.what) from None
            except OSError as exc:
                os.close(fd)
                raise LockFileError(self.path, exc) from exc
        previous = LockHolder.parse(_read_all(fd))
        try:
            os.ftruncate(fd, 0)
            write_all(fd, (current_holder().to_json() + "\n").encode("utf-8"))
            os.fsync(fd)
        except OSError:
            # A full disk: the lock is ours all the same, only the note of who holds it
            # is missing (a second instance then says "did not record who").
            pass
        self._fd = fd
        self.taken_over = previous
        return previous

    def release(self) -> None:
        """Clear the record and unlock (a clean exit leaves no stale lock)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass  # a full disk cannot stop a truncate, a read-only remount can: harmless
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_all(fd: int) -> bytes:
    try:
        return os.pread(fd, 4096, 0)
    except OSError:
        return b""
