"""Long commands on a server, detached from the SSH connection that started them.

A dropped link between the jump host and a server must not kill a backup half-way.
So a long command (the emergency backup, the restore, a stack update) runs on the
server under a small supervisor, in a run directory of its own::

    ~/.crvs-migrate/runs/<run id>/
        argv      the command, NUL-separated (for whoever looks later)
        stdin     what the command reads (the restore's answers; empty otherwise)
        log       everything it prints, stdout and stderr, as it prints it
        pid       the supervisor's pid; child: the command's (its own session)
        started   finished   status      (status: the exit code, written last)

The supervisor is started with ``setsid nohup`` (no terminal, not in the SSH
session, SIGHUP ignored) and waits for the command, then writes ``finished`` and
``status``. The app follows ``log`` over SSH (``tail -f --pid``) from the byte it
has, appending to a local copy; when the connection drops it reconnects and goes
on from the same byte, and once the supervisor is gone it reads the real exit
status. The same works after the app restarted: the session keeps the run's record.
A run whose supervisor died without a status (the server rebooted) is "interrupted",
its log kept.

Every script here is a constant: values (the run id, the command, its input) are
passed as positional arguments to ``sh -c SCRIPT``, never put into the script text.
The scripts need POSIX sh, GNU coreutils (``tail --pid``, ``date``), ``setsid``
(util-linux) and ``nohup``: all on a stock Ubuntu server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shlex
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tasks.errors import CrvsError, InvalidName
from tasks.lean import dataclass, regex
from tasks.session.state import now_iso

RUNS_DIR = ".crvs-migrate/runs"
RUN_ID = regex(r"^[a-z0-9][a-z0-9-]{0,63}$")
# What a command may read from its stdin file (answers to prompts, never data).
MAX_STDIN = 4096

# sh -c START crvs-start SUPERVISOR RUN_ID STDIN FILE_NAME FILE_BODY CMD [ARGS...]
# (FILE_NAME empty: no file; else FILE_BODY is written to the run directory under that name,
# e.g. a script the command runs as ./name: the command's directory is the run directory.)
START = r"""set -eu
umask 077
sup=$1; id=$2; input=$3; fname=$4; fbody=$5; shift 5
for tool in setsid nohup tail; do
  command -v "$tool" > /dev/null 2>&1 || { echo "crvs-migrate: $tool is not installed on this server" >&2; exit 5; }
done
case $id in ''|*[!a-z0-9-]*) echo "crvs-migrate: bad run id" >&2; exit 2 ;; esac
base="$HOME/.crvs-migrate/runs"
mkdir -p "$base"
dir="$base/$id"
if ! mkdir "$dir" 2>/dev/null; then echo "crvs-migrate: run $id already exists" >&2; exit 3; fi
printf '%s' "$input" > "$dir/stdin"
if [ -n "$fname" ]; then
  case $fname in .*|*[!A-Za-z0-9._-]*) echo "crvs-migrate: bad file name" >&2; exit 2 ;; esac
  printf '%s' "$fbody" > "$dir/$fname"
fi
for a in "$@"; do printf '%s\0' "$a"; done > "$dir/argv"
: > "$dir/log"
date -u +%Y-%m-%dT%H:%M:%S+00:00 > "$dir/started"
setsid nohup sh -c "$sup" crvs-supervise "$dir" "$@" < /dev/null > /dev/null 2>&1 &
n=0
while [ ! -s "$dir/pid" ] && [ "$n" -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
cat "$dir/pid"
"""

# sh -c SUPERVISOR crvs-supervise DIR CMD [ARGS...]
SUPERVISOR = r"""dir=$1; shift
cd "$dir" || exit 1
echo $$ > "$dir/pid.tmp" && mv "$dir/pid.tmp" "$dir/pid"
setsid "$@" < "$dir/stdin" >> "$dir/log" 2>&1 &
child=$!
echo "$child" > "$dir/child"
wait "$child"
code=$?
date -u +%Y-%m-%dT%H:%M:%S+00:00 > "$dir/finished"
echo "$code" > "$dir/status.tmp" && mv "$dir/status.tmp" "$dir/status"
"""

# sh -c FOLLOW crvs-follow RUN_ID OFFSET: the log from byte OFFSET, until the supervisor ends.
FOLLOW = r"""dir="$HOME/.crvs-migrate/runs/$1"; off=$2
[ -d "$dir" ] || { echo "crvs-migrate: no run $1 on this server" >&2; exit 4; }
pid=$(cat "$dir/pid" 2>/dev/null || true)
if [ ! -s "$dir/status" ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  exec tail -c "+$((off + 1))" -s 0.5 --pid="$pid" -f "$dir/log"
fi
exec tail -c "+$((off + 1))" "$dir/log"
"""

# sh -c STATUS crvs-status RUN_ID: key=value lines.
STATUS = r"""dir="$HOME/.crvs-migrate/runs/$1"
if [ ! -d "$dir" ]; then echo "found=no"; exit 0; fi
echo "found=yes"
pid=$(cat "$dir/pid" 2>/dev/null || true)
alive=no
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  case "$(tr '\000' ' ' < "/proc/$pid/cmdline" 2>/dev/null || echo crvs-supervise)" in
    *crvs-supervise*) alive=yes ;;
  esac
fi
# Read after the liveness: a supervisor gone has written its status before it went.
if [ -s "$dir/status" ]; then echo "exit=$(cat "$dir/status")"; fi
echo "alive=$alive"
echo "size=$(wc -c < "$dir/log" 2>/dev/null || echo 0)"
echo "started=$(cat "$dir/started" 2>/dev/null || true)"
echo "finished=$(cat "$dir/finished" 2>/dev/null || true)"
"""

# sh -c CANCEL crvs-cancel RUN_ID SIGNAL: the command's whole process group.
CANCEL = r"""dir="$HOME/.crvs-migrate/runs/$1"
child=$(cat "$dir/child" 2>/dev/null) || { echo "crvs-migrate: run $1 has no command" >&2; exit 4; }
kill -s "$2" -- "-$child" 2>/dev/null || kill -s "$2" "$child"
"""

SCRIPTS = {"start": START, "supervise": SUPERVISOR, "follow": FOLLOW, "status": STATUS}


def validate_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise InvalidName(f"{run_id!r} is not a crvs-migrate run id.")
    return run_id


def new_run_id(kind: str, when: datetime | None = None) -> str:
    """``20240502t101500z-backup-3fa2c1``: sortable, says what it is, unique."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dt%H%M%Sz")
    kind = re.sub(r"[^a-z0-9-]", "-", kind.lower()).strip("-")[:24] or "run"
    return f"{stamp}-{kind}-{secrets.token_hex(3)}"


_FILE_NAME = regex(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")
# One argument may be at most 128 KiB on Linux (MAX_ARG_STRLEN).
MAX_FILE = 96 * 1024


@dataclass(frozen=True)
class RunFile:
    """A small file put into the run directory before the command starts."""

    name: str
    body: str


def start_argv(
    run_id: str, argv: Sequence[str], stdin_text: str = "", file: RunFile | None = None
) -> list[str]:
    validate_run_id(run_id)
    if not argv:
        raise InvalidName("A run needs a command.")
    if len(stdin_text) > MAX_STDIN or "\x00" in stdin_text:
        raise InvalidName("A run's input must be short text.")
    name, body = ("", "") if file is None else (file.name, file.body)
    if file is not None and (
        not _FILE_NAME.match(name) or len(body.encode()) > MAX_FILE or "\x00" in body
    ):
        raise InvalidName("A run's file must be a short text file with a plain name.")
    return ["sh", "-c", START, "crvs-start", SUPERVISOR, run_id, stdin_text, name, body, *argv]


def follow_argv(run_id: str, offset: int) -> list[str]:
    if offset < 0:
        raise InvalidName("A log offset cannot be negative.")
    return ["sh", "-c", FOLLOW, "crvs-follow", validate_run_id(run_id), str(int(offset))]


def status_argv(run_id: str) -> list[str]:
    return ["sh", "-c", STATUS, "crvs-status", validate_run_id(run_id)]


def cancel_argv(run_id: str, signal: str = "TERM") -> list[str]:
    if signal not in ("TERM", "KILL", "INT"):
        raise InvalidName("Only TERM, INT or KILL.")
    return ["sh", "-c", CANCEL, "crvs-cancel", validate_run_id(run_id), signal]


# -- what the session keeps --------------------------------------------------------


class RunState:
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"


@dataclass
class RemoteRunRecord:
    """One detached command on a server, as the session keeps it (a plain record)."""

    run_id: str
    node: str
    host: str
    argv: list[str]
    started_at: str
    port: int = 0
    user: str = ""
    key_file: str = ""
    state: str = RunState.RUNNING
    finished_at: str = ""
    exit_code: int | None = None
    # The local copy of the log (beside the session) and how many bytes it holds.
    log_file: str = ""
    log_bytes: int = 0
    # The journal's command entry, once the run ended.
    journal_id: str = ""
    note: str = ""
    # Set by the session section keeping it (tasks.session.seal).
    seal: str = ""

    @classmethod
    def on(
        cls, node: Any, kind: str, argv: Sequence[str], logs_dir: Path, phase: str
    ) -> RemoteRunRecord:
        """A new run of ``argv`` on ``node`` (``tasks.servers.inventory.Node``), its local log
        in ``logs_dir``."""
        from tasks.local.process import log_path_for

        run_id = new_run_id(kind)
        return cls(
            run_id,
            node.name,
            node.host,
            list(argv),
            now_iso(),
            port=node.port or 0,
            user=node.user or "",
            key_file=node.key_file or "",
            log_file=str(log_path_for(logs_dir, phase, run_id)),
        )

    @property
    def running(self) -> bool:
        return self.state == RunState.RUNNING

    @property
    def ok(self) -> bool:
        return self.state == RunState.FINISHED and self.exit_code == 0

    @property
    def where(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}" + (f":{self.port}" if self.port and self.port != 22 else "")

    def duration_s(self) -> float | None:
        from tasks.session.seal import parse_aware

        start, end = parse_aware(self.started_at), parse_aware(self.finished_at)
        if start is None or end is None:
            return None
        return max(0.0, (end - start).total_seconds())

    def elapsed_s(self) -> float:
        from tasks.session.seal import parse_aware

        start = parse_aware(self.started_at)
        return 0.0 if start is None else max(0.0, (datetime.now(UTC) - start).total_seconds())


@dataclass(frozen=True)
class RemoteStatus:
    found: bool
    alive: bool = False
    exit_code: int | None = None
    size: int = 0
    started: str = ""
    finished: str = ""

    @property
    def ended(self) -> bool:
        return self.found and (self.exit_code is not None or not self.alive)


def parse_status(text: str) -> RemoteStatus:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    if values.get("found") != "yes":
        return RemoteStatus(found=False)
    code = values.get("exit", "")
    size = values.get("size", "0")
    return RemoteStatus(
        found=True,
        alive=values.get("alive") == "yes",
        exit_code=int(code) if code.lstrip("-").isdigit() else None,
        size=int(size) if size.isdigit() else 0,
        started=values.get("started", ""),
        finished=values.get("finished", ""),
    )


# -- running and following ----------------------------------------------------------

Connect = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


class RunFailed(CrvsError):
    title = "Command on the server"


def ssh_connect(record: RemoteRunRecord, options: Any) -> Connect:
    """Connections to the run's server, as ``tasks.servers.ssh.open_node`` makes them."""
    from tasks.servers.ssh import SshTarget, open_node

    target = SshTarget(
        record.host, record.port or None, record.user or None, record.key_file or None
    )

    def connect() -> contextlib.AbstractAsyncContextManager[Any]:
        return open_node(target, options)

    return connect


async def start_run(
    conn: Any, record: RemoteRunRecord, stdin_text: str = "", file: RunFile | None = None
) -> int:
    """Start ``record.argv`` detached on the server; the supervisor's pid."""
    from tasks.servers.ssh import run
    from tasks.text import strip_control

    result = await run(conn, start_argv(record.run_id, record.argv, stdin_text, file), timeout=30)
    if result.exit_status != 0:
        said = (result.stderr or result.stdout).strip().splitlines()
        why = strip_control(said[-1]) if said else f"exit {result.exit_status}"
        raise RunFailed(f"{record.node}: the command could not be started ({why[:300]}).")
    pid = result.stdout.strip().splitlines()[-1:] if result.stdout.strip() else []
    return int(pid[0]) if pid and pid[0].isdigit() else 0


async def remote_status(conn: Any, run_id: str) -> RemoteStatus:
    from tasks.servers.ssh import run

    result = await run(conn, status_argv(run_id), timeout=30)
    if result.exit_status != 0:
        raise RunFailed(f"the run's status could not be read (exit {result.exit_status}).")
    return parse_status(result.stdout)


async def cancel_run(conn: Any, run_id: str, signal: str = "TERM") -> bool:
    from tasks.servers.ssh import run

    result = await run(conn, cancel_argv(run_id, signal), timeout=30)
    return result.exit_status == 0


async def _stream(conn: Any, run_id: str, offset: int, sink: Callable[[bytes], None]) -> bool:
    """Follow the log from ``offset``; True if the follower ended by itself (not cut)."""
    import asyncssh

    process = await conn.create_process(shlex.join(follow_argv(run_id, offset)), encoding=None)
    try:
        process.stdin.write_eof()
        while True:
            data = await process.stdout.read(65536)
            if not data:
                break
            sink(data)
        await process.wait_closed()
    except (asyncssh.Error, OSError, EOFError) as exc:
        from tasks.servers.ssh import FailureKind, SshFailure

        raise SshFailure(
            FailureKind.LOST, f"the connection was lost while following: {exc}"
        ) from None
    return process.exit_status is not None


RECONNECTABLE = ("lost", "timeout", "refused", "unreachable", "protocol")


@dataclass
class FollowEvents:
    """What a follower reports as it goes (all optional)."""

    on_lines: Callable[[list[str]], None] | None = None
    # The connection dropped: (attempt, seconds until the next try, why).
    on_reconnecting: Callable[[int, float, str], None] | None = None
    on_reattached: Callable[[], None] | None = None


class LocalLog:
    """The run's log on this side: appended as bytes arrive, 0600; its size is the offset."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(fd)

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)


async def follow_run(
    connect: Connect,
    record: RemoteRunRecord,
    *,
    events: FollowEvents | None = None,
    stdin_text: str = "",
    file: RunFile | None = None,
    start: bool = False,
    reconnect_for_s: float = 600.0,
    backoff_max_s: float = 10.0,
) -> RemoteRunRecord:
    """Start the run (``start=True``) or reattach to it, follow its log to the end.

    The local log (``record.log_file``) gets every byte once, in order, across dropped
    connections and restarts. Returns the record, finished or interrupted. Raises
    ``SshFailure`` when the server stayed unreachable for ``reconnect_for_s`` (the run
    goes on there: reattach later) and ``RunFailed`` when it could not start.
    """
    from tasks.local.process import LineSplitter
    from tasks.servers.ssh import SshFailure

    events = events or FollowEvents()
    log = LocalLog(Path(record.log_file))
    splitter = LineSplitter()

    def sink(data: bytes) -> None:
        # The record is not touched while it runs (it is sealed in the session as started).
        log.append(data)
        lines = splitter.feed(data)
        if lines and events.on_lines is not None:
            events.on_lines(lines)

    attempt = 0
    lost_since: float | None = None
    started = not start
    while True:
        try:
            async with connect() as conn:
                if attempt and events.on_reattached is not None:
                    events.on_reattached()
                attempt = 0
                lost_since = None
                if not started:
                    await start_run(conn, record, stdin_text, file)
                    started = True
                status = await remote_status(conn, record.run_id)
                if not status.found:
                    return _interrupt(record, "the run is not on the server (it never started)")
                while True:
                    if log.size > status.size and status.ended:
                        # The local copy cannot be longer than the server's.
                        break
                    if log.size < status.size or not status.ended:
                        await _stream(conn, record.run_id, log.size, sink)
                    status = await remote_status(conn, record.run_id)
                    if status.ended and log.size >= status.size:
                        break
                    if status.ended:
                        continue
                    # The follower returned while the supervisor lives: look again shortly.
                    await asyncio.sleep(0.5)
        except SshFailure as exc:
            if exc.kind.value not in RECONNECTABLE:
                raise
            now = time.monotonic()
            lost_since = lost_since if lost_since is not None else now
            if now - lost_since > reconnect_for_s:
                raise
            attempt += 1
            wait = min(backoff_max_s, 0.5 * 2 ** min(attempt, 6))
            if events.on_reconnecting is not None:
                events.on_reconnecting(attempt, wait, exc.message)
            await asyncio.sleep(wait)
            continue
        break
    rest = splitter.flush()
    if rest and events.on_lines is not None:
        events.on_lines(rest)
    record.log_bytes = log.size
    record.finished_at = status.finished if _aware(status.finished) else now_iso()
    if status.exit_code is None:
        return _interrupt(record, "the supervisor on the server stopped without an exit status")
    record.state = RunState.FINISHED
    record.exit_code = status.exit_code
    return record


def _aware(value: str) -> bool:
    from tasks.session.seal import parse_aware

    return parse_aware(value) is not None


def _interrupt(record: RemoteRunRecord, why: str) -> RemoteRunRecord:
    record.state = RunState.INTERRUPTED
    record.note = why
    record.finished_at = record.finished_at or now_iso()
    return record
