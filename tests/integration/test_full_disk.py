"""A full disk and a read-only filesystem, for real (a small tmpfs; root only).

The session file keeps its previous state, the journal never merges a cut record into
the next one, and the app shows a screen naming the path and the reason, no traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.errors import JournalWriteError, StateWriteError
from tasks.session.journal import Journal
from tasks.session.state import Session, load_session, save_session
from tasks.upgrade.answers import Answers
from tests.e2e.test_one_writer_tmux import _focus_question, _wait_until
from tests.support.tmpfs import fill, small_tmpfs
from tests.support.tmux import TmuxSession

CLI = str(Path(sys.executable).parent / "crvs-migrate")
ENV = {"TERM": "xterm-256color"}


def _flat(screen: str) -> str:
    """The screen without spaces and box lines: a long path wrapped in a box reads whole."""
    return re.sub(r"[\s\u2500-\u257f]", "", screen)


def _temp_files(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_a_save_on_a_full_disk_keeps_the_old_state(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path, "256k") as disk:
        path = disk / "session.toml"
        save_session(path, Session(installation="before"))
        before = path.read_bytes()
        filler = fill(disk)
        big = Session(installation="after")
        big.raw_sections["answers"] = {"notes": "x" * 100_000}
        with pytest.raises(StateWriteError) as info:
            save_session(path, big)
        assert "No space left on device" in info.value.message
        assert str(path) in info.value.message
        assert path.read_bytes() == before
        assert _temp_files(disk) == []
        filler.unlink()
        save_session(path, big)
        assert load_session(path).installation == "after"  # type: ignore[union-attr]


def test_a_journal_record_cut_by_a_full_disk_stays_apart(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path, "256k") as disk:
        journal = Journal(disk / "session.journal.jsonl")
        journal.event("before the disk filled")
        filler = fill(disk)
        # Free a little less than the next record needs: it is written in part.
        with filler.open("r+b") as fh:
            fh.truncate(filler.stat().st_size - 2000)
        with pytest.raises(JournalWriteError) as info:
            journal.event("y" * 20_000)
        assert "No space left on device" in info.value.message
        tail = journal.damaged_tail()
        assert tail is not None and tail.line == 2 and 0 < tail.length < 20_000
        filler.unlink()
        journal.event("after space was freed")
        lines = journal.path.read_bytes().split(b"\n")
        assert json.loads(lines[0])["what"] == "before the disk filled"
        assert json.loads(lines[2])["what"] == "after space was freed"
        assert [e["kind"] for e in journal.entries()] == ["event", "damaged", "event"]


@pytest.mark.tmux
def test_the_app_on_a_disk_that_fills_up(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path, "512k") as disk:
        state = disk / "session.toml"
        term = TmuxSession([CLI, "--state", str(state)], width=100, height=30, env=ENV)
        raw = tmp_path / "raw.out"
        term.record(raw)
        try:
            _focus_question(term)
            term.send("-l", "/srv/a")
            _wait_until(lambda: b"/srv/a" in state.read_bytes(), what="the first save")
            before = state.read_bytes()
            filler = fill(disk)
            # One key: keys typed after it may reach the storage screen instead of the field
            # (as they would for an operator), depending on how the terminal splits them.
            term.send("-l", "x")
            screen = term.wait_for("No space left on device")
            assert "The session cannot be saved" in screen
            assert str(state) in _flat(screen)
            assert "Traceback" not in screen
            assert state.read_bytes() == before
            assert _temp_files(disk) == []
            term.send("h")  # no way around it while the session is not saved
            filler.unlink()
            term.send("Enter")  # "Try again" has the focus
            try:
                _wait_until(lambda: b"/srv/ax" in state.read_bytes(), what="the retried save")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; the screen:\n{term.screen()}") from None
            term.wait_for("/srv/ax does not exist")  # back on Prepare
            term.send("C-q")
            assert term.wait_exit() == 0
        finally:
            term.close()
        assert b"Traceback" not in raw.read_bytes()


@pytest.mark.tmux
def test_the_app_on_a_read_only_filesystem(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path, "256k") as disk:
        state = disk / "session.toml"
        session = Session(installation="Farajaland QA")
        Answers.of(session).config_path = "/srv/kept"
        save_session(state, session)
        before = state.read_bytes()
        result = subprocess.run(
            ["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.skip(f"cannot remount read-only: {result.stderr.strip()}")
        term = TmuxSession([CLI, "--state", str(state)], width=100, height=30, env=ENV)
        try:
            # The reason follows the path: where the path is long, it wraps in the box.
            _wait_until(
                lambda: "Read-onlyfilesystem" in _flat(term.screen()), 60, "the reason shown"
            )
            screen = term.screen()
            assert "The session cannot be locked" in screen
            assert f"{state}.lock" in _flat(screen)
            assert "Traceback" not in screen
            term.send("h")  # no way around the choice
            term.send("r")
            term.wait_for("READ-ONLY")
            term.wait_for("/srv/kept")
            term.send("C-q")
            assert term.wait_exit() == 0
        finally:
            term.close()
        assert state.read_bytes() == before
