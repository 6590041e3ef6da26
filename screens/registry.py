"""Which screen shows which phase or view.

By convention a phase or view ``<id>`` is shown by ``screens/<id>.py``, which
defines ``SCREEN`` (a ``PhaseScreen`` subclass); every phase and view has one (a
test checks). Modules are imported when their screen is first shown, or before, off
the app's loop once the first screen is drawn (``screen_modules``), so start-up
stays fast and a first visit does not wait for an import.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from screens.base import PhaseScreen


def screen_class(view_id: str) -> type[PhaseScreen]:
    module = importlib.import_module(f"screens.{view_id}")
    screen: type[PhaseScreen] = module.SCREEN
    return screen


def screen_modules(view_ids: Iterable[str]) -> list[str]:
    """The modules of these phases and views (to import them ahead of their first visit)."""
    return [f"screens.{view_id}" for view_id in view_ids]


def make_screen(view_id: str) -> PhaseScreen:
    return screen_class(view_id)(view_id)
