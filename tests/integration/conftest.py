"""Fixtures of the integration tests only (the shared ones are in tests/conftest.py)."""

from tests.support.gate_world.fixtures import world  # noqa: F401 (the gate world of test_*_runs.py)
