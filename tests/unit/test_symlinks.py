"""Links in the session directory: the state file is written through its link (the link
kept); the journal and step logs never follow a link planted in their place."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tasks.errors import StorageError
from tasks.local.process import Command, ProcessRun, StepLog
from tasks.session.state import Session, load_session, save_session
from tasks.session.workspace import Workspace


def test_a_symlinked_state_file_is_written_through_to_its_target(tmp_path: Path) -> None:
    real = tmp_path / "usb" / "session.toml"
    real.parent.mkdir()
    save_session(real, Session(installation="before"))
    link = tmp_path / "state" / "session.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    session = load_session(link)
    assert session is not None and session.installation == "before"
    session.installation = "after"
    save_session(link, session)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert load_session(real).installation == "after"  # type: ignore[union-attr]
    # The temp file lived beside the target, and nothing is left beside either.
    assert sorted(p.name for p in real.parent.iterdir()) == ["session.toml"]
    assert sorted(p.name for p in link.parent.iterdir()) == ["session.toml"]


def test_a_chain_of_links_ends_at_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    save_session(real, Session())
    (tmp_path / "one.toml").symlink_to(real)
    (tmp_path / "two.toml").symlink_to(tmp_path / "one.toml")
    save_session(tmp_path / "two.toml", Session(installation="x"))
    assert (tmp_path / "two.toml").is_symlink() and (tmp_path / "one.toml").is_symlink()
    assert load_session(real).installation == "x"  # type: ignore[union-attr]


def test_a_link_planted_as_a_step_log_is_refused(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "session.toml")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    ws.logs_dir.mkdir()
    planted = ws.logs_dir / "update_core-fetch.log"
    planted.symlink_to(victim)
    with pytest.raises(StorageError) as info:
        StepLog(planted)
    assert str(planted) in info.value.message
    assert victim.read_text() == "precious\n"


def test_a_linked_logs_directory_is_refused(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "session.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ws.logs_dir.symlink_to(elsewhere)
    run = ProcessRun(
        Command(("true",), tmp_path), log_file=ws.logs_dir / "x.log", journal=ws.journal
    )
    with pytest.raises(StorageError) as info:
        asyncio.run(run.run())
    assert "symbolic link" in info.value.message
    assert list(elsewhere.iterdir()) == []
    assert not ws.journal.path.exists()  # refused before anything ran


def test_a_step_log_is_private_and_fresh(tmp_path: Path) -> None:
    log = StepLog(tmp_path / "logs" / "a.log")
    log.write("line\n")
    log.close()
    assert oct((tmp_path / "logs" / "a.log").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(StorageError):
        StepLog(tmp_path / "logs" / "a.log")  # never truncates an existing file
    assert os.path.getsize(tmp_path / "logs" / "a.log") == 5


def test_two_links_to_one_session_share_its_lock(tmp_path: Path) -> None:
    from tasks.session.lock import SessionInUse

    real = tmp_path / "usb" / "session.toml"
    real.parent.mkdir()
    save_session(real, Session())
    (tmp_path / "a.toml").symlink_to(real)
    (tmp_path / "b.toml").symlink_to(real)
    first, second = Workspace(tmp_path / "a.toml"), Workspace(tmp_path / "b.toml")
    assert first.lock.path == real.with_name("session.toml.lock")
    first.lock.acquire()
    try:
        with pytest.raises(SessionInUse):
            second.lock.acquire()
    finally:
        first.lock.release()
