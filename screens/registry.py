"""Which screen shows which phase or view.

By convention a phase or view ``<id>`` is shown by ``screens/<id>.py``, which
defines ``SCREEN`` (a ``PhaseScreen`` subclass); every phase and view has one (a
test checks). Modules are imported only when their screen is first shown, so
start-up stays fast.
"""

from __future__ import annotations

import importlib

from screens.base import PhaseScreen


def screen_class(view_id: str) -> type[PhaseScreen]:
    module = importlib.import_module(f"screens.{view_id}")
    screen: type[PhaseScreen] = module.SCREEN
    return screen


def make_screen(view_id: str) -> PhaseScreen:
    return screen_class(view_id)(view_id)
