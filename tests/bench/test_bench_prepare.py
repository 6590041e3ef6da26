"""Benchmarks of Prepare and Plan (``./dev.sh bench``): figures printed, targets asserted.

Targets: building a plan well under a frame (< 5 ms), and a keystroke in the
Prepare form answered within 200 ms (median) at 80x24, so typing over an SSH
link never lags behind the operator.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from tasks.upgrade.answers import EnvironmentId
from tasks.upgrade.plan import build_plan, diff_plans
from tests.support.app import make_app
from tests.support.plan import full_answers


def test_bench_build_plan() -> None:
    variants = []
    for current in ("1.3.0", "1.3.2", "1.3.4", "1.2.0"):
        for backup in (True, False):
            answers = full_answers(current_version=current, backup_server=backup)
            variants.append(answers)
    n = 2000
    t0 = time.perf_counter()
    plans = [build_plan(variants[i % len(variants)]) for i in range(n)]
    per_plan_ms = (time.perf_counter() - t0) / n * 1000
    t0 = time.perf_counter()
    for i in range(1, 500):
        diff_plans(plans[i - 1], plans[i])
    per_diff_ms = (time.perf_counter() - t0) / 499 * 1000
    print(f"\nbuild_plan: {per_plan_ms:.3f} ms per plan; diff_plans: {per_diff_ms:.3f} ms per diff")
    assert per_plan_ms < 5


async def test_bench_prepare_keystrokes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    answers = full_answers()
    answers.environments.pop(EnvironmentId.STAGING)
    # The long form: every sub-field shown.
    app = make_app(tmp_path / "state.toml", answers=answers)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#env-production-servers").focus()
        await pilot.pause()
        timings = []
        for ch in "manager1=200/12, worker1=180/10":
            t0 = time.perf_counter()
            await pilot.press(ch)
            timings.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        await pilot.press("enter")
        advance_ms = (time.perf_counter() - t0) * 1000
    median = statistics.median(timings)
    print(
        f"\nPrepare keystroke (full form, 80x24): median {median:.1f} ms, "
        f"max {max(timings):.1f} ms over {len(timings)} keys; Enter to next field {advance_ms:.1f} ms"
    )
    assert median < 200
