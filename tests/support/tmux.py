"""Drive the real CLI in a real terminal: tmux on a private socket."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Runs the program and writes its exit code to a file: the code is known as
# soon as the program ends, whatever tmux makes of the pane afterwards.
_WAITER = (
    "import subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(code))\n"
)


class TmuxSession:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        width: int = 80,
        height: int = 24,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed (./dev.sh test installs it)")
        self.socket = f"crvs-test-{uuid.uuid4().hex[:8]}"
        self.exit_file = Path(tempfile.mkdtemp(prefix="crvs-tmux-")) / "exit-code"
        self.name = "app"
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        base_env.update(env or {})
        self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
            *(a for k, v in (env or {}).items() for a in ("-e", f"{k}={v}")),
            *(["-c", str(cwd)] if cwd else []),
            "--", sys.executable, "-c", _WAITER, str(self.exit_file), *argv,
            env=base_env,
        )  # fmt: skip
        self._tmux("set-option", "-t", self.name, "remain-on-exit", "on")
        self.raw: Path | None = None

    def record(self, path: Path) -> None:
        """Copy every byte the program writes to ``path`` (to check escape sequences)."""
        self.raw = path
        self._tmux("pipe-pane", "-t", self.name, "-o", f"cat >> {shlex.quote(str(path))}")

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        return result.stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        # -J joins wrapped lines; -S - includes what scrolled off the top.
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.name)

    def pane(self, fmt: str) -> str:
        return self._tmux("display-message", "-p", "-t", self.name, fmt).strip()

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        """Poll the screen until ``text`` shows (bounded)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear within {timeout}s; screen was:\n{screen}")

    def settle(self, timeout: float = 10.0, quiet: float = 0.15) -> None:
        """Until the screen (text and colours) stays the same for ``quiet`` seconds: the
        app has shown what the last key did, as the operator waits to see it."""
        deadline = time.monotonic() + timeout
        last = self._tmux("capture-pane", "-p", "-e", "-t", self.name)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self._tmux("capture-pane", "-p", "-e", "-t", self.name)
            if now == last:
                return
            last = now

    def press(self, *keys: str) -> None:
        """Each key in turn, waiting for the screen to settle after each (no typeahead)."""
        for key in keys:
            self.send(key)
            self.settle()

    def visible(self) -> list[str]:
        """The lines the terminal shows now (no scrollback)."""
        return self._tmux("capture-pane", "-p", "-t", self.name).splitlines()

    def type(self, text: str) -> None:
        """Type ``text`` as it is (no key names)."""
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def mouse(self, button: int, x: int, y: int, *, release: bool = True) -> None:
        """A mouse event as the terminal reports it (SGR, 0-based cell ``x``, ``y``)."""
        self.type(f"\x1b[<{button};{x + 1};{y + 1}M")
        if release:
            self.type(f"\x1b[<{button};{x + 1};{y + 1}m")

    def seek(self, text: str, *, timeout: float = 20.0, scroll_at: tuple[int, int] = (50, 12),
             skip_columns: int = 0, button: bool = False) -> tuple[int, int]:  # fmt: skip
        """Where ``text`` shows (column, row), right of ``skip_columns`` (the sidebar): the
        mouse wheel at ``scroll_at`` turns until it does, down first, then up, while the
        app may still be drawing it (looked for once the screen has settled). ``button``:
        only where a button draws it (its top edge, ▔, right above the label)."""
        self.settle()
        deadline = time.monotonic() + timeout
        wheel, before = 65, None
        while True:
            lines = self.visible()
            for y, line in enumerate(lines):
                x = line.find(text, skip_columns)
                above = lines[y - 1] if y > 0 else ""
                if x >= 0 and (not button or above[x : x + 1] == "▔"):
                    return x, y
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} is not on the screen:\n" + "\n".join(lines))
            if lines == before:  # the wheel moved nothing: the end, turn the other way
                wheel = 64 if wheel == 65 else 65
            before = lines
            for _ in range(3):
                self.mouse(wheel, *scroll_at, release=False)
            time.sleep(0.1)

    def click(self, label: str, *, timeout: float = 20.0, skip_columns: int = 0,
              at: int | None = None, button: bool = False) -> tuple[int, int]:  # fmt: skip
        """Click ``label`` where it shows (scrolled into view; ``button``: on a button), in
        its middle or ``at`` columns into it. Returns the cell clicked."""
        x, y = self.seek(label, timeout=timeout, skip_columns=skip_columns, button=button)
        cell = (x + (len(label) // 2 if at is None else at), y)
        self.mouse(0, *cell)
        return cell

    def wait_exit(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_file.exists() and self.exit_file.read_text():
                return int(self.exit_file.read_text())
            time.sleep(0.1)
        tty = self.pane("#{pane_tty}").removeprefix("/dev/")
        ps = subprocess.run(
            ["ps", "-o", "pid,ppid,stat,etime,cmd", "-t", tty], capture_output=True, text=True
        )
        raise AssertionError(
            f"the program did not exit within {timeout}s:\n{self.screen()}\n{ps.stdout}"
        )

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


class TmuxControl:
    """A tmux terminal watched through one control-mode client (``tmux -C``), for timing.

    What the program in the pane writes reaches tmux, which updates the pane's grid and
    notifies the control client (``%output``) in the same pass; the client's commands
    (``send-keys``, ``capture-pane``) travel over the same pipe, with no process started
    per command. So ``wait_screen`` looks at the grid only when new output has arrived (no
    polling loop competing with the program for the CPU), and a match is timed by the
    arrival of the last output that tmux had processed before the matching capture.
    ``Seen.resolution`` bounds how much earlier the match can have happened: it is the
    span from the first output after the previous, non-matching capture to that time.
    """

    def __init__(self, *, width: int = 120, height: int = 40) -> None:
        import threading
        from collections import deque

        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed (./dev.sh test installs it)")
        self.width, self.height = width, height
        self.socket = f"crvs-bench-{uuid.uuid4().hex[:8]}"
        self._dir = Path(tempfile.mkdtemp(prefix="crvs-tmuxctl-"))
        conf = self._dir / "tmux.conf"
        # No status line, so the pane is the whole width x height.
        conf.write_text(
            f"set -g default-size {width}x{height}\n"
            "set -g status off\n"
            "set -g remain-on-exit on\n"
            "set -g escape-time 0\n"
            "set -g history-limit 0\n"
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TMUX", "TEXTUAL", "COLORTERM", "NO_COLOR", "SSH_"))
        }
        self._env = env
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(conf), "new-session", "-d", "-s", "app",
             "-x", str(width), "-y", str(height), "--", "sleep", "86400"],
            check=True, env=env, stdin=subprocess.DEVNULL, capture_output=True,
        )  # fmt: skip
        # (window-size in the config file crashes tmux 3.3a at start: set it afterwards)
        subprocess.run(
            ["tmux", "-L", self.socket, "set-option", "-g", "window-size", "manual"],
            check=True, env=env, stdin=subprocess.DEVNULL, capture_output=True,
        )  # fmt: skip
        self._client = subprocess.Popen(
            ["tmux", "-L", self.socket, "-C", "attach-session", "-t", "app"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._lock = threading.Condition()
        self._output_times: list[float] = []  # arrival of every %output, in order
        self._replies: deque[tuple[bool, list[str], int]] = deque()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.command("display-message -p ok")  # the attach has been answered

    # -- the control-mode protocol --------------------------------------------

    def _read(self) -> None:
        assert self._client.stdout is not None
        block: list[str] | None = None
        seq_at_begin = 0
        for raw in self._client.stdout:
            now = time.monotonic()
            if raw.startswith(b"%output "):
                with self._lock:
                    self._output_times.append(now)
                    self._lock.notify_all()
                continue
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if block is None:
                # flags 1: the answer to a command this client sent (0: tmux's own)
                if line.startswith("%begin ") and line.endswith(" 1"):
                    block = []
                    with self._lock:
                        seq_at_begin = len(self._output_times)
                continue
            if line.startswith(("%end ", "%error ")) and line.endswith(" 1"):
                with self._lock:
                    self._replies.append((line.startswith("%end"), block, seq_at_begin))
                    self._lock.notify_all()
                block = None
            else:
                block.append(line)
        with self._lock:
            self._replies.append((False, ["control client ended"], len(self._output_times)))
            self._lock.notify_all()

    def _send(self, cmd: str) -> float:
        assert self._client.stdin is not None
        sent = time.monotonic()
        self._client.stdin.write(cmd.encode() + b"\n")
        self._client.stdin.flush()
        return sent

    def command(self, cmd: str, timeout: float = 10.0) -> tuple[list[str], int]:
        """Run one tmux command; its output lines and how many outputs tmux had processed."""
        with self._lock:
            self._send(cmd)
            if not self._lock.wait_for(lambda: self._replies, timeout):
                raise AssertionError(f"tmux did not answer {cmd!r} within {timeout}s")
            ok, lines, seq = self._replies.popleft()
        if not ok:
            raise RuntimeError(f"tmux {cmd!r}: {' '.join(lines)}")
        return lines, seq

    @staticmethod
    def _quote(arg: str) -> str:
        if "'" in arg or "\n" in arg:
            raise ValueError(f"cannot pass {arg!r} to tmux")
        return f"'{arg}'"

    # -- what a benchmark uses -------------------------------------------------

    def start(
        self, argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> float:
        """Start ``argv`` in the pane (killing what ran there); returns the time it was asked."""
        self.command("clear-history -t app")
        parts = ["respawn-pane", "-k", "-t", "app"]
        for k, v in (env or {}).items():
            parts += ["-e", self._quote(f"{k}={v}")]
        if cwd is not None:
            parts += ["-c", self._quote(str(cwd))]
        parts += ["--", *(self._quote(a) for a in argv)]
        with self._lock:
            started = self._send(" ".join(parts))
            if not self._lock.wait_for(lambda: self._replies, 10):
                raise AssertionError("tmux did not answer respawn-pane")
            ok, lines, _seq = self._replies.popleft()
        if not ok:
            raise RuntimeError(f"respawn-pane: {' '.join(lines)}")
        return started

    def send_keys(self, *keys: str, literal: bool = False) -> float:
        """Type ``keys`` into the pane (tmux key names, or text with ``literal``); when sent."""
        flag = "-l " if literal else ""
        with self._lock:
            sent = self._send(f"send-keys -t app {flag}" + " ".join(self._quote(k) for k in keys))
            if not self._lock.wait_for(lambda: self._replies, 10):
                raise AssertionError("tmux did not answer send-keys")
            ok, lines, _seq = self._replies.popleft()
        if not ok:
            raise RuntimeError(f"send-keys: {' '.join(lines)}")
        return sent

    def screen(self) -> str:
        return "\n".join(self.command("capture-pane -p -J -t app")[0])

    def pane(self, fmt: str) -> str:
        return self.command(f"display-message -p -t app {self._quote(fmt)}")[0][0]

    def wait_screen(
        self, shown: Callable[[str], bool], since: float, timeout: float = 30.0
    ) -> Seen:
        """Wait until ``shown(screen text)`` after ``since``; see the class docstring."""
        deadline = time.monotonic() + timeout
        previous_seq: int | None = None
        screen = ""
        captures = 0
        while True:
            lines, seq = self.command("capture-pane -p -J -t app")
            captures += 1
            screen = "\n".join(lines)
            if shown(screen):
                with self._lock:
                    times = self._output_times[:seq]
                if not times or times[-1] < since:
                    raise AssertionError(f"already shown before the action:\n{screen}")
                at = times[-1]
                if previous_seq is None:  # the first look: the first output since the action
                    previous_seq = next(i for i, t in enumerate(times) if t >= since)
                first = times[previous_seq]
                return Seen(at=at, resolution=at - first, screen=screen, captures=captures)
            previous_seq = seq
            with self._lock:
                left = deadline - time.monotonic()
                if left <= 0 or not self._lock.wait_for(
                    lambda seq=seq: len(self._output_times) > seq, left
                ):
                    raise AssertionError(f"not shown within {timeout}s; the screen was:\n{screen}")

    def output_count(self) -> int:
        with self._lock:
            return len(self._output_times)

    def wait_exit(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead, _, status = self.pane("#{pane_dead} #{pane_dead_status}").partition(" ")
            if dead == "1":
                return int(status or 0)
            time.sleep(0.02)
        raise AssertionError(f"the program did not exit within {timeout}s:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)
        try:
            self._client.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._client.kill()
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass(frozen=True)
class Seen:
    """When a screen was first seen: ``at`` (time.monotonic), at most ``resolution`` late."""

    at: float
    resolution: float
    screen: str
    captures: int
