"""Widgets shared by the screens, grouped by what they show.

sidebar      PhaseSidebar: the phases and views with their status
title_bar    TitleBar: the palette's icon and the screen's title, at the top
keys         KeyBar: the keys of the screen, at the bottom
output_pane  OutputPane: a command's live output, elapsed time and exit code
node_table   NodeTable: one row per server with its health
status_text  StatusText: a Static refreshed from the session, drawn again only when changed
form         Choice, TickBox, AnswerButton, ProblemValidator: questions that read without colour

Each is imported from its own module when first asked for here (``screens.widgets.X``):
the node table brings the health checks with it, which the first screen rarely needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from screens.widgets.form import AnswerButton, Choice, ProblemValidator, TickBox
    from screens.widgets.keys import KeyBar
    from screens.widgets.node_table import NodeTable
    from screens.widgets.output_pane import OutputPane
    from screens.widgets.sidebar import PhaseSidebar
    from screens.widgets.status_text import StatusText
    from screens.widgets.title_bar import TitleBar

_HOMES = {
    "AnswerButton": "form",
    "Choice": "form",
    "ProblemValidator": "form",
    "TickBox": "form",
    "KeyBar": "keys",
    "NodeTable": "node_table",
    "OutputPane": "output_pane",
    "PhaseSidebar": "sidebar",
    "StatusText": "status_text",
    "TitleBar": "title_bar",
}

__all__ = [
    "AnswerButton",
    "Choice",
    "KeyBar",
    "NodeTable",
    "OutputPane",
    "PhaseSidebar",
    "ProblemValidator",
    "StatusText",
    "TickBox",
    "TitleBar",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"screens.widgets.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'screens.widgets' has no attribute {name!r}")
