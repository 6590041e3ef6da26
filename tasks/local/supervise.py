"""The supervisor of a detached step: a small program that outlives the app.

A long step (yarn, deploy.sh, a local start) must go on when the operator's SSH session
drops or the app is killed. So the app does not run the command itself: it starts this
supervisor in a session of its own (``setsid``: no terminal, no SIGHUP from one), with
stdin from /dev/null, and the supervisor runs the command, in a process group of its own:

- it reads the command's output in chunks, splits and sanitises the lines
  (``tasks.local.lines``) and appends them to the step's log as they arrive, so the log
  holds every line the screen shows, and the app follows the log;
- when the command ends it writes the exit status beside the log (``<log>.status.json``,
  atomically), then a last line to the log;
- SIGTERM (the app's cancel) ends the command's whole process group: SIGTERM, then
  SIGKILL after the grace period; whatever the command left in its group goes too.

Its code is constant and its arguments positional, passed as an argv list (never a shell
string)::

    python -I supervise.py DIR_FD LOG_FD NAME CWD GRACE_S ARGV...

``DIR_FD`` is the logs directory and ``LOG_FD`` the log, both opened by the app without
following links (0600) and inherited; the supervisor opens nothing by path. ``NAME`` is
the log's stem: the run and status files are ``NAME.run.json`` and ``NAME.status.json``
in that directory. Before anything else it prints one JSON line on stdout (the command's
pid, or why it could not start) and closes stdout.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# Run with `python -I` (no current directory or PYTHONPATH on sys.path, so nothing in the
# step's directory can be imported): our own package comes from where this file is.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tasks.local.lines import LineSplitter  # noqa: E402
from tasks.masking import mask_argv  # noqa: E402

CHUNK_SIZE = 256 * 1024
FORMAT = 1
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$")
# After the command ended: how long output still held open by a process outside its
# group (a daemon it started) is read before the log is closed.
DRAIN_S = 2.0


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_file(dir_fd: int, name: str, data: dict) -> None:
    """``name`` in the logs directory, replaced atomically (temp, fsync, rename), 0600."""
    tmp = f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
    try:
        write_all(fd, (json.dumps(data, sort_keys=True) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Supervisor:
    def __init__(
        self, dir_fd: int, log_fd: int, name: str, cwd: str, grace: float, argv: list[str]
    ):
        self.dir_fd, self.log_fd, self.name = dir_fd, log_fd, name
        self.cwd, self.grace, self.argv = cwd, grace, argv
        self.child: subprocess.Popen[bytes] | None = None
        self.cancelled = False
        self.log_error: str | None = None
        self.lines = 0

    # -- signals ------------------------------------------------------------------------

    def on_cancel(self, _signum: int, _frame: object) -> None:
        self.cancelled = True
        if self.child is not None and not self.exited():
            signal_group(self.child.pid, signal.SIGTERM)
            signal.setitimer(signal.ITIMER_REAL, self.grace)

    def exited(self) -> bool:
        """Whether the command ended, without reaping it (its pid keeps naming its group)."""
        assert self.child is not None
        try:
            info = os.waitid(os.P_PID, self.child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def on_alarm(self, _signum: int, _frame: object) -> None:
        if self.child is not None:
            signal_group(self.child.pid, signal.SIGKILL)

    # -- the log ------------------------------------------------------------------------

    def log(self, lines: list[str]) -> None:
        if not lines:
            return
        self.lines += len(lines)
        if self.log_error is not None:
            return  # keep reading (the command must not block on a full pipe)
        try:
            write_all(self.log_fd, ("\n".join(lines) + "\n").encode("utf-8", "replace"))
        except OSError as exc:
            self.log_error = exc.strerror or str(exc)

    # -- the run -----------------------------------------------------------------------

    def announce(self, data: dict) -> None:
        try:
            sys.stdout.write(json.dumps(data) + "\n")
            sys.stdout.flush()
        except OSError:
            pass  # the app is gone already: the files say everything
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)

    def run(self) -> int:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, self.on_cancel)
        signal.signal(signal.SIGALRM, self.on_alarm)
        output_start = os.fstat(self.log_fd).st_size
        started_at, started_epoch, t0 = now_iso(), time.time(), time.monotonic()
        try:
            self.child = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            problem = "not_found" if isinstance(exc, FileNotFoundError) else "cannot_start"
            message = exc.strerror or str(exc)
            self.log([f"# could not start: {message}"])
            self.write_status(None, False, started_epoch, t0, problem=problem)
            self.announce({"error": problem, "message": message})
            return 0
        write_file(
            self.dir_fd,
            f"{self.name}.run.json",
            {
                "format": FORMAT,
                "supervisor_pid": os.getpid(),
                "child_pid": self.child.pid,
                "started_at": started_at,
                "started_epoch": started_epoch,
                "output_start": output_start,
                "argv": mask_argv(self.argv),
                "cwd": self.cwd,
            },
        )
        self.announce({"child_pid": self.child.pid, "supervisor_pid": os.getpid()})
        if self.cancelled:  # asked before the command existed
            self.on_cancel(signal.SIGTERM, None)
        code = self.follow()
        self.write_status(code, self.cancelled, started_epoch, t0)
        outcome = "cancelled" if self.cancelled else f"exit code {code}"
        footer = f"# finished {now_iso()}: {outcome} after {time.monotonic() - t0:.1f} s\n"
        try:
            write_all(self.log_fd, footer.encode("utf-8"))
        except OSError:
            pass
        return 0

    def follow(self) -> int:
        child = self.child
        assert child is not None and child.stdout is not None
        fd = child.stdout.fileno()
        splitter = LineSplitter()
        ended_at: float | None = None
        while True:
            if ended_at is None and self.exited():
                # The command ended: what it left in its group goes (its pid still names
                # the group: it is not reaped yet); what it left outside, holding the pipe
                # open, gets a moment to finish writing.
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal_group(child.pid, signal.SIGKILL)
                ended_at = time.monotonic()
            if ended_at is None:
                timeout = 0.5
            else:
                timeout = DRAIN_S - (time.monotonic() - ended_at)
                if timeout <= 0:
                    break
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                continue
            data = os.read(fd, CHUNK_SIZE)
            if not data:
                if ended_at is None:
                    # Output closed, the command still runs: wait for it, then end its group.
                    while not self.exited():
                        time.sleep(0.1)
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal_group(child.pid, signal.SIGKILL)
                break
            self.log(splitter.feed(data))
        self.log(splitter.flush())
        return child.wait()

    def write_status(
        self,
        code: int | None,
        cancelled: bool,
        started_epoch: float,
        t0: float,
        problem: str | None = None,
    ) -> None:
        write_file(
            self.dir_fd,
            f"{self.name}.status.json",
            {
                "format": FORMAT,
                "exit_code": code,
                "cancelled": cancelled,
                "started_epoch": started_epoch,
                "finished_at": now_iso(),
                "finished_epoch": time.time(),
                "duration_s": round(time.monotonic() - t0, 3),
                "lines": self.lines,
                "output_end": os.fstat(self.log_fd).st_size,
                "log_error": self.log_error,
                "error": problem,
            },
        )


def main(args: list[str]) -> int:
    if len(args) < 6:
        print("usage: supervise.py DIR_FD LOG_FD NAME CWD GRACE_S ARGV...", file=sys.stderr)
        return 2
    dir_fd, log_fd, name, cwd, grace, *argv = args
    if not NAME.match(name) or name.startswith("."):
        print(f"supervise.py: bad run name {name!r}", file=sys.stderr)
        return 2
    return Supervisor(int(dir_fd), int(log_fd), name, cwd, float(grace), argv).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
