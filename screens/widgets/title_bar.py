"""The line at the top of every phase screen: the palette's icon and the title, centred.

It reads like Textual's ``Header`` without its clock (the same line, the same look, the
icon clicked opens the command palette) but is one widget drawing one line, where
``Header`` is four widgets: every phase's frame is built, styled and drawn with it, and
a frame's widgets are most of what its first visit costs.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.content import Content
from textual.widget import Widget

ICON = "⭘"
# Header's parts: the icon's cell (8 wide, padded by one) on the left, the clock's
# space (10 wide) on the right, the title centred between them.
ICON_WIDTH = 8
CLOCK_WIDTH = 10
PALETTE_TOOLTIP = "Open the command palette"


class TitleBar(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"title-bar--hover"}
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        .title-bar--hover {
            background: $foreground 10%;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__(id="title-bar")
        self._hover = False

    def on_mount(self) -> None:
        self.watch(self.app, "title", self._title_changed, init=False)
        self.watch(self.screen, "sub_title", self._title_changed, init=False)

    def _title_changed(self) -> None:
        self.refresh()

    @property
    def title(self) -> Content:
        screen, app = self.screen, self.app
        title = screen.title if screen.title is not None else app.title
        sub_title = screen.sub_title if screen.sub_title is not None else app.sub_title
        return app.format_title(title, sub_title)

    def render(self) -> Content:
        room = max(0, self.size.width - ICON_WIDTH - CLOCK_WIDTH)
        title = self.title
        if title.cell_length > room:
            title = title.truncate(room, ellipsis=True)
        before = (room - title.cell_length) // 2
        icon = Content(f" {ICON}".ljust(ICON_WIDTH))
        if self._hover:
            icon = icon.stylize(self.get_visual_style("title-bar--hover"))
        return Content.assemble(
            icon,
            " " * before,
            title,
            " " * (room - before - title.cell_length + CLOCK_WIDTH),
        )

    def _over_icon(self, x: int) -> bool:
        return 0 <= x < ICON_WIDTH and self.app.ENABLE_COMMAND_PALETTE

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._over_icon(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(False)

    def _set_hover(self, hover: bool) -> None:
        if hover != self._hover:
            self._hover = hover
            self.tooltip = PALETTE_TOOLTIP if hover else None
            self.refresh()

    async def on_click(self, event: events.Click) -> None:
        if self._over_icon(event.x):
            event.stop()
            await self.run_action("app.command_palette")
