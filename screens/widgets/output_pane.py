"""The live output pane: the exact command, its streamed output, elapsed time, exit code.

Output goes into a Textual ``Log`` (plain strings, never markup) in batches: lines
arriving between two frames are written with one ``write_lines`` call, and only
the last ``max_lines`` of them are kept (older lines would be pruned anyway; the
full output is in the step's log file).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Log, Static

from tasks.text import sanitize, strip_control
from tasks.units import fmt_elapsed

DEFAULT_MAX_LINES = 5000
FLUSH_INTERVAL_S = 1 / 30


def _duration(seconds: float) -> str:
    # Tenths of a second for short steps; the common form beyond a minute.
    return f"{seconds:.1f} s" if seconds < 60 else fmt_elapsed(seconds)


class OutputPane(Vertical):
    """Command line on top, the ``Log`` in the middle, status (elapsed / exit) below."""

    DEFAULT_CSS = """
    OutputPane {
        height: 1fr;
        min-height: 6;
        border: round $primary-darken-2;
        border-title-color: $text-muted;
    }
    OutputPane .output-command {
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    OutputPane .output-log {
        height: 1fr;
    }
    OutputPane .output-status {
        /* a failure's cause and the log's path wrap below the exit code */
        height: auto;
        max-height: 8;
        padding: 0 1;
    }
    """

    def __init__(self, *, max_lines: int = DEFAULT_MAX_LINES, id: str | None = None) -> None:
        super().__init__(id=id, classes="output-pane")
        self.max_lines = max_lines
        self._pending: list[str] = []
        self._flush_timer: Timer | None = None
        self._tick: Timer | None = None
        self._started: float | None = None
        self._note = ""
        self._has_run = False
        self.lines_received = 0

    def compose(self) -> ComposeResult:
        yield Static("", classes="output-command")
        yield Log(max_lines=self.max_lines, highlight=False, classes="output-log")
        yield Static("", classes="output-status")

    @property
    def log_widget(self) -> Log:
        return self.query_one(".output-log", Log)

    # -- what will run --------------------------------------------------------

    def show_command(self, argv: Sequence[str], cwd: Path | str, note: str = "") -> None:
        """Show the exact command and directory (before it runs, and while it runs)."""
        import shlex

        text = Text()
        text.append("$ ", style="bold")
        # argv and paths may hold anything: Text, never markup.
        text.append(strip_control(shlex.join(list(argv))), style="bold")
        text.append("\n  in ", style="dim")
        text.append(strip_control(str(cwd)), style="dim")
        if note:
            text.append(f"\n  {note}", style="italic")
        self.query_one(".output-command", Static).update(text)

    def set_status(self, message: str, style: str = "", detail: str = "") -> None:
        """The line under the output; ``detail`` (untrusted text allowed) wraps below it."""
        text = Text(message, style=style)
        if detail:
            text.append("\n" + sanitize(detail))
        self.query_one(".output-status", Static).update(text)

    # -- running --------------------------------------------------------------

    def start(
        self, argv: Sequence[str], cwd: Path | str, *, elapsed: float = 0.0, note: str = ""
    ) -> None:
        """A run begins (``elapsed``: it began that long ago, e.g. reattached after a restart;
        ``note`` is shown under the command)."""
        self.clear()
        self.show_command(argv, cwd, note)
        self._has_run = True
        self._started = time.monotonic() - max(0.0, elapsed)
        self._note = ""
        self._show_elapsed()
        if self._tick is not None:
            self._tick.stop()
        self._tick = self.set_interval(0.5, self._show_elapsed)
        # Where the screen scrolls (a phase's buttons above the pane at 80x24), the output
        # the operator just started comes into view with the button that started it.
        self.call_after_refresh(self.scroll_visible, animate=False)

    def set_note(self, note: str) -> None:
        """A line shown beside the elapsed time while it runs (e.g. "reconnecting")."""
        self._note = note
        self._show_elapsed()

    def _show_elapsed(self) -> None:
        if self._started is not None:
            note = f" · {self._note}" if self._note else ""
            self.set_status(
                f"◐ running · {_duration(time.monotonic() - self._started)}{note}", "bold"
            )

    def write_lines(self, lines: Sequence[str]) -> None:
        """Queue lines (already sanitised by tasks.local.process); written on the next frame."""
        self.lines_received += len(lines)
        self._pending.extend(lines)
        if len(self._pending) > self.max_lines:
            del self._pending[: len(self._pending) - self.max_lines]
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL_S, self.flush)

    def flush(self) -> None:
        self._flush_timer = None
        if self._pending:
            pending, self._pending = self._pending, []
            self.log_widget.write_lines(pending)

    def finish(
        self,
        exit_code: int | None,
        duration_s: float,
        *,
        cancelled: bool = False,
        interrupted: bool = False,
        detail: str = "",
    ) -> None:
        """How the run ended; ``detail`` (the log's path, a failure's cause) below it."""
        self.flush()
        if self._tick is not None:
            self._tick.stop()
            self._tick = None
        self._started = None
        self._note = ""
        if interrupted:
            message = f"! interrupted after {_duration(duration_s)}: how it ended is not known"
            style = "bold yellow"
        elif cancelled:
            message, style = f"✗ cancelled after {_duration(duration_s)}", "bold yellow"
        elif exit_code == 0:
            message, style = f"✓ exit code 0 · {_duration(duration_s)}", "bold green"
        else:
            message, style = f"✗ exit code {exit_code} · {_duration(duration_s)}", "bold red"
        self.set_status(message, style, detail)
        # The status may have grown (a cause, the log's path): keep the last lines in view.
        self.call_after_refresh(self.log_widget.scroll_end, animate=False)

    def clear(self) -> None:
        self._has_run = False
        self._pending.clear()
        self.lines_received = 0
        self.log_widget.clear()
        self.set_status("")

    @property
    def has_output(self) -> bool:
        """True while the pane shows a run (running or finished), not a preview."""
        return self._has_run

    @property
    def lines(self) -> list[str]:
        """What the pane shows (after pending lines are written)."""
        self.flush()
        return list(self.log_widget.lines)
