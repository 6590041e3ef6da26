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
from collections.abc import Sequence
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
