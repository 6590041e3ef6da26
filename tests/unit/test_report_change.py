"""The change record: typed times read in the operator's zone, every change journalled, a
sign-off bound to what it covered, hand edits refused at load."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest

from tasks.errors import StateFileCorrupt
from tasks.report.change import (
    ChangeRecord,
    ChangeRefused,
    add_approver,
    parse_window_time,
    record_sign_off,
    remove_approver,
    set_change_details,
    set_closing_note,
    window_problem,
)
from tasks.sections import open_session
from tasks.session.journal import Journal
from tasks.session.state import Session, save_session

NAIROBI = timezone(timedelta(hours=3))


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("2024-05-04 22:00", "2024-05-04T22:00:00+03:00"),  # this machine's zone
        ("2024-05-04T22:00", "2024-05-04T22:00:00+03:00"),
        ("2024-05-04 22:00+01:00", "2024-05-04T22:00:00+01:00"),
        ("2024-05-04 22:00 +01:00", "2024-05-04T22:00:00+01:00"),
        ("2024-05-04 22:00 UTC", "2024-05-04T22:00:00+00:00"),
        ("2024-05-04 22:00Z", "2024-05-04T22:00:00+00:00"),
        ("  2024-05-04   22:00:30  ", "2024-05-04T22:00:30+03:00"),
    ],
)
def test_window_times_read_as_typed(typed: str, iso: str) -> None:
    assert parse_window_time(typed, local=NAIROBI).isoformat() == iso


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        ("tomorrow", "2024-05-05 02:00", "does not read as a date and time"),
        ("2024-05-05 02:00", "2024-05-04 22:00", "must end after it starts"),
        ("2024-05-04 22:00", "2024-05-04 22:00", "must end after it starts"),
        ("2024-05-01 22:00", "2024-05-09 22:00", "more than 7 days"),
        ("2024-05-04 22:00", "", "Enter a date and time"),
        ("", "", None),
    ],
)
def test_window_problems(start: str, end: str, problem: str | None) -> None:
    found = window_problem(start, end, local=NAIROBI)
    assert (found is None) if problem is None else (problem in (found or ""))


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.jsonl")


def test_every_change_is_journalled_and_a_sign_off_covers_what_it_saw(tmp_path: Path) -> None:
    session, journal = Session(), _journal(tmp_path)
    set_change_details(
        session, journal, "CHG-1", "2024-05-04 22:00", "2024-05-05 02:00", local=NAIROBI
    )
    # Saving the same again records nothing new.
    set_change_details(
        session, journal, " CHG-1 ", "2024-05-04 22:00", "2024-05-05 02:00", local=NAIROBI
    )
    add_approver(session, journal, "Amina  Okafor", "Change board chair")
    with pytest.raises(ChangeRefused, match="already an approver"):
        add_approver(session, journal, "amina okafor")
    signed = record_sign_off(session, journal, "AMINA OKAFOR")
    with pytest.raises(ChangeRefused, match="already signed off"):
        record_sign_off(session, journal, "Amina Okafor")
    with pytest.raises(ChangeRefused, match="stays in the record"):
        remove_approver(session, journal, "Amina Okafor")
    with pytest.raises(ChangeRefused, match="Add Nobody as an approver first"):
        record_sign_off(session, journal, "Nobody")
    add_approver(session, journal, "Tomas Varga")
    remove_approver(session, journal, "tomas varga")
    set_closing_note(session, journal, "Done.\nNo issue.")

    change = ChangeRecord.of(session)
    assert change.number == "CHG-1" and [a.name for a in change.approvers] == ["Amina Okafor"]
    assert signed.signed_for == (
        "change CHG-1, window 2024-05-04 19:00:00 UTC to 2024-05-04 23:00:00 UTC"
    )
    entries = [e for e in journal.entries() if e["kind"] == "confirmation"]
    assert [e["step"] for e in entries] == [
        "change", "approver", "sign_off", "approver", "approver", "closing_note",
    ]  # fmt: skip
    assert all(e["phase"] == "report" and "@" in e["by"] for e in entries)
    assert entries[2]["at"] == signed.signed_at and entries[2]["by"] == signed.signed_by
    assert entries[2]["what"] == (
        "Sign-off: Amina Okafor (Change board chair) approved change CHG-1, window "
        "2024-05-04 19:00:00 UTC to 2024-05-04 23:00:00 UTC"
    )
    assert entries[-1]["what"] == "Closing note: Done.\nNo issue."


def test_a_sign_off_needs_a_change_number(tmp_path: Path) -> None:
    session, journal = Session(), _journal(tmp_path)
    add_approver(session, journal, "Amina Okafor")
    with pytest.raises(ChangeRefused, match="change or ticket number first"):
        record_sign_off(session, journal, "Amina Okafor")


def test_typed_text_is_cleaned_and_masked(tmp_path: Path) -> None:
    session, journal = Session(), _journal(tmp_path)
    with pytest.raises(ChangeRefused, match="Control characters"):
        set_change_details(session, journal, "CHG\x1b[31m-1", "", "")
    add_approver(session, journal, "Eve\u202etxt.exe", "password=hunter22")
    approver = ChangeRecord.of(session).approvers[0]
    assert approver.name == "Evetxt.exe" and approver.role == "password=********"
    set_closing_note(session, journal, "token: abc123secret")
    assert "abc123secret" not in ChangeRecord.of(session).closing_note
    assert "abc123secret" not in (tmp_path / "journal.jsonl").read_text()


def test_the_record_round_trips_and_a_hand_edit_is_refused(tmp_path: Path) -> None:
    session, journal = Session(), _journal(tmp_path)
    set_change_details(session, journal, "CHG-1", "2024-05-04 22:00", "2024-05-05 02:00")
    add_approver(session, journal, "Amina Okafor")
    record_sign_off(session, journal, "Amina Okafor")
    path = tmp_path / "session.toml"
    save_session(path, session)
    loaded = open_session(path)
    assert loaded is not None and ChangeRecord.of(loaded) == ChangeRecord.of(session)

    text = path.read_text()
    for bad in (
        text.replace('number = "CHG-1"', "number = 7"),
        text.replace(ChangeRecord.of(session).window_start, "2024-05-04T22:00:00"),  # no zone
    ):
        path.write_text(bad)
        with pytest.raises(StateFileCorrupt, match="change"):
            open_session(path)
