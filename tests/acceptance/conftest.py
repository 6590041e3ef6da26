"""The acceptance walks: the whole upgrade, Prepare to the exported report, through the UI."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/acceptance/" in str(item.path):
            item.add_marker(pytest.mark.acceptance)
            item.add_marker(pytest.mark.slow)
