"""Dialogs. The safe answer has the focus; the confirm button names exactly what happens.

confirm  ConfirmModal (yes / cancel), ChoiceModal (one of a few), TextPromptModal (a typed answer)
error    ErrorModal: every ``tasks.errors.CrvsError`` the operator can act on
"""

from screens.modals.confirm import ChoiceModal, ConfirmModal, TextPromptModal
from screens.modals.error import ErrorModal

__all__ = ["ChoiceModal", "ConfirmModal", "ErrorModal", "TextPromptModal"]
