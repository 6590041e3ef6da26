"""Where crvs-migrate keeps its files (XDG / platform user dirs)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "crvs-migrate"


def state_dir() -> Path:
    return platformdirs.user_state_path(APP_NAME)


def default_state_path() -> Path:
    return state_dir() / "session.toml"


def journal_path(state_path: Path) -> Path:
    """The append-only journal lives beside the state file it belongs to."""
    return state_path.with_name(state_path.stem + ".journal.jsonl")


def logs_dir(state_path: Path) -> Path:
    """Full output of every step, one file per run, beside the state file."""
    return state_path.with_name(state_path.stem + ".logs")


def reports_dir(state_path: Path) -> Path:
    return state_path.with_name(state_path.stem + ".reports")


def lock_path(state_path: Path) -> Path:
    """One writer per session: the lock beside the real file (a symlinked session path
    locks its target, so two links to one session share the lock)."""
    target = state_path.resolve() if state_path.is_symlink() else state_path
    return target.with_name(target.name + ".lock")
