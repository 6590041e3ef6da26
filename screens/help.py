"""Help: key bindings and the migration notes, bundled for offline use."""

from __future__ import annotations

from importlib import resources

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

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


def bundled_doc(name: str) -> str:
    return resources.files("assets").joinpath("docs", name).read_text(encoding="utf-8")


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static("crvs-migrate help · Esc to close", id="help-title")
            yield Markdown(KEYS)
            yield Markdown(bundled_doc("migration-notes-v1.3.md"))
