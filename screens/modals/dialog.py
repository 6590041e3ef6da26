"""What every dialog shares, and the look of a step's dialog.

``Dialog``: a focus move repaints the widgets it leaves and reaches, not the whole screen
(``screens.base.quiet_focus``).

``StepDialog``: a boxed title, a body and a row of buttons, centred over the phase
(confirmations, choices, typed answers, reasons). Its rules are read when the first such
dialog opens, not at start-up.
"""

from __future__ import annotations

from typing import TypeVar

from textual.reactive import Reactive
from textual.screen import ModalScreen
from textual.widget import Widget

from screens.base import quiet_focus

ResultType = TypeVar("ResultType")


class Dialog(ModalScreen[ResultType]):
    focused: Reactive[Widget | None] = quiet_focus()


class StepDialog(Dialog[ResultType]):
    DEFAULT_CSS = """
    StepDialog {
        align: center middle;
    }
    StepDialog .step-modal-box {
        width: 80;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        border: heavy $warning;
        padding: 0 1;
        background: $surface;
    }
    StepDialog .step-modal-title {
        margin-bottom: 1;
    }
    StepDialog .step-modal-body {
        height: auto;
        max-height: 20;
    }
    StepDialog .step-modal-buttons {
        height: auto;
        margin-top: 1;
    }
    StepDialog .step-modal-buttons Button {
        margin-right: 2;
    }
    """
