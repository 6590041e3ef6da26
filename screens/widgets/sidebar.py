"""The phase sidebar: every phase in order with its status, then the views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from screens.messages import NavigateTo
from tasks.session.phases import PHASES, VIEWS, Phase, PhaseStatus
from tasks.session.state import Session

# Colour is a second channel only: the glyph and the words carry the status.
STATUS_STYLE = {
    PhaseStatus.NOT_STARTED: "",
    PhaseStatus.IN_PROGRESS: "bold yellow",
    PhaseStatus.DONE: "green",
    PhaseStatus.SKIPPED: "dim",
    PhaseStatus.BLOCKED: "bold red",
}
# Titles take attributes only, never a colour: a coloured title on the highlight
# bar loses contrast in the 16-colour (ansi-*) themes, and NO_COLOR greys a red
# title into the background.
TITLE_STYLE = {
    PhaseStatus.NOT_STARTED: "",
    PhaseStatus.IN_PROGRESS: "bold",
    PhaseStatus.DONE: "",
    PhaseStatus.SKIPPED: "dim",
    PhaseStatus.BLOCKED: "bold",
}


def phase_prompt(number: int, title: str, status: PhaseStatus, colour: bool = True) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{status.glyph} ", style=STATUS_STYLE[status] if colour else TITLE_STYLE[status])
    text.append(f"{number} ", style="dim")
    text.append(title, style=TITLE_STYLE[status])
    return text


def phase_title(p: Phase, short: bool) -> str:
    return p.short if short else p.title


class PhaseSidebar(OptionList):
    """Navigation by arrows or j/k and Enter, by mouse, and by number keys (app bindings)."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, session: Session, current: str) -> None:
        self._session = session
        # Decided before the first frame, so no full title is ever drawn cut.
        self.short_titles = self._narrow()
        super().__init__(*self._phase_options(), id="sidebar")
        self.current = current

    # Drawing the sidebar is most of a phase's first visit: every phase and view has one,
    # and Textual's OptionList caches what it drew per list. What is drawn the same for
    # all of them (an option's line in a given state) is kept for all (the state is in
    # the key: the option's text and index, the style of its state, the width).
    _drawn: ClassVar[LRUCache[tuple[object, ...], list[Strip]]] = LRUCache(256)
    # While the lines are drawn the list of lines is known fresh: OptionList checks it
    # again (the content region, the virtual size) for every line it draws.
    _lines_fresh = False

    def render_lines(self, crop: Region) -> list[Strip]:
        self._update_lines()
        self._lines_fresh = True
        try:
            return super().render_lines(crop)
        finally:
            self._lines_fresh = False

    @property
    def _lines(self) -> Sequence[tuple[int, int]]:
        if self._lines_fresh:
            return self._line_cache.lines
        return super()._lines

    def _get_option_render(self, option: Option, style: Style) -> list[Strip]:
        prompt = option.prompt
        if not isinstance(prompt, Text):
            return super()._get_option_render(option, style)
        key = (
            option.id,
            self._option_to_index[option],
            prompt.plain,
            tuple(prompt.spans),
            prompt.style,
            option._divider,
            style,
            self.get_component_styles("option-list--option").padding,
            self.scrollable_content_region.width,
        )
        strips = self._drawn.get(key)
        if strips is None:
            strips = super()._get_option_render(option, style)
            self._drawn[key] = strips
        return strips

    def _phase_options(self) -> list[Option | None]:
        options: list[Option | None] = []
        for p in PHASES:
            status = self._session.phase(p.id).status
            prompt = phase_prompt(
                p.number, phase_title(p, self.short_titles), status, self._colour()
            )
            options.append(Option(prompt, id=p.id))
        options.append(None)
        for v in VIEWS:
            options.append(Option(Text(f"◆ {v.title}", no_wrap=True, overflow="ellipsis"), id=v.id))
        return options

    def on_mount(self) -> None:
        self.border_title = "Phases"
        self.highlight(self.current)

    def highlight(self, view_id: str) -> None:
        self.current = view_id
        try:
            self.highlighted = self.get_option_index(view_id)
        except Exception:  # noqa: BLE001 - unknown id: leave the cursor where it is
            pass

    def refresh_statuses(self) -> None:
        """Re-read every phase's status from the session (after a change elsewhere)."""
        for p in PHASES:
            status = self._session.phase(p.id).status
            prompt = phase_prompt(
                p.number, phase_title(p, self.short_titles), status, self._colour()
            )
            if self.get_option(p.id).prompt != prompt:  # unchanged: no redraw
                self.replace_option_prompt(p.id, prompt)

    def _narrow(self) -> bool:
        """Below the app's "-wide" breakpoint the CSS narrows the sidebar: short titles.

        Decided from the terminal's width, not this widget's: the breakpoint class
        lands after the first layout, and titles must not flip between the two.
        """
        try:
            app = self.app
            wide_from = {name: w for w, name in app.HORIZONTAL_BREAKPOINTS or []}.get("-wide")
            return wide_from is not None and app.size.width < wide_from
        except Exception:  # noqa: BLE001 - built outside a running app
            return False

    def _colour(self) -> bool:
        try:
            return not self.app.no_color
        except Exception:  # noqa: BLE001 - built outside a running app
            return True

    def on_resize(self) -> None:
        short = self._narrow()
        if short != self.short_titles:
            self.short_titles = short
            self.refresh_statuses()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id:
            self.post_message(NavigateTo(event.option_id))
