"""StatusText: a Static whose update with what it already shows costs nothing.

The release phases (5 to 9) and the report refresh every result, command and hint from
the session each time they are shown. Textual's ``Static.update`` lays out and draws the
whole screen again even when the text is the same: on every revisit of those phases.
"""

from __future__ import annotations

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static


def _same(shown: VisualType, new: VisualType) -> bool:
    """The same text in the same style (only for plain strings and Rich ``Text``;
    anything else counts as changed)."""
    if isinstance(shown, str) and isinstance(new, str):
        return shown == new
    if isinstance(shown, Text) and isinstance(new, Text):
        return (shown.plain, shown.spans, shown.style, shown.justify, shown.no_wrap) == (
            new.plain,
            new.spans,
            new.style,
            new.justify,
            new.no_wrap,
        )
    return False


class StatusText(Static):
    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        if _same(self.content, content):
            return
        super().update(content, layout=layout)
