"""Dialogs. The safe answer has the focus; the confirm button names exactly what happens.

confirm  ConfirmModal (yes / cancel), ChoiceModal (one of a few), TextPromptModal (a typed answer)
error    ErrorModal: every ``tasks.errors.CrvsError`` the operator can act on
host_key TrustHostKey: an unknown host key's fingerprint, trusted only on an explicit yes
node_details NodeDetails: a node's checks and the raw output of every command
reason   ReasonModal: a change that needs a reason (kept in the journal)

Each is imported from its own module when first asked for here (``screens.modals.X``):
the host key and node dialogs bring SSH and the health checks with them, which the
first screen does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from screens.modals.confirm import ChoiceModal, ConfirmModal, TextPromptModal
    from screens.modals.error import ErrorModal
    from screens.modals.host_key import TrustHostKey
    from screens.modals.node_details import NodeDetails
    from screens.modals.reason import ReasonModal

_HOMES = {
    "ChoiceModal": "confirm",
    "ConfirmModal": "confirm",
    "TextPromptModal": "confirm",
    "ErrorModal": "error",
    "TrustHostKey": "host_key",
    "NodeDetails": "node_details",
    "ReasonModal": "reason",
}

__all__ = [
    "ChoiceModal",
    "ConfirmModal",
    "ErrorModal",
    "NodeDetails",
    "ReasonModal",
    "TextPromptModal",
    "TrustHostKey",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"screens.modals.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'screens.modals' has no attribute {name!r}")
