"""What a report is made from: the session (its typed sections), the journal and the crash
reports beside it, read once and never written.

Journal records are untrusted input (a file anyone with the account can edit): each one
becomes a typed ``Entry`` of sanitised text, a value of the wrong type read as unset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import field
from pathlib import Path
from typing import Any

from tasks.lean import dataclass
from tasks.masking import mask_argv, mask_text
from tasks.session.crash import CrashReport, find_crash_reports
from tasks.session.state import Session, now_iso
from tasks.text import sanitize, strip_control


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return strip_control(value) if isinstance(value, str) else ""


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class Entry:
    """One journal record: a command, a confirmation, an event, or a damaged line."""

    n: int  # its place in the journal, from 1
    kind: str
    at: str = ""
    # The id evidence in the session names it by (tasks.release.gate checks it).
    id: str = ""
    phase: str = ""
    step: str = ""
    what: str = ""
    by: str = ""
    argv: tuple[str, ...] = ()
    cwd: str = ""
    host: str = ""
    started_at: str = ""
    finished_at: str = ""
    exit_code: int | None = None
    duration_s: float | None = None
    line: int | None = None  # a damaged record: its line in the file

    @classmethod
    def from_dict(cls, n: int, data: Any) -> Entry:
        if not isinstance(data, dict):
            return cls(n, "damaged")
        argv = data.get("argv")
        args: tuple[str, ...] = ()
        if isinstance(argv, list):
            # Masked when written; masked again (an older journal, a hand edit).
            args = tuple(strip_control(a) for a in mask_argv([str(a) for a in argv]))
        return cls(
            n=n,
            kind=_text(data, "kind") or "damaged",
            at=_text(data, "at"),
            id=_text(data, "id"),
            phase=_text(data, "phase"),
            step=_text(data, "step"),
            what=mask_text(sanitize(data["what"])) if isinstance(data.get("what"), str) else "",
            by=_text(data, "by"),
            argv=args,
            cwd=_text(data, "cwd"),
            host=_text(data, "host"),
            started_at=_text(data, "started_at"),
            finished_at=_text(data, "finished_at"),
            exit_code=_int(data, "exit_code"),
            duration_s=_float(data, "duration_s"),
            line=_int(data, "line"),
        )


@dataclass(frozen=True)
class ReportInput:
    session: Session
    entries: tuple[Entry, ...] = ()
    crashes: tuple[CrashReport, ...] = ()
    exported_at: str = field(default_factory=now_iso)
    exported_by: str = ""

    @classmethod
    def read(
        cls,
        session: Session,
        journal_entries: Iterable[dict[str, Any]],
        *,
        crash_dir: Path | None = None,
        exported_by: str = "",
    ) -> ReportInput:
        entries = tuple(Entry.from_dict(n, e) for n, e in enumerate(journal_entries, 1))
        crashes = tuple(find_crash_reports(crash_dir)) if crash_dir is not None else ()
        return cls(session, entries, crashes, now_iso(), exported_by)

    def find(self, entry_id: str) -> dict[str, Any] | None:
        """The entry with ``entry_id`` as the gate reads it (``tasks.release.gate``)."""
        entry = next((e for e in self.entries if entry_id and e.id == entry_id), None)
        if entry is None:
            return None
        return {
            "kind": entry.kind,
            "phase": entry.phase,
            "step": entry.step,
            "at": entry.at,
            "by": entry.by,
            "host": entry.host,
            "exit_code": entry.exit_code,
        }

    def of_kind(self, kind: str) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind]

    @property
    def commands(self) -> list[Entry]:
        return self.of_kind("command")

    @property
    def confirmations(self) -> list[Entry]:
        return self.of_kind("confirmation")

    @property
    def events(self) -> list[Entry]:
        return self.of_kind("event")

    def confirmation(self, phase: str, at: str, step: str | None = None) -> Entry | None:
        """The journalled confirmation behind a record made at ``at`` in ``phase``."""
        for entry in self.confirmations:
            if entry.phase == phase and entry.at == at and (step is None or entry.step == step):
                return entry
        return None

    def last_command(self, phase: str, step: str) -> Entry | None:
        found = [e for e in self.commands if e.phase == phase and e.step == step]
        return found[-1] if found else None
