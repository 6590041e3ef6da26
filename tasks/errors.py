"""Typed errors that carry a user-facing title and message.

The UI shows any ``CrvsError`` in one error modal; everything else is a crash.
"""

from __future__ import annotations

from pathlib import Path


class CrvsError(Exception):
    """An error the operator can act on: a short title and a plain-language message."""

    title: str = "Something went wrong"

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


class StateFileError(CrvsError):
    """The session state file cannot be used. It is never overwritten."""

    title = "The session file cannot be used"

    def __init__(self, path: Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"{self.path}: {problem}\n\nThe file has not been changed. "
            "Start a new session in a different file, or fix this one and restart."
        )


class StateFileCorrupt(StateFileError):
    title = "The session file is damaged"


class StateFileUnsupported(StateFileError):
    title = "The session file is from another version of crvs-migrate"


class InvalidName(CrvsError):
    title = "Invalid name"


class ToolMissing(CrvsError):
    title = "A required tool is missing"
