"""Session state: one upgrade of one installation, stored as TOML.

Writes are atomic (temp file in the same directory, fsync, rename) and 0600.
A file that does not parse or carries an unknown schema version is reported and
never overwritten.

Status transitions live here and nowhere else: ``PhaseRecord`` and ``StepRecord``
change their own status through their methods (start, finish, fail, skip, block,
reopen, interrupt, ...). A test refuses any other assignment to a status.

Feature sections (``answers``, ``plan``, ``health``, ``release``, ``backup``,
``deploy``, ``change``) are typed dataclasses owned by their feature's module. Each
implements ``Section`` (a ``KEY`` naming its table, ``to_state``/``from_state``)
and is reached as ``session.section(OwnerClass)``; this module never imports
them, so it stays at the bottom of the layers. ``tasks.sections`` lists every
owner and loads a session with all of them parsed.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, TypeVar

import tomli_w

from tasks.errors import StateFileCorrupt, StateFileUnsupported, StateWriteError
from tasks.lean import dataclass, regex
from tasks.session.files import write_atomic as write_atomic  # callers write through it
from tasks.session.phases import PHASE_IDS, VIEWS_BY_ID, PhaseStatus, StepStatus

SCHEMA_VERSION = 1

# The tables a session file may hold besides its header and phases.
SECTION_KEYS = ("answers", "plan", "health", "release", "backup", "deploy", "change")

# A session file is a few kilobytes; anything near these is not one of ours, and
# parsing it could take the app down (tomllib recurses on nested arrays/tables).
MAX_STATE_BYTES = 8 * 1024 * 1024
MAX_NESTING = 32


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class StepRecord:
    """One step of a phase: what happened to it, and when."""

    status: StepStatus = StepStatus.NOT_STARTED
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    duration_s: float | None = None
    # Short human note: why skipped, what failed, where the log is.
    note: str = ""
    log_file: str | None = None
    # Recorded as done by the operator (by hand, or outside crvs-migrate): who.
    by: str | None = None

    # -- transitions (the only places a step's status changes) --------------

    def start(self, log_file: str | None = None, at: str | None = None) -> None:
        self.status = StepStatus.RUNNING
        self.started_at = at or now_iso()
        self.finished_at = self.exit_code = self.duration_s = self.by = None
        self.note = ""
        self.log_file = log_file

    def _end(
        self,
        status: StepStatus,
        note: str,
        exit_code: int | None,
        duration_s: float | None,
        at: str | None,
    ) -> None:
        self.status = status
        self.note = note
        self.finished_at = at or now_iso()
        if exit_code is not None:
            self.exit_code = exit_code
        if duration_s is not None:
            self.duration_s = round(duration_s, 3)

    def succeed(
        self,
        *,
        exit_code: int | None = None,
        duration_s: float | None = None,
        at: str | None = None,
        note: str = "",
    ) -> None:
        self._end(StepStatus.SUCCEEDED, note, exit_code, duration_s, at)

    def fail(
        self,
        note: str,
        *,
        exit_code: int | None = None,
        duration_s: float | None = None,
        at: str | None = None,
    ) -> None:
        self._end(StepStatus.FAILED, note, exit_code, duration_s, at)

    def cancel(
        self,
        note: str = "cancelled by the operator",
        *,
        exit_code: int | None = None,
        duration_s: float | None = None,
        at: str | None = None,
    ) -> None:
        self._end(StepStatus.CANCELLED, note, exit_code, duration_s, at)

    def interrupt(self, note: str, *, at: str | None = None) -> None:
        """It was running when crvs-migrate stopped: it did not finish here."""
        self._end(StepStatus.INTERRUPTED, note, None, None, at)

    def done_by_hand(self, note: str, by: str, *, at: str | None = None) -> None:
        """The operator did it (by hand, or outside the app) and says so: journalled by the caller."""
        self._end(StepStatus.SUCCEEDED, note, None, None, at)
        self.by = by

    def skip(self, reason: str) -> None:
        self.status = StepStatus.SKIPPED
        self.note = reason

    def reset(self) -> None:
        """Back to not started (the plan no longer skips it)."""
        self.status = StepStatus.NOT_STARTED
        self.note = ""

    # -- state ----------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> StepRecord:
        if not isinstance(data, dict):
            raise ValueError("a step must be a table")
        return cls(
            status=StepStatus(_typed(data, "status", str, StepStatus.NOT_STARTED)),
            started_at=_typed(data, "started_at", str),
            finished_at=_typed(data, "finished_at", str),
            exit_code=_typed(data, "exit_code", int),
            duration_s=_number(data, "duration_s"),
            note=_typed(data, "note", str, ""),
            log_file=_typed(data, "log_file", str),
            by=_typed(data, "by", str),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status.value}
        for name in ("started_at", "finished_at", "exit_code", "duration_s", "log_file", "by"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class PhaseRecord:
    """One phase of the upgrade: its status, why, and its steps."""

    status: PhaseStatus = PhaseStatus.NOT_STARTED
    # Why a phase is skipped or blocked, shown when the operator selects it.
    reason: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)

    def step(self, step_id: str) -> StepRecord:
        return self.steps.setdefault(step_id, StepRecord())

    # -- transitions (the only places a phase's status changes) --------------

    def start(self, at: str | None = None) -> None:
        """Work began (a step ran, an answer was given): not started, skipped or blocked
        become in progress; done and in progress stay as they are."""
        if self.status in (PhaseStatus.NOT_STARTED, PhaseStatus.BLOCKED, PhaseStatus.SKIPPED):
            self.status = PhaseStatus.IN_PROGRESS
            self.reason = ""
            self.started_at = self.started_at or at or now_iso()

    def finish(self, at: str | None = None) -> None:
        if self.status is not PhaseStatus.DONE:
            self.status = PhaseStatus.DONE
            self.reason = ""
            now = at or now_iso()
            self.started_at = self.started_at or now
            self.finished_at = now

    def reopen(self) -> None:
        """Done no longer holds (a step failed again, evidence changed): back to in progress."""
        if self.status is PhaseStatus.DONE:
            self.status = PhaseStatus.IN_PROGRESS
            self.finished_at = None

    def skip(self, reason: str, at: str | None = None) -> None:
        self.status = PhaseStatus.SKIPPED
        self.reason = reason
        if at is not None:
            self.finished_at = at

    def block(self, reason: str) -> None:
        self.status = PhaseStatus.BLOCKED
        self.reason = reason

    def clear(self) -> None:
        """Back to not started (the plan no longer skips or blocks it)."""
        self.status = PhaseStatus.NOT_STARTED
        self.reason = ""

    # -- state ----------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> PhaseRecord:
        if not isinstance(data, dict):
            raise ValueError("a phase must be a table")
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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status.value}
        if self.reason:
            out["reason"] = self.reason
        for name in ("started_at", "finished_at"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out["steps"] = {k: s.to_dict() for k, s in self.steps.items()}
        return out


class Section(Protocol):
    """A typed section of the session file, owned by one feature module."""

    KEY: ClassVar[str]

    def to_state(self) -> dict[str, Any]: ...

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Self: ...


S = TypeVar("S", bound=Section)


# Slots: a stray ``session.answers = ...`` (the old dict sections) fails loudly.
@dataclass(slots=True)
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
    # Section tables as read from the file, until their owner parses them.
    raw_sections: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _sections: dict[str, Section] = field(default_factory=dict, repr=False, compare=False)

    def phase(self, phase_id: str) -> PhaseRecord:
        return self.phases.setdefault(phase_id, PhaseRecord())

    def section(self, kind: type[S]) -> S:
        """The typed section ``kind`` (parsed from the file on first use, kept after)."""
        found = self._sections.get(kind.KEY)
        if found is None:
            found = kind.from_state(self.raw_sections.get(kind.KEY, {}))
            self._sections[kind.KEY] = found
        if not isinstance(found, kind):
            raise TypeError(
                f"section {kind.KEY!r} is a {type(found).__name__}, not {kind.__name__}"
            )
        return found

    def replace_section(self, value: Section) -> None:
        """Put a new value in place of a section (for owners whose records are immutable)."""
        self._sections[value.KEY] = value

    def section_state(self, key: str) -> dict[str, Any]:
        """A section as it will be written (for the report and the status command)."""
        parsed = self._sections.get(key)
        return parsed.to_state() if parsed is not None else dict(self.raw_sections.get(key, {}))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "session_id": self.session_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "installation": self.installation,
            "demo": self.demo,
            "current_view": self.current_view,
            "phases": {pid: rec.to_dict() for pid, rec in self.phases.items()},
        }
        for key in SECTION_KEYS:
            out[key] = self.section_state(key)
        return _drop_none(out)

    @classmethod
    def from_dict(cls, data: dict[str, Any], sections: Iterable[type[Section]] = ()) -> Session:
        """Parse ``data``; every section class in ``sections`` parses its table now, so a
        damaged section is refused at load rather than when a screen first reads it."""
        phases_in = data.get("phases", {})
        if not isinstance(phases_in, dict):
            raise ValueError("'phases' must be a table")
        unknown = set(phases_in) - set(PHASE_IDS)
        if unknown:
            raise ValueError(f"unknown phase(s): {', '.join(sorted(unknown))}")
        phases = {pid: PhaseRecord() for pid in PHASE_IDS}
        for pid, pdata in phases_in.items():
            try:
                phases[pid] = PhaseRecord.from_dict(pdata)
            except ValueError as exc:
                raise ValueError(f"phase '{pid}': {exc}") from exc
        current = _typed(data, "current_view", str, "prepare")
        if current not in PHASE_IDS and current not in VIEWS_BY_ID:
            raise ValueError(f"unknown current view '{current}'")
        raw: dict[str, dict[str, Any]] = {}
        for name in SECTION_KEYS:
            value = data.get(name, {})
            if not isinstance(value, dict):
                raise ValueError(f"'{name}' must be a table")
            raw[name] = value
        session = cls(
            schema_version=_typed(data, "schema_version", int, SCHEMA_VERSION),
            session_id=_typed(data, "session_id", str, "") or uuid.uuid4().hex[:12],
            created_at=_typed(data, "created_at", str, "") or now_iso(),
            updated_at=_typed(data, "updated_at", str, "") or now_iso(),
            installation=_typed(data, "installation", str, ""),
            demo=_typed(data, "demo", bool, False),
            current_view=current,
            phases=phases,
            raw_sections=raw,
        )
        for kind in sections:
            try:
                session.section(kind)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"section '{kind.KEY}': {exc}") from exc
        return session


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


# A check refuses a state that could not have been reached honestly (for example a
# production gate marked open without its evidence): it returns a problem or None.
StateCheck = Callable[[Session], "str | None"]


def load_session(
    path: Path,
    sections: Iterable[type[Section]] = (),
    checks: Iterable[StateCheck] = (),
) -> Session | None:
    """Read the session at ``path``; ``None`` if there is no file yet.

    ``sections`` are parsed at once and ``checks`` run (``tasks.sections.open_session``
    passes every owner and check). Raises ``StateFileCorrupt`` or
    ``StateFileUnsupported``; the file is left as it is. Whatever the file holds, this
    never hangs and never raises anything else: its size and nesting are bounded before
    it is parsed, and every section and check runs inside the error handling.
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
        session = Session.from_dict(data, sections)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise StateFileCorrupt(path, f"has an invalid structure ({exc})") from exc
    for check in checks:
        try:
            problem = check(session)
        except Exception as exc:  # noqa: BLE001 - a hostile value must refuse the file, not crash
            problem = f"has an invalid value ({type(exc).__name__}: {exc})"
        if problem:
            raise StateFileCorrupt(path, problem)
    return session


# Strings and comments, skipped when measuring how deeply brackets nest (triple-quoted
# forms first; a malformed string only blurs the estimate: tomllib has the last word).
_TOML_SKIP = regex(
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""'''
    r"|'''.*?'''"
    r'''|"(?:[^"\\\n]|\\.)*"'''
    r"|'[^'\n]*'"
    r"|#[^\n]*",
    re.DOTALL,
)
_NOT_BRACKET = regex(r"[^\[\]{}]+")
_INNERMOST = regex(r"\[\]|\{\}")


# A key of MAX_NESTING or more dotted parts (quoted parts stand in as "s"): tomllib
# takes quadratic time on long dotted keys, so they are refused before parsing too.
_DOTTED = regex(r"(?:[A-Za-z0-9_-]+[ \t]*\.[ \t]*){" + str(MAX_NESTING) + ",}")


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
