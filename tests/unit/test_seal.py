"""Evidence seals: the key, the HMAC, what breaks a seal, and the timestamp rules."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tasks.errors import CrvsError
from tasks.session import seal as sealing
from tasks.session.seal import (
    DATA_DIR_ENV,
    check_time,
    evidence_key,
    forget_cached_key,
    is_sealed,
    key_path,
    seal,
    seal_table,
    table_is_sealed,
)


@pytest.fixture
def fresh_key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    forget_cached_key()
    yield tmp_path / "data"
    forget_cached_key()


def test_the_key_is_made_on_first_use_private_and_kept(fresh_key_dir: Path) -> None:
    assert not key_path().exists()
    key = evidence_key()
    assert len(key) == 32 and key_path().parent == fresh_key_dir
    assert stat.S_IMODE(key_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh_key_dir.stat().st_mode) == 0o700
    forget_cached_key()
    assert evidence_key() == key  # read back, not made again


def test_a_readable_key_is_taken_back_and_a_damaged_one_is_named(fresh_key_dir: Path) -> None:
    evidence_key()
    key_path().chmod(0o644)
    forget_cached_key()
    evidence_key()
    assert stat.S_IMODE(key_path().stat().st_mode) == 0o600
    key_path().write_text("not hex\n")
    forget_cached_key()
    with pytest.raises(CrvsError, match="damaged"):
        evidence_key()


def test_a_seal_binds_the_record_its_kind_and_its_session(fresh_key_dir: Path) -> None:
    table = {"at": "2024-05-02T10:00:00+00:00", "by": "op@jump", "size": 3.0}
    sealed = {**table, "seal": seal_table("s1", "backup.drafts", table)}
    assert table_is_sealed("s1", "backup.drafts", sealed)
    assert table_is_sealed("s1", "backup.drafts", {**sealed, "size": 3})  # TOML's 3 and 3.0
    assert not table_is_sealed("s2", "backup.drafts", sealed)  # another session
    assert not table_is_sealed("s1", "backup.records_ok", sealed)  # another slot
    assert not table_is_sealed("s1", "backup.drafts", {**sealed, "by": "x"})
    assert not table_is_sealed("s1", "backup.drafts", {**sealed, "seal": "0" * 64})
    assert not table_is_sealed("s1", "backup.drafts", table)  # no seal at all
    os.environ[DATA_DIR_ENV] = str(fresh_key_dir / "other")
    forget_cached_key()
    assert not table_is_sealed("s1", "backup.drafts", sealed)  # another key


def test_every_sealed_record_keeps_its_seal_through_the_file(
    fresh_key_dir: Path, tmp_path: Path
) -> None:
    """A seal set in memory must survive save and load (a record without a seal field would
    lose it on disk and count for nothing after a restart)."""
    from tasks.release.deploy import DeployRecord, EnvironmentDeploy, LiveGateCheck, RollbackRecord
    from tasks.release.gate import KIND, BackupRecord, Confirmation, CopyRecord
    from tasks.sections import SECTIONS
    from tasks.servers.detached import RemoteRunRecord
    from tasks.session.state import Session, load_session, now_iso, save_session

    s = Session()
    b = BackupRecord.of(s)
    b.opened = Confirmation(now_iso(), "op@jump", "abc")
    b.backup_run = RemoteRunRecord(
        "20240101t000000z-backup-abc123", "m", "h", ["bash", "x"], now_iso(), port=22
    )
    b.copy = CopyRecord("qa1", "/data/backups", now_iso(), 12, 1.5)
    for slot in ("opened", "backup_run", "copy"):
        seal(s.session_id, KIND[slot], getattr(b, slot))
    d = DeployRecord.of(s)
    d.production = EnvironmentDeploy(
        ["yarn"],
        "p",
        "v1",
        "v1",
        3,
        False,
        "pane",
        now_iso(),
        duration_s=2.0,
        gate_check=LiveGateCheck(now_iso(), True),
    )
    seal(s.session_id, "deploy.production", d.production)
    d.rollback = RollbackRecord("why", now_iso(), "op", "v1.3.0", "v1.3.0", True)
    seal(s.session_id, "deploy.rollback", d.rollback)
    path = tmp_path / "s.toml"
    save_session(path, s)
    loaded = load_session(path, SECTIONS)
    assert loaded is not None
    lb = BackupRecord.of(loaded)
    for slot in ("opened", "backup_run", "copy"):
        assert is_sealed(loaded.session_id, KIND[slot], getattr(lb, slot)), slot
    ld = DeployRecord.of(loaded)
    assert is_sealed(loaded.session_id, "deploy.production", ld.production)
    assert is_sealed(loaded.session_id, "deploy.rollback", ld.rollback)


def test_a_record_without_a_seal_field_is_refused() -> None:
    from dataclasses import dataclass

    @dataclass
    class NoRoom:
        at: str

    with pytest.raises(TypeError, match="no seal field"):
        seal("s", "k", NoRoom("x"))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1970-01-01T00:00:00+00:00", "before this session was created"),
        ("9999-12-31T23:59:59+00:00", "in the future"),
        ("2026-01-01T10:00:00", "no timezone"),
        ("yesterday", "not a timestamp"),
        ("", "not a timestamp"),
    ],
)
def test_timestamps_are_aware_not_future_not_before_the_session(value: str, problem: str) -> None:
    check = check_time(value, not_before="2025-01-01T00:00:00+00:00", what="it")
    assert not check.ok and problem in check.problem
    assert check_time(
        "2025-06-01T00:00:00+02:00", not_before="2025-01-01T00:00:00+00:00", what="it"
    ).ok


def test_the_canonical_form_ignores_the_seal_itself() -> None:
    a = sealing._canonical("s", "k", {"x": 1, "seal": "aa"})
    assert a == sealing._canonical("s", "k", {"x": 1})
