"""Help: key bindings and the migration notes, bundled for offline use.

The notes are read-only text: one Static holding Rich's Markdown renders them in a few
milliseconds, where Textual's Markdown widget composes a widget per block (about a second
here). The app builds this screen on first use and keeps it (``App.install_screen``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = """\
## Keys

| Key | What it does |
|---|---|
| `↑` `↓` / `j` `k`, `Enter` | move in the phase list, open a phase |
| `1` … `9` | go to phase 1 … 9 |
| `h` | Cluster health |
| `R` | Report |
| `Tab` / `Shift+Tab` | move between fields and panes |
| `Ctrl+P` | command palette: go to a phase, cluster health, export report, quit |
| `?` | this help |
| `Ctrl+Q` | quit (the session is saved; start again to resume) |
"""


@cache
def bundled_doc(name: str) -> str:
    return resources.files("assets").joinpath("docs", name).read_text(encoding="utf-8")


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]

    def compose(self) -> ComposeResult:
        # markdown-it comes with it: imported when help is first opened, not at start-up.
        from rich.markdown import Markdown

        with VerticalScroll(id="help-box"):
            yield Static("crvs-migrate help · Esc to close", id="help-title")
            yield Static(Markdown(KEYS), id="help-keys")
            yield Static(Markdown(bundled_doc("migration-notes-v1.3.md")), id="help-notes")
