"""Backup verification against a directory laid out like a real backup, each part broken in turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import InvalidName
from tasks.release.backup import expected_parts, listing_argv, restore_argv, verify_backup
from tasks.session.state import now_iso
from tests.support.backupdir import break_part, make_backup_dir
from tests.support.localrun import local_run

LABEL = "before-v1.3.5"
PARTS = expected_parts(LABEL)


async def test_complete_backup_verifies(tmp_path: Path) -> None:
    since = now_iso()
    make_backup_dir(tmp_path, LABEL)
    ver = await verify_backup(local_run, "local", str(tmp_path), LABEL, since)
    assert ver.ok, ver.problems
    assert len(ver.parts) == 12
    assert all(p.size > 0 for p in ver.parts)


@pytest.mark.parametrize("how", ["missing", "empty", "old"])
@pytest.mark.parametrize("part", PARTS, ids=[p.path for p in PARTS])
async def test_each_broken_part_names_itself(tmp_path: Path, part, how: str) -> None:
    since = now_iso()
    base = make_backup_dir(tmp_path, LABEL)
    break_part(base, LABEL, part.path, how)
    ver = await verify_backup(local_run, "local", str(tmp_path), LABEL, since)
    assert not ver.ok
    bad = [p for p in ver.parts if not p.ok]
    assert [p.name for p in bad] == [part.name]
    word = {"missing": "missing", "empty": "empty", "old": "older than the gate"}[how]
    assert word in bad[0].problem
    assert any(part.name in problem for problem in ver.problems)


async def test_snapshot_of_another_label_is_not_enough(tmp_path: Path) -> None:
    since = now_iso()
    base = make_backup_dir(tmp_path, LABEL)
    (base / "elasticsearch" / "index-0").write_text('{"snapshots":[{"name":"snapshot_other"}]}')
    ver = await verify_backup(local_run, "local", str(tmp_path), LABEL, since)
    assert [p.path for p in ver.parts if not p.ok] == ["elasticsearch"]


async def test_absent_directory_is_one_clear_problem(tmp_path: Path) -> None:
    ver = await verify_backup(local_run, "local", str(tmp_path), LABEL, now_iso())
    assert not ver.ok
    assert ver.problems == [f"{tmp_path}/{LABEL} does not exist or is empty on local"]


def test_hostile_names_are_refused_before_any_command() -> None:
    with pytest.raises(InvalidName):
        listing_argv("/backups; rm -rf /", LABEL)
    with pytest.raises(InvalidName):
        listing_argv("/backups", "x'; reboot; '")
    with pytest.raises(InvalidName):
        listing_argv("relative/dir", LABEL)
    assert restore_argv(LABEL, 1)[-2:] == [f"--label={LABEL}", "--replicas=1"]
