"""Run one local command and stream its output: the engine under every git and yarn step.

Why it is built this way:
- argv lists only (never a shell), stdin from /dev/null and GIT_TERMINAL_PROMPT=0, so
  nothing ever reads the operator's terminal or waits for a password;
- detached from the app: the command runs under a small supervisor
  (``tasks.local.supervise``) in a session of its own, which appends the command's
  sanitised output to the step's log as it arrives and writes the exit status beside it
  (``tasks.local.detached``). The app follows the log. If the operator's SSH session
  drops or the app is killed, the step goes on; the next start reattaches to it
  (``ProcessRun.attach``) or reads how it ended;
- the command has its own process group, so cancelling ends the whole tree (yarn and git
  both start children) and leaves no orphan behind: SIGTERM to the group, then SIGKILL
  after a grace period (the supervisor does it, so it happens even if the app is gone);
- output is read in chunks and split into lines across chunk boundaries
  (``tasks.local.lines``), decoded as UTF-8 with replacement and sanitised with
  ``tasks.text.strip_control``;
- lines are delivered in batches (one list per chunk) so a UI can write them to a
  ``Log`` with one ``write_lines`` call;
- the log is created fresh (0600, never through a link planted in the logs directory),
  the command goes to the journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import field
from pathlib import Path

from tasks.errors import CrvsError, ReadOnlySession, StorageError, describe_os_error
from tasks.lean import dataclass
from tasks.local.detached import RunFiles, RunStatus, supervisor_argv, supervisor_running
from tasks.local.lines import MAX_LINE as MAX_LINE
from tasks.local.lines import LineSplitter as LineSplitter
from tasks.masking import mask_argv
from tasks.session.files import open_no_follow, write_all
from tasks.session.journal import Journal
from tasks.session.state import now_iso

# Large reads: fewer trips round the event loop per megabyte.
CHUNK_SIZE = 256 * 1024
TERMINATE_GRACE_S = 3.0
# How often the log is looked at when nothing new came, and whether a reattached step's
# supervisor still runs.
POLL_S = 0.05
ALIVE_CHECK_S = 0.5
START_TIMEOUT_S = 30.0
# Lines a run keeps for a pane that attaches later (the pane keeps as many).
TAIL_LINES = 5000

LinesCallback = Callable[[list[str]], object]


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
    # Its supervisor stopped before the command ended (the machine restarted, a kill):
    # how it ended is not known.
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.cancelled and not self.interrupted


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
    directory), opened for appending; a write that fails (full disk) stops the log, not
    the step. ``fd`` is handed to the step's supervisor, which appends the output."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = open_no_follow(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600, subdir_levels=1
            )
        except OSError as exc:
            raise StepLogError(path, exc) from exc
        self.fd: int | None = fd
        self.error: str | None = None

    def write(self, text: str) -> str | None:
        """Write ``text``; returns the reason the log stopped, once, when it does."""
        if self.fd is None:
            return None
        try:
            write_all(self.fd, text.encode("utf-8"))
            return None
        except OSError as exc:
            self.error = describe_os_error(exc)
            self.close()
            return self.error

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def _open_dir(path: Path) -> int:
    """The logs directory, refusing a link planted in its place (the log was opened the same way)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


class ProcessRun:
    """One run of one command, detached from the app.

    ``await run()`` starts it and follows it to its end; ``cancel()`` from anywhere on the
    loop. ``ProcessRun.attach(log_file)`` (after a restart) and ``await follow()`` follow a
    run started earlier. A run cancelled as an asyncio task (the app quits or dies) only
    stops being followed: the command goes on.
    """

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
        self.env = env
        self.terminate_grace_s = terminate_grace_s
        # The command's pid, which is also its process group's id.
        self.pid: int | None = None
        self.supervisor_pid: int | None = None
        self.started_at: str | None = None
        self.started_epoch: float | None = None
        # Followed again after a restart (started by an earlier crvs-migrate).
        self.reattached = False
        self.cancel_requested = False
        self.result: ProcessResult | None = None
        self.lines_seen = 0
        self._subscribers: list[LinesCallback] = [on_lines] if on_lines is not None else []
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._done = asyncio.Event()
        self._files: RunFiles | None = None
        # The supervisor, when this run started it. A plain Popen on purpose: asyncio's
        # subprocess transport kills a process still running when it is closed or
        # collected, and the supervisor must outlive the app.
        self._proc: subprocess.Popen[bytes] | None = None
        self._output_start = 0
        self._tempdir: Path | None = None
        self._kill_handle: asyncio.TimerHandle | None = None

    # -- looking at it ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.supervisor_pid is not None and self.result is None

    def elapsed(self) -> float:
        if self.result is not None:
            return self.result.duration_s
        if self.started_epoch is None:
            return 0.0
        return max(0.0, time.time() - self.started_epoch)

    def subscribe(self, callback: LinesCallback, *, replay: bool = True) -> None:
        """Lines from now on; first, with ``replay``, the last ``TAIL_LINES`` so far."""
        if replay and self._tail:
            callback(list(self._tail))
        self._subscribers.append(callback)

    def unsubscribe(self, callback: LinesCallback) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(callback)

    async def wait(self) -> ProcessResult:
        """How it ended, once it has (whoever follows it)."""
        await self._done.wait()
        assert self.result is not None
        return self.result

    # -- cancelling -------------------------------------------------------------------

    def cancel(self) -> None:
        """SIGTERM to the whole group now, SIGKILL later (the supervisor escalates)."""
        self.cancel_requested = True
        if self.result is not None or self.supervisor_pid is None or self.pid is None:
            return  # not started yet: it is cancelled as soon as it starts
        name = self._files.name if self._files is not None else ""
        if supervisor_running(self.supervisor_pid, name):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.supervisor_pid, signal.SIGTERM)
        else:
            _signal_group(self.pid, signal.SIGTERM)
        if self._kill_handle is None:
            # Should the supervisor not manage (it died meanwhile): the group goes all the same.
            loop = asyncio.get_running_loop()
            self._kill_handle = loop.call_later(self.terminate_grace_s + 2.0, self._force_kill)

    def _force_kill(self) -> None:
        if self.result is None and self.pid is not None:
            _signal_group(self.pid, signal.SIGKILL)

    # -- starting ---------------------------------------------------------------------

    async def run(self) -> ProcessResult:
        cmd = self.command
        if self.journal is not None and self.journal.read_only:
            raise ReadOnlySession(f"Running `{cmd.display}`")
        if not cmd.cwd.is_dir():
            raise CrvsError(
                f"The directory {cmd.cwd} does not exist, so `{cmd.display}` cannot run there.",
                title="Directory not found",
            )
        log_file = self.log_file
        if log_file is None:
            # A run nobody records still runs the same way, its log in a private directory.
            self._tempdir = Path(tempfile.mkdtemp(prefix="crvs-run-"))
            log_file = self._tempdir / "run.log"
        await self._start(log_file)
        return await self._follow()

    async def _start(self, log_file: Path) -> None:
        cmd = self.command
        log = StepLog(log_file)
        self.started_at = now_iso()
        log.write(f"$ {cmd.display}\n# in {cmd.cwd}\n# started {self.started_at}\n")
        try:
            dir_fd = _open_dir(log_file.parent)
        except OSError as exc:
            log.close()
            raise StepLogError(log_file, exc) from exc
        assert log.fd is not None
        argv = supervisor_argv(
            dir_fd, log.fd, log_file.stem, cmd.cwd, self.terminate_grace_s, cmd.argv
        )
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                # A supervisor that breaks says why in the log.
                stderr=log.fd,
                pass_fds=(dir_fd, log.fd),
                start_new_session=True,
                cwd=str(log_file.parent),
                env=child_env(self.env),
            )
        finally:
            os.close(dir_fd)
            log.close()
        self._files = RunFiles(log_file)
        announced = await self._announcement()
        if "child_pid" not in announced:
            await asyncio.to_thread(self._proc.wait, START_TIMEOUT_S)
            self._cleanup()
            message = str(announced.get("message", ""))
            if announced.get("error") == "not_found":
                raise CrvsError(
                    f"`{cmd.argv[0]}` was not found on this machine "
                    f"(PATH={os.environ.get('PATH', '')}).",
                    title="Program not found",
                )
            raise CrvsError(
                f"`{cmd.display}` could not be started: {message or 'see ' + str(log_file)}",
                title="The step did not start",
            )
        info = self._files.read_run()
        self.supervisor_pid = self._proc.pid
        child = announced["child_pid"]
        self.pid = child if isinstance(child, int) else int(str(child))
        if info is not None:
            self.started_at, self.started_epoch = info.started_at, info.started_epoch
            self._output_start = info.output_start
        else:  # pragma: no cover - the supervisor writes it before it announces
            self.started_epoch = time.time()
        if self.cancel_requested:
            self.cancel()

    async def _announcement(self) -> dict[str, object]:
        """The supervisor's one line on stdout (it closes stdout right after)."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        stdout = proc.stdout
        try:
            line = await asyncio.wait_for(asyncio.to_thread(stdout.readline, 4096), START_TIMEOUT_S)
        except TimeoutError:
            line = b""
        finally:
            if line or proc.poll() is not None:
                stdout.close()
        try:
            data = json.loads(line.decode("utf-8", "replace")) if line.strip() else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if not data:
            data = {"error": "supervisor", "message": self._log_tail() or "it stopped at once"}
        return data

    def _log_tail(self) -> str:
        if self._files is None:
            return ""
        try:
            text = self._files.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " ".join(text.strip().splitlines()[-3:])

    # -- following ---------------------------------------------------------------------

    @classmethod
    def attach(
        cls,
        log_file: Path,
        *,
        journal: Journal | None = None,
        phase: str | None = None,
        step: str | None = None,
    ) -> ProcessRun | None:
        """The run whose log is ``log_file``, started by an earlier crvs-migrate; ``None``
        when its supervisor left no record (it never started)."""
        files = RunFiles(Path(log_file))
        info = files.read_run()
        if info is None:
            return None
        run = cls(
            Command(info.argv, Path(info.cwd or ".")),
            log_file=Path(log_file),
            journal=journal,
            phase=phase,
            step=step,
        )
        run._files = files
        run.pid, run.supervisor_pid = info.child_pid, info.supervisor_pid
        run.started_at, run.started_epoch = info.started_at, info.started_epoch
        run._output_start = info.output_start
        run.reattached = True
        return run

    def alive(self) -> bool:
        """Whether its supervisor still runs (so the command has not ended yet)."""
        if self._files is None or self.supervisor_pid is None:
            return False
        return supervisor_running(self.supervisor_pid, self._files.name)

    def ended_result(self) -> ProcessResult | None:
        """How it ended, if it ended while nobody followed it (its status file says)."""
        if self.result is not None:
            return self.result
        if self._files is None:
            return None
        status = self._files.read_status()
        if status is None:
            return None
        self.lines_seen = status.lines
        return self._finish(status)

    def interrupted_result(self) -> ProcessResult:
        """Its supervisor is gone without a status: how it ended is not known."""
        return self._finish(None)

    async def follow(self) -> ProcessResult:
        """Follow a run from ``attach`` to its end (its log so far first)."""
        return await self._follow()

    async def _follow(self) -> ProcessResult:
        files = self._files
        assert files is not None and self.supervisor_pid is not None
        try:
            fd = open_no_follow(files.log, os.O_RDONLY, subdir_levels=1)
        except OSError as exc:
            raise StepLogError(files.log, exc) from exc
        offset = self._output_start
        splitter = LineSplitter()
        status: RunStatus | None = None
        ended_without_status = False
        proc = self._proc
        next_alive_check = 0.0
        # Idle waits grow from a few milliseconds (a short git step ends at once) to POLL_S.
        idle = POLL_S / 8
        try:
            while True:
                want = CHUNK_SIZE
                if status is not None:
                    if offset >= status.output_end:
                        break
                    want = min(CHUNK_SIZE, status.output_end - offset)
                data = os.pread(fd, want, offset)
                if data:
                    if status is None and files.status_exists():
                        # The supervisor writes its last line after the status: never show it.
                        status = files.read_status()
                        if status is not None and offset + len(data) > status.output_end:
                            data = data[: max(0, status.output_end - offset)]
                    offset += len(data)
                    self._deliver(splitter.feed(data))
                    # Let the UI breathe even when the log never runs dry.
                    idle = POLL_S / 8
                    await asyncio.sleep(0)
                    continue
                if status is not None:
                    break  # the log ends early (it stopped: full disk)
                status = files.read_status()
                if status is not None:
                    continue
                if proc is not None and proc.poll() is not None:
                    # Our supervisor ended (poll reaps it): its status is written by now.
                    status = files.read_status()
                    if status is None:
                        ended_without_status = True
                        break
                    continue
                now = time.monotonic()
                if proc is None and now >= next_alive_check:
                    next_alive_check = now + ALIVE_CHECK_S
                    if not supervisor_running(self.supervisor_pid, files.name):
                        status = files.read_status()
                        if status is None:
                            ended_without_status = True
                            break
                        continue
                await asyncio.sleep(idle)
                idle = min(POLL_S, idle * 2)
            self._deliver(splitter.flush())
        finally:
            # Stopped following (the app quits, or it ended): the supervisor and the
            # command go on if they still run.
            os.close(fd)
        if ended_without_status:
            return self._finish(None)
        return self._finish(status)

    def _deliver(self, lines: list[str]) -> None:
        if not lines:
            return
        self.lines_seen += len(lines)
        self._tail.extend(lines)
        for callback in list(self._subscribers):
            callback(lines)

    def _finish(self, status: RunStatus | None) -> ProcessResult:
        if self.result is not None:
            return self.result
        if self._kill_handle is not None:
            self._kill_handle.cancel()
        if status is None:
            exit_code, cancelled, interrupted = None, False, True
            finished_at, duration = now_iso(), self.elapsed()
        else:
            exit_code, interrupted = status.exit_code, False
            cancelled = status.cancelled or (self.cancel_requested and exit_code != 0)
            finished_at, duration = status.finished_at, status.duration_s
            if status.log_error:
                where = self.log_file or "the log"
                self._deliver([f"[the log {where} stopped here: {status.log_error}]"])
        if self.journal is not None and not self.journal.read_only:
            self.journal.command(
                self.command.argv,
                self.command.cwd,
                self.started_at or finished_at,
                finished_at,
                exit_code,
                duration_s=duration,
                phase=self.phase,
                step=self.step,
            )
        self.result = ProcessResult(
            command=self.command,
            exit_code=exit_code,
            started_at=self.started_at or finished_at,
            finished_at=finished_at,
            duration_s=duration,
            cancelled=cancelled,
            log_file=self.log_file,
            line_count=self.lines_seen,
            interrupted=interrupted,
        )
        self._done.set()
        self._cleanup()
        return self.result

    def _cleanup(self) -> None:
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None


async def capture(argv: Sequence[str], cwd: Path, timeout: float = 30.0) -> tuple[int, str]:
    """Run a short query command (no streaming, no journal: it changes nothing).

    In a thread with a plain Popen: an asyncio subprocess still running when the app closes
    its loop leaves a transport that complains (or kills) when collected. A query cancelled
    meanwhile ends on its own within ``timeout``.
    """

    def run() -> tuple[int, str]:
        proc = subprocess.Popen(
            list(argv),
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=child_env(),
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise TimeoutError(f"{argv[0]} did not answer within {timeout:g} s") from None
        return proc.returncode or 0, out.decode("utf-8", errors="replace")

    return await asyncio.to_thread(run)


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

    def get(self, phase: str, step: str) -> ProcessRun | None:
        return self.runs.get((phase, step))

    def of_phase(self, phase: str) -> dict[str, ProcessRun]:
        """The runs of ``phase`` by step id (a reattached step's screen shows it)."""
        return {step: run for (p, step), run in self.runs.items() if p == phase}

    def describe(self) -> list[str]:
        return [
            f"{phase} / {step}: {run.command.display}" for (phase, step), run in self.runs.items()
        ]

    def cancel_all(self) -> None:
        for run in list(self.runs.values()):
            run.cancel()
