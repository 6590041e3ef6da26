"""Which screen shows which phase or view.

By convention a phase or view ``<id>`` is shown by ``screens/<id>.py``, which
defines ``SCREEN`` (a ``PhaseScreen`` subclass). Modules are imported only when
their screen is first shown, so start-up stays fast.
"""

from __future__ import annotations

import importlib

from screens.base import PhaseScreen
from screens.placeholder import PlaceholderScreen


def screen_class(view_id: str) -> type[PhaseScreen]:
    name = f"screens.{view_id}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return PlaceholderScreen
    return module.SCREEN


def make_screen(view_id: str) -> PhaseScreen:
    return screen_class(view_id)(view_id)
