"""Run one local command and stream its output: the engine under every git and yarn step.

Why it is built this way:
- argv lists only (never a shell), stdin from /dev/null and GIT_TERMINAL_PROMPT=0, so
  nothing ever reads the operator's terminal or waits for a password;
- its own process group (``start_new_session``), so cancelling ends the whole tree
  (yarn and git both start children) and leaves no orphan behind;
- output read in chunks, not ``readline()``: lines over 64 KiB would break it and yarn
  redraws progress with ``\\r``; lines are split across chunk boundaries here, decoded as
  UTF-8 with replacement and sanitised with ``tasks.text.strip_control``;
- lines are delivered in batches (one list per chunk) so a UI can write them to a
  ``Log`` with one ``write_lines`` call;
- the full output goes to a log file (0600) and the command to the journal.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import shlex
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tasks.errors import CrvsError, ReadOnlySession, StorageError, describe_os_error
from tasks.masking import mask_argv
from tasks.session.files import open_no_follow
from tasks.session.journal import Journal
from tasks.session.state import now_iso
from tasks.text import strip_control

# Large reads: fewer trips round the event loop per megabyte (a pipe hands over what it
# has, so a slow command still shows each line as soon as it is written).
CHUNK_SIZE = 256 * 1024
_STREAM_LIMIT = 1024 * 1024
# A "line" without a newline longer than this is cut, so a runaway process cannot
# make us hold unbounded memory.
MAX_LINE = 1024 * 1024
TERMINATE_GRACE_S = 3.0

# Anything strip_control would change (C0/C1 controls, ESC, TAB, bidi controls). Checked
# once per chunk so plain output takes the fast path (the benchmark streams a million lines).
_NEEDS_CLEANING = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")

LinesCallback = Callable[[list[str]], object]


def _plain(text: str) -> bool:
    """Nothing for strip_control to do (ASCII checked by C string methods: fast)."""
    if text.isascii():
        return text.replace("\n", "").isprintable()
    return _NEEDS_CLEANING.search(text) is None


@dataclass(frozen=True)
class Command:
    """What will run, exactly: shown to the operator before it runs."""

    argv: tuple[str, ...]
    cwd: Path

    def __post_init__(self) -> None:
        if not self.argv or not all(isinstance(a, str) for a in self.argv):
            raise ValueError("a command is a non-empty list of strings")

    @property
    def display(self) -> str:
        """The command as shown and logged: secrets masked (``tasks.masking``)."""
        return shlex.join(mask_argv(self.argv))


@dataclass
class ProcessResult:
    command: Command
    exit_code: int | None
    started_at: str
    finished_at: str
    duration_s: float
    cancelled: bool = False
    log_file: Path | None = None
    line_count: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.cancelled


class LineSplitter:
    """Bytes in, complete sanitised lines out; keeps the partial last line between chunks."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = self._partial + self._decoder.decode(data)
        if "\n" not in text:
            self._partial = self._keep_partial(text)
            return []
        lines = text.split("\n")
        self._partial = self._keep_partial(lines.pop())
        return self._clean(lines, text)

    def flush(self) -> list[str]:
        text = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        return self._clean([text], text) if text else []

    @staticmethod
    def _clean(lines: list[str], text: str) -> list[str]:
        if _plain(text):
            return lines
        # Colour codes (CSI) are by far the most common: a CSI never spans a newline, so
        # one pass over the whole chunk removes them; if nothing else is left to clean,
        # no line needs the slower per-line treatment.
        if "\x1b[" in text:
            stripped = _CSI.sub("", text)
            if _plain(stripped):
                return stripped.split("\n")[: len(lines)]
        return [strip_control(line) if _NEEDS_CLEANING.search(line) else line for line in lines]

    def _keep_partial(self, partial: str) -> str:
        # A progress bar redrawn with \r and no newline: only the last drawing matters.
        if "\r" in partial:
            cut = partial.rstrip("\r").rfind("\r")
            if cut >= 0:
                partial = partial[cut + 1 :]
        if len(partial) > MAX_LINE:
            partial = partial[-MAX_LINE:]
        return partial


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    # No pager, no editor: a merge commit message or a `git log` must never wait for input.
    env["GIT_PAGER"] = "cat"
    env["GIT_EDITOR"] = "true"
    env.setdefault("LC_ALL", "C.UTF-8")
    if extra:
        env.update(extra)
    return env


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def log_path_for(logs_dir: Path, phase: str | None, step: str | None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = "-".join(x for x in (phase, step, stamp) if x)
    path = Path(logs_dir) / f"{name}.log"
    n = 1
    while path.exists():
        path = Path(logs_dir) / f"{name}-{n}.log"
        n += 1
    return path


class StepLogError(StorageError):
    title = "The step log cannot be written"
    what = "The step log"


class StepLog:
    """A step's log file: created fresh (never through a link planted in the logs
    directory); a write that fails (full disk) stops the log, not the step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = open_no_follow(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, subdir_levels=1)
        except OSError as exc:
            raise StepLogError(path, exc) from exc
        self._fh: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
        self.error: str | None = None

    def write(self, text: str) -> str | None:
        """Write ``text``; returns the reason the log stopped, once, when it does."""
        if self._fh is None:
            return None
        try:
            self._fh.write(text)
            return None
        except OSError as exc:
            self.error = describe_os_error(exc)
            self._close_quietly()
            return self.error

    def close(self) -> None:
        if self._fh is None:
            return
        try:
            self._fh.close()
        except OSError as exc:
            self.error = self.error or describe_os_error(exc)
        self._fh = None

    def _close_quietly(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()
            except OSError:
                pass


class ProcessRun:
    """One run of one command. ``await run()``; ``cancel()`` from anywhere on the loop."""

    def __init__(
        self,
        command: Command,
        *,
        log_file: Path | None = None,
        journal: Journal | None = None,
        phase: str | None = None,
        step: str | None = None,
        on_lines: LinesCallback | None = None,
        env: dict[str, str] | None = None,
        terminate_grace_s: float = TERMINATE_GRACE_S,
    ) -> None:
        self.command = command
        self.log_file = log_file
        self.journal = journal
        self.phase = phase
        self.step = step
        self.on_lines = on_lines
        self.env = env
        self.terminate_grace_s = terminate_grace_s
        self.pid: int | None = None
        self.started_monotonic: float | None = None
        self.cancel_requested = False
        self._proc: asyncio.subprocess.Process | None = None
        self._kill_handle: asyncio.TimerHandle | None = None
        self.result: ProcessResult | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def elapsed(self) -> float:
        if self.started_monotonic is None:
            return 0.0
        return time.monotonic() - self.started_monotonic

    def cancel(self) -> None:
        """SIGTERM to the whole group now; SIGKILL to the group if it is still there later."""
        self.cancel_requested = True
        if self.pid is None or not self.running:
            return
        _signal_group(self.pid, signal.SIGTERM)
        if self._kill_handle is None:
            loop = asyncio.get_running_loop()
            self._kill_handle = loop.call_later(
                self.terminate_grace_s, _signal_group, self.pid, signal.SIGKILL
            )

    async def run(self) -> ProcessResult:
        cmd = self.command
        if self.journal is not None and self.journal.read_only:
            raise ReadOnlySession(f"Running `{cmd.display}`")
        if not cmd.cwd.is_dir():
            raise CrvsError(
                f"The directory {cmd.cwd} does not exist, so `{cmd.display}` cannot run there.",
                title="Directory not found",
            )
        started_at = now_iso()
        log: StepLog | None = None
        if self.log_file is not None:
            log = StepLog(self.log_file)
            log.write(f"$ {cmd.display}\n# in {cmd.cwd}\n# started {started_at}\n")
        self.started_monotonic = time.monotonic()
        exit_code: int | None = None
        lines_seen = 0
        try:
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    *cmd.argv,
                    cwd=str(cmd.cwd),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                    env=child_env(self.env),
                    start_new_session=True,
                    limit=_STREAM_LIMIT,
                )
            except FileNotFoundError as exc:
                raise CrvsError(
                    f"`{cmd.argv[0]}` was not found on this machine (PATH={os.environ.get('PATH', '')}).",
                    title="Program not found",
                ) from exc
            self.pid = self._proc.pid
            if self.cancel_requested:
                self.cancel()
            splitter = LineSplitter()
            stream = self._proc.stdout
            assert stream is not None
            while True:
                data = await stream.read(CHUNK_SIZE)
                if not data:
                    break
                lines = splitter.feed(data)
                if lines:
                    lines_seen += len(lines)
                    self._deliver(lines, log)
                    # Let the UI breathe even when the pipe never runs dry.
                    await asyncio.sleep(0)
            tail = splitter.flush()
            if tail:
                lines_seen += len(tail)
                self._deliver(tail, log)
            exit_code = await self._proc.wait()
        except asyncio.CancelledError:
            # The worker was cancelled (operator left, app quitting): end the group.
            self.cancel_requested = True
            await asyncio.shield(self._terminate())
            exit_code = self._proc.returncode if self._proc else None
            self._finish(started_at, exit_code, lines_seen, log)
            raise
        except Exception:
            if log is not None:
                log.close()
            raise
        finally:
            if self._kill_handle is not None:
                self._kill_handle.cancel()
            if self.pid is not None:
                # Whatever the leader left behind in its group goes too.
                _signal_group(self.pid, signal.SIGKILL)
        return self._finish(started_at, exit_code, lines_seen, log)

    async def _terminate(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), self.terminate_grace_s)
        except TimeoutError:
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()

    def _deliver(self, lines: list[str], log: StepLog | None) -> None:
        stopped = log.write("\n".join(lines) + "\n") if log is not None else None
        if self.on_lines is not None:
            self.on_lines(lines)
            if stopped and log is not None:
                self.on_lines([f"[the log {log.path} stopped here: {stopped}]"])

    def _finish(
        self, started_at: str, exit_code: int | None, lines: int, log: StepLog | None
    ) -> ProcessResult:
        if self.result is not None:
            return self.result
        duration = self.elapsed()
        finished_at = now_iso()
        cancelled = self.cancel_requested
        if log is not None:
            outcome = "cancelled" if cancelled else f"exit code {exit_code}"
            log.write(f"# finished {finished_at}: {outcome} after {duration:.1f} s\n")
            log.close()
        if self.journal is not None:
            self.journal.command(
                self.command.argv,
                self.command.cwd,
                started_at,
                finished_at,
                exit_code,
                duration_s=duration,
                phase=self.phase,
                step=self.step,
            )
        self.result = ProcessResult(
            command=self.command,
            exit_code=exit_code,
            started_at=started_at,
            finished_at=finished_at,
            duration_s=duration,
            cancelled=cancelled,
            log_file=self.log_file,
            line_count=lines,
        )
        return self.result


async def capture(argv: Sequence[str], cwd: Path, timeout: float = 30.0) -> tuple[int, str]:
    """Run a short query command (no streaming, no journal: it changes nothing)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=child_env(),
        start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        _signal_group(proc.pid, signal.SIGKILL)
        # Bounded: this may run while the app shuts down.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(proc.wait(), 2)
        raise
    return proc.returncode or 0, out.decode("utf-8", errors="replace")


@dataclass
class RunningSteps:
    """Every step running right now, app-wide: quitting asks first while any is running."""

    runs: dict[tuple[str, str], ProcessRun] = field(default_factory=dict)
    _idle: asyncio.Event | None = None

    def add(self, phase: str, step: str, run: ProcessRun) -> None:
        self.runs[(phase, step)] = run
        if self._idle is not None:
            self._idle.clear()

    def remove(self, phase: str, step: str) -> None:
        self.runs.pop((phase, step), None)
        if not self.runs and self._idle is not None:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no step is registered; False if some still run after ``timeout``."""
        if not self.runs:
            return True
        self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def any(self) -> bool:
        return any(r.running or r.result is None for r in self.runs.values())

    def describe(self) -> list[str]:
        return [
            f"{phase} / {step}: {run.command.display}" for (phase, step), run in self.runs.items()
        ]

    def cancel_all(self) -> None:
        for run in list(self.runs.values()):
            run.cancel()
