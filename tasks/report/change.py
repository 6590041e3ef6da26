"""The change as the change board approved it: its number, the maintenance window, the
approvers and their sign-off, and the closing note.

The ``change`` section of the session (``ChangeRecord.of(session)``), entered in the
Report screen. Every change to it is the operator's journalled word (who, when): a
sign-off records the approver's name as typed, the time, who recorded it (user@host) and
what it covered (the change number and window at that moment), so a window moved after a
sign-off shows in the report. Typed text is stripped of control characters, kept short,
and masked like everything crvs-migrate writes (``tasks.masking``).
"""

from __future__ import annotations

import re
from dataclasses import field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from tasks.errors import CrvsError
from tasks.lean import dataclass
from tasks.masking import mask_text
from tasks.session import records
from tasks.session.journal import Journal
from tasks.session.state import Session
from tasks.text import sanitize, strip_control

VIEW = "report"
MAX_NUMBER = 64
MAX_NAME = 80
MAX_NOTE = 2000
# A maintenance window longer than this is a typing mistake, not a window.
MAX_WINDOW = timedelta(days=7)


class ChangeRefused(CrvsError):
    title = "Change record"


@dataclass
class Approver:
    """Someone whose sign-off the change needs, as typed in the app."""

    name: str
    role: str = ""
    added_at: str = ""
    added_by: str = ""
    # The sign-off: when, who recorded it (user@host), and what it covered.
    signed_at: str = ""
    signed_by: str = ""
    signed_for: str = ""

    @property
    def signed(self) -> bool:
        return bool(self.signed_at)

    @property
    def title(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name


@dataclass
class ChangeRecord:
    """``session.change``: what the change board asks the record to carry."""

    KEY: ClassVar[str] = "change"

    number: str = ""
    # The planned maintenance window, timezone-aware ISO 8601.
    window_start: str = ""
    window_end: str = ""
    # When (and by whom) the number or window last changed.
    details_at: str = ""
    details_by: str = ""
    approvers: list[Approver] = field(default_factory=list)
    closing_note: str = ""
    closing_note_at: str = ""
    closing_note_by: str = ""

    @classmethod
    def of(cls, session: Session) -> ChangeRecord:
        return session.section(cls)

    def to_state(self) -> dict[str, Any]:
        return records.to_state(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ChangeRecord:
        record = records.from_state(cls, data)
        for text in (record.window_start, record.window_end):
            if text and parse_aware(text) is None:
                raise ValueError(f"'{text}' is not a time with its timezone")
        return record

    def approver(self, name: str) -> Approver | None:
        key = _key(name)
        return next((a for a in self.approvers if _key(a.name) == key), None)

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        start, end = parse_aware(self.window_start), parse_aware(self.window_end)
        return (start, end) if start is not None and end is not None else None

    def covers(self) -> str:
        """What a sign-off made now covers, in words."""
        from tasks.report.words import when

        parts = [f"change {self.number}" if self.number else "no change number"]
        if self.window is not None:
            parts.append(f"window {when(self.window_start)} to {when(self.window_end)}")
        return ", ".join(parts)


# -- typed text -------------------------------------------------------------------


def _clean(text: str, limit: int) -> str:
    return mask_text(strip_control(" ".join(text.split())))[:limit]


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def change_number_problem(text: str) -> str | None:
    value = " ".join(text.split())
    if len(value) > MAX_NUMBER:
        return f"At most {MAX_NUMBER} characters"
    if value != strip_control(value):
        return "Control characters are not allowed"
    return None


def parse_aware(text: str) -> datetime | None:
    """An ISO 8601 time with its timezone; None when it has none or does not read."""
    try:
        value = datetime.fromisoformat(text.strip())
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo is not None else None


def parse_window_time(text: str, *, local: Any = None) -> datetime:
    """``2024-05-04 22:00`` (this machine's timezone, or ``local``), ``…+03:00``, ``…Z``
    or ``… UTC``. Raises ``ValueError`` in the operator's words."""
    value = " ".join(text.split())
    if not value:
        raise ValueError("Enter a date and time, e.g. 2024-05-04 22:00")
    value = re.sub(r"\s*(?:UTC|Z)$", "+00:00", value, flags=re.IGNORECASE)
    value = re.sub(r"\s+([+-]\d{2}:?\d{2})$", r"\1", value)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"'{value}' does not read as a date and time: write e.g. 2024-05-04 22:00 "
            "(this machine's time zone) or 2024-05-04 22:00+03:00"
        ) from None
    if when.tzinfo is None:
        zone = local or datetime.now().astimezone().tzinfo
        when = when.replace(tzinfo=zone)
    return when.replace(microsecond=0)


def window_problem(start_text: str, end_text: str, *, local: Any = None) -> str | None:
    if not start_text.strip() and not end_text.strip():
        return None
    try:
        start = parse_window_time(start_text, local=local)
        end = parse_window_time(end_text, local=local)
    except ValueError as exc:
        return str(exc)
    if end <= start:
        return "The window must end after it starts"
    if end - start > MAX_WINDOW:
        return "A maintenance window of more than 7 days is not a window"
    return None


# -- the operator's journalled word ------------------------------------------------------


def set_change_details(
    session: Session,
    journal: Journal,
    number: str,
    window_start: str,
    window_end: str,
    *,
    local: Any = None,
) -> ChangeRecord:
    """The change number and the planned window (both optional); journalled."""
    if problem := change_number_problem(number):
        raise ChangeRefused(f"Change or ticket number: {problem}.")
    if problem := window_problem(window_start, window_end, local=local):
        raise ChangeRefused(f"Maintenance window: {problem}.")
    record = ChangeRecord.of(session)
    clean = _clean(number, MAX_NUMBER)
    start = end = ""
    if window_start.strip():
        start = parse_window_time(window_start, local=local).isoformat()
        end = parse_window_time(window_end, local=local).isoformat()
    if (clean, start, end) == (record.number, record.window_start, record.window_end):
        return record
    from tasks.report.words import when

    window = (
        f"maintenance window {when(start)} to {when(end)}" if start else "no maintenance window"
    )
    entry = journal.confirmation(
        f"Change details: number {clean or '(none)'}, {window}", phase=VIEW, step="change"
    )
    record.number, record.window_start, record.window_end = clean, start, end
    record.details_at, record.details_by = entry.at, entry.by or ""
    return record


def add_approver(session: Session, journal: Journal, name: str, role: str = "") -> Approver:
    clean, role = _clean(name, MAX_NAME), _clean(role, MAX_NAME)
    if not clean:
        raise ChangeRefused("Type the approver's name.")
    record = ChangeRecord.of(session)
    if record.approver(clean) is not None:
        raise ChangeRefused(f"{clean} is already an approver of this change.")
    approver = Approver(clean, role)
    entry = journal.confirmation(f"Approver added: {approver.title}", phase=VIEW, step="approver")
    approver.added_at, approver.added_by = entry.at, entry.by or ""
    record.approvers.append(approver)
    return approver


def remove_approver(session: Session, journal: Journal, name: str) -> None:
    record = ChangeRecord.of(session)
    approver = record.approver(name)
    if approver is None:
        raise ChangeRefused(f"{_clean(name, MAX_NAME)} is not an approver of this change.")
    if approver.signed:
        raise ChangeRefused(
            f"{approver.title} signed off at {approver.signed_at}: a sign-off stays in the record."
        )
    journal.confirmation(f"Approver removed: {approver.title}", phase=VIEW, step="approver")
    record.approvers.remove(approver)


def record_sign_off(session: Session, journal: Journal, name: str) -> Approver:
    """The approver ``name`` signed off the change as it stands now."""
    record = ChangeRecord.of(session)
    approver = record.approver(name)
    if approver is None:
        raise ChangeRefused(f"Add {_clean(name, MAX_NAME)} as an approver first.")
    if approver.signed:
        raise ChangeRefused(f"{approver.title} already signed off at {approver.signed_at}.")
    if not record.number:
        raise ChangeRefused("Enter the change or ticket number first: a sign-off is for a change.")
    covers = record.covers()
    entry = journal.confirmation(
        f"Sign-off: {approver.title} approved {covers}", phase=VIEW, step="sign_off"
    )
    approver.signed_at, approver.signed_by, approver.signed_for = entry.at, entry.by or "", covers
    return approver


def set_closing_note(session: Session, journal: Journal, text: str) -> ChangeRecord:
    record = ChangeRecord.of(session)
    clean = mask_text(sanitize(text.strip()))[:MAX_NOTE]
    if clean == record.closing_note:
        return record
    entry = journal.confirmation(
        f"Closing note: {clean or '(removed)'}", phase=VIEW, step="closing_note"
    )
    record.closing_note = clean
    record.closing_note_at, record.closing_note_by = entry.at, entry.by or ""
    return record


def signed_after(approver: Approver, moment: str) -> bool:
    """Whether the sign-off came after ``moment`` (an ISO time), e.g. the production deploy."""
    signed, then = parse_aware(approver.signed_at), parse_aware(moment)
    return signed is not None and then is not None and signed > then


def utc(text: str) -> datetime | None:
    value = parse_aware(text)
    return value.astimezone(UTC) if value is not None else None
