"""Benchmarks are ``tests/bench/bench_*.py``, collected only when ``./dev.sh bench`` asks."""

from __future__ import annotations

import pytest


def pytest_collect_file(file_path, parent):
    if file_path.name.startswith("bench_") and file_path.suffix == ".py":
        return pytest.Module.from_parent(parent, path=file_path)
    return None
