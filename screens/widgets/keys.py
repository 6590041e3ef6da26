"""The key bar at the bottom of every phase screen: the keys of what has the focus.

It reads like Textual's ``Footer`` (the same bindings, the same order, the palette key
on the right, a key clicked is pressed) but is one widget that repaints its line when
the bindings change, where ``Footer`` composes a widget per key and composes them all
again on every change of focus: a layout of the whole screen per focus change.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

from tasks.lean import dataclass

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class Key:
    key: str
    display: str
    description: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keybar--key",
        "keybar--description",
        "keybar--hover",
        "keybar--separator",
    }
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .keybar--hover {
            background: $block-hover-background;
        }
        .keybar--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, *, id: str | None = "keybar") -> None:
        super().__init__(id=id)
        self._keys: list[Key] = []
        self._palette: Key | None = None
        # Where each key sits on the line: (start, end, key), for clicks and hover.
        self._spans: list[tuple[int, int, Key]] = []
        self._hover: Key | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.read_bindings()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.read_bindings()

    def read_bindings(self) -> None:
        """The screen's active bindings, as ``Footer`` shows them (one per action)."""
        app = self.app
        active = self.screen.active_bindings
        by_action: defaultdict[str, list[Key]] = defaultdict(list)
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show:
                by_action[binding.action].append(
                    Key(binding.key, app.get_key_display(binding), binding.description, enabled)
                )
        keys = [choices[0] for choices in by_action.values()]
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = Key(binding.key, app.get_key_display(binding), binding.description, enabled)
        if keys != self._keys or palette != self._palette:
            self._keys, self._palette = keys, palette
            self.refresh()

    @property
    def keys(self) -> list[Key]:
        """The keys shown, in order (the palette's last)."""
        return self._keys + ([self._palette] if self._palette else [])

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        hover_style = self.get_component_rich_style("keybar--hover")
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        self._spans = []

        def add(key: Key, line: Text, key_text: str, description_text: str) -> None:
            start = line.cell_len
            extra = hover_style if key == self._hover else Style()
            dim = Style(dim=True) if not key.enabled else Style()
            line.append(key_text, key_style + extra + dim)
            if key.description:
                line.append(description_text, description_style + extra + dim)
            self._spans.append((start, line.cell_len, key))

        # Compact, as at 80 columns every key of a screen must fit whole: one blank
        # between a key and its words and between keys (keys are styled apart).
        text.append(" ")
        for key in self._keys:
            add(key, text, f"{key.display} ", f"{key.description} ")
        if self._palette is not None:
            width = self.size.width
            right = Text(no_wrap=True, end="")
            right.append("▏", self.get_component_rich_style("keybar--separator"))
            palette_at = right.cell_len
            # Its words only where they fit beside every key; the key always.
            words = f" {self._palette.description} "
            if text.cell_len + right.cell_len + len(self._palette.display) + len(words) > width:
                words = ""
            add(self._palette, right, self._palette.display, words)
            room = width - right.cell_len
            if room > 0:
                # As Footer does: the keys that do not fit are cut, the palette stays.
                if text.cell_len > room:
                    # Whole keys only: a key cut in half reads as another key.
                    palette_span = self._spans.pop()
                    # (a key's trailing blank may go: the separator follows it)
                    self._spans = [span for span in self._spans if span[1] - 1 <= room]
                    end = min(self._spans[-1][1], room) if self._spans else 0
                    text = text[:end]
                    self._spans.append(palette_span)
                text.append(" " * (room - text.cell_len))
                # The palette's span, moved to where it is drawn.
                start, end, key = self._spans.pop()
                offset = text.cell_len + palette_at
                self._spans.append((offset, offset + end - start, key))
                text.append_text(right)
            else:
                self._spans.pop()
        return text

    def _key_at(self, x: int) -> Key | None:
        return next((key for start, end, key in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._key_at(event.x)
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
