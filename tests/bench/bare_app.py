"""The baseline of ``bench_terminal.py``: a bare Textual app asked to do what crvs-migrate does.

It imports Textual only (no project code) and has no stylesheet of its own:

  python bare_app.py word TITLE... -- HELPFILE   one word on screen ("Ready"); key n (1..9)
                                                 shows a plain screen of one line, TITLE[n-1]:
                                                 made and pushed on its first visit, shown
                                                 again on the next (installed); ``?`` pushes a
                                                 help-like modal with the same text volume as
                                                 crvs-migrate's help (the keys and HELPFILE, as
                                                 one plain Static), Esc closes
  python bare_app.py modes TITLE... -- HELPFILE  the same, but key n switches to mode n, as
                                                 crvs-migrate does (Textual holds screen
                                                 updates for 50 ms on every mode switch)
  python bare_app.py input                       one focused Input, nothing else
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static

HELP_TITLE = "crvs-migrate help · Esc to close"


class PlainScreen(Screen[None]):
    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line

    def compose(self) -> ComposeResult:
        yield Static(self.line)


class HelpLike(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP_TITLE)
            yield Static(self.text, markup=False)


class WordApp(App[None]):
    BINDINGS = [Binding("question_mark", "help", "Help")] + [
        Binding(str(n), f"show({n})", show=False) for n in range(1, 10)
    ]

    def __init__(self, titles: list[str], help_text: str, modes: bool) -> None:
        super().__init__()
        self.help_text = help_text
        self.titles = titles
        self.modes = modes
        for n, title in enumerate(titles, 1):
            self.add_mode(f"phase{n}", partial(PlainScreen, title))

    def action_show(self, n: int) -> None:
        if self.modes:
            self.switch_mode(f"phase{n}")
            return
        name = f"phase{n}"
        if not self.is_screen_installed(name):
            self.install_screen(PlainScreen(self.titles[n - 1]), name)
        if len(self.screen_stack) == 1:
            self.push_screen(name)
        else:
            self.switch_screen(name)

    def compose(self) -> ComposeResult:
        yield Static("Ready")

    def action_help(self) -> None:
        self.push_screen(HelpLike(self.help_text))


class InputApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(placeholder="type here", compact=True)


def main(argv: list[str]) -> None:
    if argv[0] == "input":
        InputApp().run()
        return
    split = argv.index("--")
    titles, help_file = argv[1:split], Path(argv[split + 1])
    WordApp(titles, help_file.read_text(encoding="utf-8"), modes=argv[0] == "modes").run()


if __name__ == "__main__":
    main(sys.argv[1:])
