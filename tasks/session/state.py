"""Session state: one upgrade of one installation, stored as TOML.

Writes are atomic (temp file in the same directory, fsync, rename) and 0600.
A file that does not parse or carries an unknown schema version is reported and
never overwritten.

Feature sections (``answers``, ``plan``, ``health``, ``release``, ``backup``,
``deploy``) are plain TOML tables here; each feature owns a dataclass in its own
module that converts to and from its section, so this module stays small.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from tasks.errors import StateFileCorrupt, StateFileUnsupported, StateWriteError
from tasks.session.files import write_atomic as write_atomic  # callers write through it
from tasks.session.phases import PHASE_IDS, VIEWS_BY_ID, PhaseStatus, StepStatus

SCHEMA_VERSION = 1

# A session file is a few kilobytes; anything near these is not one of ours, and
# parsing it could take the app down (tomllib recurses on nested arrays/tables).
MAX_STATE_BYTES = 8 * 1024 * 1024
MAX_NESTING = 32

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
            status=StepStatus(_typed(data, "status", str, StepStatus.NOT_STARTED)),
            started_at=_typed(data, "started_at", str),
            finished_at=_typed(data, "finished_at", str),
            exit_code=_typed(data, "exit_code", int),
            duration_s=_number(data, "duration_s"),
            note=_typed(data, "note", str, ""),
            log_file=_typed(data, "log_file", str),
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
        for step_id, step in steps.items():
            if not isinstance(step, dict):
                raise ValueError(f"step '{step_id}' must be a table")
        return cls(
            status=PhaseStatus(_typed(data, "status", str, PhaseStatus.NOT_STARTED)),
            reason=_typed(data, "reason", str, ""),
            started_at=_typed(data, "started_at", str),
            finished_at=_typed(data, "finished_at", str),
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
        current = _typed(data, "current_view", str, "prepare")
        if current not in PHASE_IDS and current not in VIEWS_BY_ID:
            raise ValueError(f"unknown current view '{current}'")
        sections: dict[str, dict[str, Any]] = {}
        for name in SECTIONS:
            value = data.get(name, {})
            if not isinstance(value, dict):
                raise ValueError(f"'{name}' must be a table")
            sections[name] = value
        return cls(
            schema_version=_typed(data, "schema_version", int, SCHEMA_VERSION),
            session_id=_typed(data, "session_id", str, "") or uuid.uuid4().hex[:12],
            created_at=_typed(data, "created_at", str, "") or now_iso(),
            updated_at=_typed(data, "updated_at", str, "") or now_iso(),
            installation=_typed(data, "installation", str, ""),
            demo=_typed(data, "demo", bool, False),
            current_view=current,
            phases=phases,
            **sections,
        )


def _typed(data: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    """``data[key]`` if it has the expected TOML type (absent: ``default``); else ValueError."""
    if key not in data:
        return default
    value = data[key]
    # TOML booleans are not numbers here, and numbers not booleans.
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    raise ValueError(f"'{key}' must be {_KIND_WORDS.get(kind, kind.__name__)}")


def _number(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"'{key}' must be a number")


_KIND_WORDS = {str: "a string", int: "an integer", bool: "true or false"}


def _drop_none(value: Any) -> Any:
    """TOML has no null: absent means unset."""
    if isinstance(value, dict):
        return {str(k): _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value if v is not None]
    if isinstance(value, PhaseStatus | StepStatus):
        return value.value
    return value


# The TOML types the app's screens and tasks expect inside the feature sections, checked
# at load so that a hand-edited value is refused with its name instead of crashing a
# screen later. A key maps to a type, a tuple of types, a nested shape (a table), or a
# one-element list (an array of that shape); "*" stands for every key of a table, and a
# key ending in "!" must be present. Keys not listed are not checked (the owning module
# reads them defensively).
Shape = type | tuple[type, ...] | dict[str, "Shape"] | list["Shape"]
_TABLE = dict
_STAMP = str
# Answers are read through tasks.upgrade.answers.Answers, which treats anything
# unreadable as unanswered; only the texts some screens read directly are checked.
_ANSWER_TEXT = (
    "current_version detected_version target_version core_fork_path core_upstream_remote "
    "integrations_list core_path config_path"
).split()
SECTION_SHAPES: dict[str, dict[str, Shape]] = {
    "answers": dict.fromkeys(_ANSWER_TEXT, str),
    "plan": {"current": _TABLE, "previous": _TABLE, "accepted": str, "applied": _TABLE},
    "health": {
        "environment": str,
        "auto_refresh_s": (int, str),
        "snapshots": {
            "*": {
                "nodes": [
                    {"node": {"host!": str, "name": str}, "checks": [{"key!": str}], "status": str}
                ],
                "environment": str,
                "checked_at": _STAMP,
                "status": str,
            }
        },
        "nodes": {"*": [_TABLE]},
        "resources": {"*": [_TABLE]},
    },
    "release": {
        "merge": {"branch!": str, "into!": str, "how!": str, "at": _STAMP},
        "tag": {"name": str, "commit": str, "created_at": _STAMP},
        "image": {"tag": str, "recorded_at": _STAMP, "how": str},
        "env_check": {
            "files": [str],
            "required": [str],
            "missing": [str],
            "present": [str],
            "unused": [str],
            "invalid": [{"name": str, "reason": str}],
            "ok": bool,
        },
        "local": {"at": _STAMP, "by": str},
    },
    "backup": {
        "label": str,
        "gate_opened_at": _STAMP,
        "gate_open": bool,
        "target": {"ssh_host": str, "ssh_port": int, "ssh_user": str, "remote_dir": str},
        "taken": {"label": str, "argv": [str]},
        "verification": {"parts": [_TABLE], "ok": bool, "error": str},
        "restore": _TABLE,
        "qa_health": _TABLE,
        "records_ok": _TABLE,
        "drafts": _TABLE,
        "risk": _TABLE,
    },
    "deploy": {"*": {"stack": _TABLE, "health": _TABLE, "host": str, "replicas": (int, str)}},
}


def _shape_problem(value: Any, shape: Shape, where: str) -> str | None:
    """Why ``value`` does not fit ``shape`` (naming the key), or ``None``."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"'{where}' must be a table"
        for key in shape:
            if key.endswith("!") and key[:-1] not in value:
                return f"'{where}.{key[:-1]}' is missing"
        for key, item in value.items():
            sub = shape.get(str(key), shape.get(f"{key}!", shape.get("*")))
            if sub is not None and (problem := _shape_problem(item, sub, f"{where}.{key}")):
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"'{where}' must be an array"
        for n, item in enumerate(value):
            if problem := _shape_problem(item, shape[0], f"{where}[{n}]"):
                return problem
        return None
    kinds = shape if isinstance(shape, tuple) else (shape,)
    if isinstance(value, bool) and bool not in kinds:
        return f"'{where}' has the wrong type"
    if not isinstance(value, kinds):
        return f"'{where}' has the wrong type"
    return None


def section_problem(session: Session) -> str | None:
    for name, shape in SECTION_SHAPES.items():
        problem = _shape_problem(getattr(session, name), shape, name)
        if problem:
            return problem
    return None


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
    Whatever the file holds, this never hangs and never raises anything else: its size
    and nesting are bounded before it is parsed, and every check runs inside the
    error handling.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileCorrupt(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > MAX_STATE_BYTES:
        raise StateFileCorrupt(
            path, f"is larger than {MAX_STATE_BYTES // (1024 * 1024)} MiB: not a session file"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateFileCorrupt(path, f"is not UTF-8 text (byte {exc.start})") from exc
    if _too_deep(text):
        raise StateFileCorrupt(path, f"nests arrays or tables deeper than {MAX_NESTING} levels")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StateFileCorrupt(path, f"is not valid TOML ({exc})") from exc
    except RecursionError as exc:
        raise StateFileCorrupt(path, "nests arrays or tables too deeply") from exc
    if _depth_exceeds(data, MAX_NESTING):
        raise StateFileCorrupt(path, f"nests tables deeper than {MAX_NESTING} levels")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateFileCorrupt(path, "has no schema_version")
    if version != SCHEMA_VERSION:
        raise StateFileUnsupported(
            path,
            f"has schema version {version}; this crvs-migrate reads version {SCHEMA_VERSION}",
        )
    try:
        session = Session.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateFileCorrupt(path, f"has an invalid structure ({exc})") from exc
    problem = section_problem(session)
    if problem:
        raise StateFileCorrupt(path, f"has an invalid structure ({problem})")
    _import_validators()
    for check in _validators:
        try:
            problem = check(session)
        except Exception as exc:  # noqa: BLE001 - a hostile value must refuse the file, not crash
            problem = f"has an invalid value ({type(exc).__name__}: {exc})"
        if problem:
            raise StateFileCorrupt(path, problem)
    return session


# Strings and comments, skipped when measuring how deeply brackets nest (triple-quoted
# forms first; a malformed string only blurs the estimate: tomllib has the last word).
_TOML_SKIP = re.compile(
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""'''
    r"|'''.*?'''"
    r'''|"(?:[^"\\\n]|\\.)*"'''
    r"|'[^'\n]*'"
    r"|#[^\n]*",
    re.DOTALL,
)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


# A key of MAX_NESTING or more dotted parts (quoted parts stand in as "s"): tomllib
# takes quadratic time on long dotted keys, so they are refused before parsing too.
_DOTTED = re.compile(r"(?:[A-Za-z0-9_-]+[ \t]*\.[ \t]*){" + str(MAX_NESTING) + ",}")


def _too_deep(text: str) -> bool:
    """Whether brackets or dotted keys nest deeper than ``MAX_NESTING``, measured without
    recursion: remove innermost bracket pairs level by level (each pass one linear scan)."""
    if text.count(".") >= MAX_NESTING and _DOTTED.search(_TOML_SKIP.sub("s", text)):
        return True
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return False
    brackets = _NOT_BRACKET.sub("", _TOML_SKIP.sub("", text))
    for _level in range(MAX_NESTING):
        reduced = _INNERMOST.sub("", brackets)
        if reduced == brackets or not reduced:
            return False  # balanced within the limit, or unbalanced (tomllib reports it)
        brackets = reduced
    return bool(brackets) and _INNERMOST.search(brackets) is not None


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether parsed data nests deeper than ``limit`` (dotted keys nest without brackets)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def dumps_session(session: Session) -> str:
    return tomli_w.dumps(session.to_dict())


def save_session(path: Path, session: Session) -> None:
    """Atomically replace ``path`` with ``session``: temp file, fsync, rename; mode 0600.

    A symlinked ``path`` is written through to its target. Raises ``StateWriteError``
    (full disk, read-only directory, ...); the file on disk then still holds the
    previous state.
    """
    path = Path(path)
    session.updated_at = now_iso()
    data = dumps_session(session).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, data)
    except OSError as exc:
        raise StateWriteError(path, exc) from exc


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
