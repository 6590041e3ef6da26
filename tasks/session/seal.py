"""Tamper-evident evidence: an HMAC-SHA256 seal over each evidence record.

The key lives outside the session file, in the user's data directory
(``platformdirs.user_data_path("crvs-migrate")/evidence.key``, 0600, made on first use;
``CRVS_MIGRATE_DATA_DIR`` points elsewhere, which the tests do). A record is sealed by the
function that creates it (a backup run, a verification, a confirmation) over the
record's table as written, the session's id and the record's kind, so a record edited by
hand, moved to another kind, or copied from another session no longer matches its seal
and counts for nothing ("edited outside crvs-migrate").

Sealing never happens at save time: a record read from a file is verified, never
re-sealed (that would launder an edit).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs

from tasks.lean import dataclass

APP_NAME = "crvs-migrate"
KEY_FILE = "evidence.key"
DATA_DIR_ENV = "CRVS_MIGRATE_DATA_DIR"
SEAL_FIELD = "seal"
# What the operator's clock may be ahead of the record's writer (two machines, NTP drift).
CLOCK_SKEW = timedelta(minutes=5)
TAMPERED = "edited outside crvs-migrate"


def data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(override).expanduser() if override else platformdirs.user_data_path(APP_NAME)


def key_path() -> Path:
    return data_dir() / KEY_FILE


_cache: dict[Path, bytes] = {}


def evidence_key() -> bytes:
    """The key (32 random bytes), made on first use with 0600 in a 0700 directory."""
    path = key_path()
    cached = _cache.get(path)
    if cached is not None:
        return cached
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = _read_key(path)
    else:
        key = secrets.token_bytes(32)
        try:
            os.write(fd, key.hex().encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
    _cache[path] = key
    return key


def _read_key(path: Path) -> bytes:
    from tasks.errors import CrvsError

    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        # Readable by others means forgeable by others: take it back.
        path.chmod(0o600)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        key = b""
    if len(key) != 32:
        raise CrvsError(
            f"The evidence key {path} is damaged. Evidence sealed with it can no longer be "
            "checked; move the file away to start a new key (existing evidence then counts "
            "for nothing and must be made again).",
            "Evidence key damaged",
        )
    return key


def forget_cached_key() -> None:
    """Tests that point ``CRVS_MIGRATE_DATA_DIR`` elsewhere call this."""
    _cache.clear()


def _normal(value: Any) -> Any:
    # TOML gives back 3.0 for a float field written as 3: both must seal alike.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value


def _canonical(session_id: str, kind: str, table: dict[str, Any]) -> bytes:
    body = _normal({k: v for k, v in table.items() if k != SEAL_FIELD})
    text = json.dumps(
        [session_id, kind, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return text.encode("utf-8")


def seal_table(session_id: str, kind: str, table: dict[str, Any]) -> str:
    return hmac.new(evidence_key(), _canonical(session_id, kind, table), hashlib.sha256).hexdigest()


def table_is_sealed(session_id: str, kind: str, table: dict[str, Any]) -> bool:
    given = table.get(SEAL_FIELD)
    if not isinstance(given, str) or len(given) != 64:
        return False
    return hmac.compare_digest(given, seal_table(session_id, kind, table))


def seal(session_id: str, kind: str, record: Any) -> None:
    """Set ``record.seal`` (a records-style dataclass) over its table as written."""
    import dataclasses

    from tasks.session import records

    if SEAL_FIELD not in {f.name for f in dataclasses.fields(record)}:
        raise TypeError(f"{type(record).__name__} has no {SEAL_FIELD} field to keep a seal in")
    record.seal = ""
    record.seal = seal_table(session_id, kind, records.to_state(record))


def is_sealed(session_id: str, kind: str, record: Any) -> bool:
    from tasks.session import records

    if record is None:
        return False
    return table_is_sealed(session_id, kind, records.to_state(record))


# -- timestamps -----------------------------------------------------------------


def parse_aware(value: str | None) -> datetime | None:
    """An ISO timestamp with its timezone; None for naive, empty or unreadable ones."""
    if not value or not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        return None
    return when


@dataclass(frozen=True)
class TimeCheck:
    ok: bool
    problem: str = ""


def check_time(value: str | None, *, not_before: str | None, what: str) -> TimeCheck:
    """Aware, not in the future, not before ``not_before`` (the session's creation)."""
    when = parse_aware(value)
    if when is None:
        if value and parse_naive(value):
            return TimeCheck(False, f"{what} has no timezone ({value})")
        return TimeCheck(False, f"{what} is not a timestamp")
    if when > datetime.now(UTC) + CLOCK_SKEW:
        return TimeCheck(False, f"{what} is in the future ({value})")
    floor = parse_aware(not_before)
    if floor is not None and when < floor - CLOCK_SKEW:
        return TimeCheck(False, f"{what} is before this session was created ({value})")
    return TimeCheck(True)


def parse_naive(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False
