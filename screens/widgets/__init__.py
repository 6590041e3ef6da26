"""Widgets shared by the screens, grouped by what they show.

sidebar      PhaseSidebar: the phases and views with their status
output_pane  OutputPane: a command's live output, elapsed time and exit code
node_table   NodeTable: one row per server with its health
form         Choice, TickBox, AnswerButton, ProblemValidator: questions that read without colour
"""

from screens.widgets.form import AnswerButton, Choice, ProblemValidator, TickBox
from screens.widgets.node_table import NodeTable
from screens.widgets.output_pane import OutputPane
from screens.widgets.sidebar import PhaseSidebar

__all__ = [
    "AnswerButton",
    "Choice",
    "NodeTable",
    "OutputPane",
    "PhaseSidebar",
    "ProblemValidator",
    "TickBox",
]
