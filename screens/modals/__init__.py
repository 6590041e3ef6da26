"""Dialogs. The safe answer has the focus; the confirm button names exactly what happens.

confirm  ConfirmModal (yes / cancel), ChoiceModal (one of a few), TextPromptModal (a typed answer)
error    ErrorModal: every ``tasks.errors.CrvsError`` the operator can act on
host_key TrustHostKey: an unknown host key's fingerprint, trusted only on an explicit yes
node_details NodeDetails: a node's checks and the raw output of every command
reason   ReasonModal: a change that needs a reason (kept in the journal)
"""

from screens.modals.confirm import ChoiceModal, ConfirmModal, TextPromptModal
from screens.modals.error import ErrorModal
from screens.modals.host_key import TrustHostKey
from screens.modals.node_details import NodeDetails
from screens.modals.reason import ReasonModal

__all__ = [
    "ChoiceModal",
    "ConfirmModal",
    "ErrorModal",
    "NodeDetails",
    "ReasonModal",
    "TextPromptModal",
    "TrustHostKey",
]
