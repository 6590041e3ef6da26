"""The append-only journal: every command run and every operator confirmation.

JSON lines, opened with O_APPEND (and O_NOFOLLOW: a link planted in its place is
refused) and never rewritten. Each record is written whole: short writes are retried
to the end and fsynced; a record cut short (a full disk, a kill) is reported when the
journal is opened and never merged with the next one (a newline is written first).
Secrets never enter it: argv and confirmation texts go through ``tasks.masking``.
Text from subprocesses and remote hosts is stripped of control characters first.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
from collections.abc import Iterator, Sequence
from dataclasses import asdict, field
from pathlib import Path
from typing import Any

from tasks.errors import JournalWriteError
from tasks.lean import dataclass
from tasks.masking import MASK as MASK
from tasks.masking import mask_argv as mask_argv
from tasks.masking import mask_text
from tasks.session.files import open_no_follow, write_all
from tasks.session.state import now_iso
from tasks.text import sanitize


def operator_identity() -> str:
    """user@host of whoever is at the keyboard, for confirmations."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


@dataclass
class JournalEntry:
    kind: str  # "command" | "confirmation" | "event"
    at: str = field(default_factory=now_iso)
    # Evidence in the session names the journal entry it stands on.
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    phase: str | None = None
    step: str | None = None
    # command
    argv: list[str] | None = None
    cwd: str | None = None
    host: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    duration_s: float | None = None
    # confirmation / event
    what: str | None = None
    by: str | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)


@dataclass(frozen=True)
class DamagedTail:
    """The journal's last record was cut short (its line does not end or does not parse)."""

    line: int
    length: int

    def describe(self, path: Path) -> str:
        return (
            f"The last record of the journal {path} (line {self.line}, {self.length} bytes) "
            "is incomplete: it was cut short, e.g. by a full disk or a kill. It is kept "
            "as it is and marked as damaged; new records start on a new line."
        )


class Journal:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        # A read-only window (another instance holds the session) records nothing.
        self.read_only = read_only
        # id -> entry, rebuilt when the file changed (the gate asks often).
        self._index: dict[str, dict[str, Any]] = {}
        self._indexed: tuple[int, int] | None = None

    def append(self, entry: JournalEntry) -> JournalEntry:
        """Write ``entry`` as one whole line; raises ``JournalWriteError`` when it cannot."""
        if self.read_only:
            return entry
        line = (entry.to_json() + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = open_no_follow(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalWriteError(self.path, exc) from exc
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # the last record was cut short: keep it apart
            write_all(fd, line)
            os.fsync(fd)
        except OSError as exc:
            raise JournalWriteError(self.path, exc) from exc
        finally:
            os.close(fd)
        return entry

    def damaged_tail(self) -> DamagedTail | None:
        """Whether the last record is incomplete (checked when a session is opened)."""
        try:
            fd = open_no_follow(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                return None
            chunk = os.pread(fd, min(size, 1 << 20), max(0, size - (1 << 20)))
        finally:
            os.close(fd)
        last = chunk.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        if not last.strip():
            return None
        try:
            json.loads(last)
            return None  # whole (a missing final newline alone loses nothing)
        except ValueError:
            pass
        with os.fdopen(open_no_follow(self.path, os.O_RDONLY), "rb") as fh:
            lines = sum(1 for _ in fh)
        return DamagedTail(line=lines, length=len(last))

    def command(
        self,
        argv: Sequence[str],
        cwd: str | os.PathLike[str] | None,
        started_at: str,
        finished_at: str,
        exit_code: int | None,
        *,
        duration_s: float | None = None,
        phase: str | None = None,
        step: str | None = None,
        host: str | None = None,
    ) -> JournalEntry:
        return self.append(
            JournalEntry(
                kind="command",
                argv=[sanitize(a) for a in mask_argv(list(argv))],
                cwd=sanitize(str(cwd)) if cwd is not None else None,
                host=sanitize(host) if host is not None else None,
                started_at=started_at,
                finished_at=finished_at,
                exit_code=exit_code,
                duration_s=round(duration_s, 3) if duration_s is not None else None,
                phase=phase,
                step=step,
            )
        )

    def confirmation(
        self, what: str, *, phase: str | None = None, step: str | None = None
    ) -> JournalEntry:
        return self.append(
            JournalEntry(
                kind="confirmation",
                what=mask_text(sanitize(what)),
                by=operator_identity(),
                phase=phase,
                step=step,
            )
        )

    def event(self, what: str, *, phase: str | None = None) -> JournalEntry:
        return self.append(JournalEntry(kind="event", what=mask_text(sanitize(what)), phase=phase))

    def find(self, entry_id: str) -> dict[str, Any] | None:
        """The entry with ``entry_id`` (None if the journal has none)."""
        if not entry_id:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        stamp = (st.st_size, st.st_mtime_ns)
        if stamp != self._indexed:
            self._index = {
                str(e["id"]): e
                for e in self.entries()
                if isinstance(e, dict) and isinstance(e.get("id"), str)
            }
            self._indexed = stamp
        return self._index.get(entry_id)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Read back every entry; a damaged line is reported as such, not dropped silently."""
        try:
            fd = open_no_follow(self.path, os.O_RDONLY)
        except OSError:
            return
        fh = os.fdopen(fd, "r", encoding="utf-8", errors="replace")
        with fh:
            for n, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    yield {"kind": "damaged", "line": n}
