"""Messages shared across the app's widgets and screens."""

from __future__ import annotations

from textual.message import Message


class NavigateTo(Message):
    """The operator chose a phase or a view (sidebar, number key, palette)."""

    def __init__(self, view_id: str) -> None:
        super().__init__()
        self.view_id = view_id
