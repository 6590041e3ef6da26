"""Shared fixtures. Each feature keeps its own in a helpers module, imported here."""

from tests.gitflow_helpers import sandbox, sandbox_template  # noqa: F401
