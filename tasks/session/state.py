"""Session state: one upgrade of one installation, stored as TOML.

Writes are atomic (temp file in the same directory, fsync, rename) and 0600.
A file that does not parse or carries an unknown schema version is reported and
never overwritten.

Feature sections (``answers``, ``plan``, ``health``, ``release``, ``backup``,
``deploy``) are plain TOML tables here; each feature owns a dataclass in its own
module that converts to and from its section, so this module stays small.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from tasks.errors import StateFileCorrupt, StateFileUnsupported
from tasks.session.phases import PHASE_IDS, VIEWS_BY_ID, PhaseStatus, StepStatus

SCHEMA_VERSION = 1

# Feature sections stored as tables. Each is owned by one tasks module.
SECTIONS = ("answers", "plan", "health", "release", "backup", "deploy")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class StepRecord:
    status: StepStatus = StepStatus.NOT_STARTED
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    duration_s: float | None = None
    # Short human note: why skipped, what failed, where the log is.
    note: str = ""
    log_file: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRecord:
        return cls(
            status=StepStatus(data.get("status", StepStatus.NOT_STARTED)),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            exit_code=data.get("exit_code"),
            duration_s=data.get("duration_s"),
            note=str(data.get("note", "")),
            log_file=data.get("log_file"),
        )


@dataclass
class PhaseRecord:
    status: PhaseStatus = PhaseStatus.NOT_STARTED
    # Why a phase is skipped or blocked, shown when the operator selects it.
    reason: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhaseRecord:
        steps = data.get("steps", {})
        if not isinstance(steps, dict):
            raise ValueError("'steps' must be a table")
        return cls(
            status=PhaseStatus(data.get("status", PhaseStatus.NOT_STARTED)),
            reason=str(data.get("reason", "")),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            steps={str(k): StepRecord.from_dict(v) for k, v in steps.items()},
        )

    def step(self, step_id: str) -> StepRecord:
        return self.steps.setdefault(step_id, StepRecord())


@dataclass
class Session:
    schema_version: int = SCHEMA_VERSION
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    # The installation being upgraded, in the operator's words.
    installation: str = ""
    demo: bool = False
    # The phase or view the operator was on: restarting resumes here.
    current_view: str = "prepare"
    phases: dict[str, PhaseRecord] = field(
        default_factory=lambda: {pid: PhaseRecord() for pid in PHASE_IDS}
    )
    answers: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    release: dict[str, Any] = field(default_factory=dict)
    backup: dict[str, Any] = field(default_factory=dict)
    deploy: dict[str, Any] = field(default_factory=dict)

    def phase(self, phase_id: str) -> PhaseRecord:
        return self.phases.setdefault(phase_id, PhaseRecord())

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        phases_in = data.get("phases", {})
        if not isinstance(phases_in, dict):
            raise ValueError("'phases' must be a table")
        unknown = set(phases_in) - set(PHASE_IDS)
        if unknown:
            raise ValueError(f"unknown phase(s): {', '.join(sorted(unknown))}")
        phases = {pid: PhaseRecord() for pid in PHASE_IDS}
        for pid, pdata in phases_in.items():
            if not isinstance(pdata, dict):
                raise ValueError(f"phase '{pid}' must be a table")
            phases[pid] = PhaseRecord.from_dict(pdata)
        current = str(data.get("current_view", "prepare"))
        if current not in PHASE_IDS and current not in VIEWS_BY_ID:
            raise ValueError(f"unknown current view '{current}'")
        sections: dict[str, dict[str, Any]] = {}
        for name in SECTIONS:
            value = data.get(name, {})
            if not isinstance(value, dict):
                raise ValueError(f"'{name}' must be a table")
            sections[name] = value
        return cls(
            schema_version=int(data["schema_version"]),
            session_id=str(data.get("session_id") or uuid.uuid4().hex[:12]),
            created_at=str(data.get("created_at", now_iso())),
            updated_at=str(data.get("updated_at", now_iso())),
            installation=str(data.get("installation", "")),
            demo=bool(data.get("demo", False)),
            current_view=current,
            phases=phases,
            **sections,
        )


def _drop_none(value: Any) -> Any:
    """TOML has no null: absent means unset."""
    if isinstance(value, dict):
        return {str(k): _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value if v is not None]
    if isinstance(value, PhaseStatus | StepStatus):
        return value.value
    return value


# Checks that feature modules register to refuse states that could not have
# been reached honestly (for example a production gate marked open without
# its evidence). Each takes the parsed session and returns a problem or None.
StateValidator = Callable[[Session], "str | None"]
_validators: list[StateValidator] = []


def register_validator(check: StateValidator) -> StateValidator:
    _validators.append(check)
    return check


# Modules whose validators must run whoever loads a session (imported lazily:
# they import this module).
VALIDATOR_MODULES = ("tasks.release.gate",)


def _import_validators() -> None:
    import importlib

    for name in VALIDATOR_MODULES:
        importlib.import_module(name)


def load_session(path: Path) -> Session | None:
    """Read the session at ``path``; ``None`` if there is no file yet.

    Raises ``StateFileCorrupt`` or ``StateFileUnsupported``; the file is left as it is.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileCorrupt(path, f"cannot be read ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StateFileCorrupt(path, f"is not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StateFileCorrupt(path, f"is not valid TOML ({exc})") from exc
    version = data.get("schema_version")
    if not isinstance(version, int):
        raise StateFileCorrupt(path, "has no schema_version")
    if version != SCHEMA_VERSION:
        raise StateFileUnsupported(
            path,
            f"has schema version {version}; this crvs-migrate reads version {SCHEMA_VERSION}",
        )
    try:
        session = Session.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise StateFileCorrupt(path, f"has an invalid structure ({exc})") from exc
    _import_validators()
    for check in _validators:
        problem = check(session)
        if problem:
            raise StateFileCorrupt(path, problem)
    return session


def dumps_session(session: Session) -> str:
    return tomli_w.dumps(session.to_dict())


def save_session(path: Path, session: Session) -> None:
    """Atomically replace ``path`` with ``session``: temp file, fsync, rename; mode 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    session.updated_at = now_iso()
    write_atomic(path, dumps_session(session).encode("utf-8"))


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` so that ``path`` always holds either the old or the new content."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def new_session_path(path: Path) -> Path:
    """A free file name beside ``path`` for a fresh session (never the damaged one)."""
    path = Path(path)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}-{stamp}{path.suffix}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{stamp}-{n}{path.suffix}")
        n += 1
    return candidate
