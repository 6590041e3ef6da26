"""The journal is append-only JSON lines and never holds secrets."""

from __future__ import annotations

import json
import stat

from tasks.session.journal import MASK, Journal, mask_argv, operator_identity


def test_commands_and_confirmations_are_appended(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.command(
        ["git", "fetch"],
        "/repo",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:01+00:00",
        0,
        duration_s=1.0,
        phase="update_core",
        step="git_fetch",
    )
    first = j.path.read_bytes()
    j.confirmation("abort the merge", phase="merge_config")
    second = j.path.read_bytes()
    # Append-only: what was written is never rewritten.
    assert second.startswith(first) and len(second) > len(first)
    entries = list(j.entries())
    assert [e["kind"] for e in entries] == ["command", "confirmation"]
    assert entries[0]["argv"] == ["git", "fetch"] and entries[0]["exit_code"] == 0
    assert entries[0]["cwd"] == "/repo"
    assert entries[1]["by"] == operator_identity() and "@" in entries[1]["by"]
    assert stat.S_IMODE(j.path.stat().st_mode) == 0o600


def test_secret_arguments_are_masked(tmp_path):
    argv = [
        "deploy.sh",
        "--host=qa.example",
        "SMTP_PASSWORD=hunter2",
        "--api-token",
        "abc123",
        "--version=v1.3.5",
    ]
    masked = mask_argv(argv)
    assert masked == [
        "deploy.sh",
        "--host=qa.example",
        f"SMTP_PASSWORD={MASK}",
        "--api-token",
        MASK,
        "--version=v1.3.5",
    ]
    j = Journal(tmp_path / "j.jsonl")
    j.command(argv, None, "a", "b", 0)
    text = j.path.read_text()
    assert "hunter2" not in text and "abc123" not in text


def test_a_damaged_line_is_reported_not_dropped(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.event("started")
    with j.path.open("a") as fh:
        fh.write("{not json\n")
    j.event("again")
    kinds = [e["kind"] for e in j.entries()]
    assert kinds == ["event", "damaged", "event"]
    assert json.loads(j.path.read_text().splitlines()[0])["what"] == "started"


def test_short_writes_are_retried_to_the_end(tmp_path, monkeypatch):
    # The kernel may accept part of a write (a signal, a nearly full disk): simulate a
    # write that takes at most 7 bytes per call and check the record still lands whole.
    import os

    real_write = os.write
    calls = []

    def short_write(fd, data):
        calls.append(len(data))
        return real_write(fd, bytes(data[:7]))

    j = Journal(tmp_path / "j.jsonl")
    monkeypatch.setattr(os, "write", short_write)
    j.event("a record much longer than seven bytes")
    monkeypatch.undo()
    assert len(calls) > 5
    assert [e["what"] for e in j.entries()] == ["a record much longer than seven bytes"]


def test_a_cut_record_is_reported_and_never_merged_with_the_next(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.event("first")
    with j.path.open("ab") as fh:
        fh.write(b'{"kind": "command", "argv": ["git", "fe')  # cut short, no newline
    tail = j.damaged_tail()
    assert tail is not None and tail.line == 2
    assert "incomplete" in tail.describe(j.path) and str(j.path) in tail.describe(j.path)
    j.event("after")
    lines = j.path.read_text().splitlines()
    assert lines[1] == '{"kind": "command", "argv": ["git", "fe'
    assert json.loads(lines[2])["what"] == "after"
    assert [e["kind"] for e in j.entries()] == ["event", "damaged", "event"]
    assert j.damaged_tail() is None  # whole again: reported once


def test_a_whole_journal_has_no_damaged_tail(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    assert j.damaged_tail() is None  # no file yet
    j.event("one")
    assert j.damaged_tail() is None
    # A final record without its newline is whole: nothing is lost, nothing reported.
    j.path.write_bytes(j.path.read_bytes().rstrip(b"\n"))
    assert j.damaged_tail() is None
    j.event("two")
    assert [e["what"] for e in j.entries()] == ["one", "two"]


def test_a_read_only_journal_writes_nothing(tmp_path):
    j = Journal(tmp_path / "j.jsonl", read_only=True)
    j.event("x")
    j.confirmation("y")
    assert not j.path.exists()


def test_a_link_planted_as_the_journal_is_refused(tmp_path):
    import pytest

    from tasks.errors import JournalWriteError

    target = tmp_path / "elsewhere.txt"
    target.write_text("precious\n")
    j = Journal(tmp_path / "j.jsonl")
    j.path.symlink_to(target)
    with pytest.raises(JournalWriteError) as info:
        j.event("x")
    assert "symbolic link" in info.value.message and str(j.path) in info.value.message
    assert target.read_text() == "precious\n"
    assert list(j.entries()) == []  # not read through the link either


def test_journal_text_is_stripped_of_escapes_and_bidi(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.confirmation("trust \x1b]0;pwned\x07node\u202egnp.exe")
    j.command(["git", "checkout", "evil\x1b[2J\u2066x"], "/r\x1b[31m", "a", "b", 0)
    raw = j.path.read_text()
    for bad in ("\\u001b", "\\u202e", "\\u2066", "\x1b", "\u202e"):
        assert bad not in raw
    first, second = j.entries()
    assert first["what"] == "trust nodegnp.exe"
    assert second["argv"] == ["git", "checkout", "evilx"] and second["cwd"] == "/r"
