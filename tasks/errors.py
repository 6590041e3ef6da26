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


class StorageError(CrvsError):
    """A file crvs-migrate keeps cannot be written (full disk, read-only directory, a link).

    Carries the path and the system's reason in words; whatever was on disk before is
    still there.
    """

    title = "A file cannot be written"
    what = "The file"

    def __init__(self, path: Path, error: OSError) -> None:
        self.path = Path(path)
        self.reason = describe_os_error(error)
        super().__init__(f"{self.what} {self.path} cannot be written: {self.reason}.")


class StateWriteError(StorageError):
    title = "The session cannot be saved"
    what = "The session file"


class JournalWriteError(StorageError):
    title = "The journal cannot be written"
    what = "The journal"


class ReadOnlySession(CrvsError):
    """This instance shows a session another instance is using: it never writes or runs."""

    title = "This session is open read-only"

    def __init__(self, action: str = "This") -> None:
        super().__init__(
            f"{action} cannot be done here: this window shows the session read-only "
            "(another crvs-migrate is using it). Quit and use the other window, or quit "
            "the other one and open the session again."
        )


def describe_os_error(error: OSError) -> str:
    """The system's reason in words, e.g. "No space left on device"."""
    import errno as _errno
    import os as _os

    if error.errno == _errno.ELOOP:
        return "it is a symbolic link, and crvs-migrate does not follow links here"
    if error.errno:
        return error.strerror or _os.strerror(error.errno)
    return str(error) or type(error).__name__
