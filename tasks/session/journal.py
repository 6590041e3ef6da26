"""The append-only journal: every command run and every operator confirmation.

JSON lines, opened with O_APPEND and never rewritten. Secrets never enter it:
arguments that look like credentials are masked before they are written.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import socket
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tasks.session.state import now_iso

_SECRET_KEY = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE|DSN)", re.IGNORECASE)
MASK = "********"


def operator_identity() -> str:
    """user@host of whoever is at the keyboard, for confirmations."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def mask_argv(argv: Sequence[str]) -> list[str]:
    """Mask values of ``--x=...`` / ``X=...`` arguments whose name looks like a secret."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        name, sep, _value = arg.partition("=")
        if sep and _SECRET_KEY.search(name):
            out.append(f"{name}={MASK}")
        elif arg.startswith("--") and not sep and _SECRET_KEY.search(arg):
            out.append(arg)
            hide_next = True
        else:
            out.append(arg)
    return out


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


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # id -> entry, rebuilt when the file changed (the gate asks often).
        self._index: dict[str, dict[str, Any]] = {}
        self._indexed: tuple[int, int] | None = None

    def append(self, entry: JournalEntry) -> JournalEntry:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = (entry.to_json() + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry

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
                argv=mask_argv(list(argv)),
                cwd=str(cwd) if cwd is not None else None,
                host=host,
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
                kind="confirmation", what=what, by=operator_identity(), phase=phase, step=step
            )
        )

    def event(self, what: str, *, phase: str | None = None) -> JournalEntry:
        return self.append(JournalEntry(kind="event", what=what, phase=phase))

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
            fh = self.path.open("r", encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        with fh:
            for n, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    yield {"kind": "damaged", "line": n}
