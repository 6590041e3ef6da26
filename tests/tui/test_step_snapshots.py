"""Snapshots of a step running and of a step that failed, in Update opencrvs-core.

Real parts: a real git checkout, a real detached step (its supervisor, its log) that a
crvs-migrate which went away left running, followed again by the app. Deterministic: the
installation lives at a fixed path, and what changes from run to run is frozen (the elapsed
time and durations as shown, the yarn and node versions the checks find).
``--snapshot-update`` to redo.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.local.steps import Step
from tasks.local.yarn import Tools
from tasks.session.phases import StepStatus
from tasks.session.state import Session
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers
from tests.support.app import make_app
from tests.support.detached_local import kill_group, leave_running

ROOT = Path("/tmp/crvs-migrate-snapshots")
SIZE = (100, 34)
YARN_START = (
    "printf 'yarn install v1.22.19\\n[1/4] Resolving packages...\\n[2/4] Fetching packages...\\n'; "
)
YARN_404 = (
    "printf 'error An unexpected error occurred: \"https://registry.yarnpkg.com/@types/code/-/"
    'code-4.0.7.tgz: Request failed \\\\"404 Not Found\\\\"".\\n'
    "info If you think this is a bug, please open a bug report.\\n'; exit 1"
)


@pytest.fixture
def installation(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Workspace, Session, Path]]:
    shutil.rmtree(ROOT, ignore_errors=True)
    core = ROOT / "opencrvs-core"
    core.mkdir(parents=True)
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
        "PATH": "/usr/bin:/bin",
    }
    for argv in (["init", "-q", "-b", "master"], ["commit", "-q", "--allow-empty", "-m", "core"]):
        subprocess.run(["git", *argv], cwd=core, env=env, check=True, capture_output=True)
    workspace = Workspace(ROOT / "state" / "session.toml")
    session = Session(session_id="snapshot", created_at="2026-01-01T00:00:00+00:00")
    session.current_view = "update_core"
    answers = Answers.of(session)
    answers.core_path = str(core)
    answers.target_version = "1.3.5"
    answers.core_customised = False
    workspace.save(session)
    # What differs between machines and runs, frozen.
    monkeypatch.setattr("screens.widgets.output_pane._duration", lambda s: "1 min 12 s")
    monkeypatch.setattr("screens.step_phase._duration", lambda s: "41.3 s")

    async def tools(*, demo: bool, cwd: Path | None = None) -> Tools:
        return Tools(yarn=("yarn",), yarn_version="1.22.19", node_version="v16.20.0")

    monkeypatch.setattr("screens.step_phase.find_tools", tools)
    yield workspace, session, core
    shutil.rmtree(ROOT, ignore_errors=True)


def _step(core: Path, script: str) -> Step:
    """A yarn that prints what yarn prints (at a fixed path, so the command shown is too)."""
    yarn = ROOT / "bin" / "yarn"
    yarn.parent.mkdir(exist_ok=True)
    yarn.write_text("#!/bin/sh\n" + script + "\n")
    yarn.chmod(0o755)
    return Step("yarn_install", "Install dependencies", (str(yarn), "--force"), core)


def _waiting_for(condition, what: str):
    async def run_before(pilot) -> None:
        deadline = time.monotonic() + 20
        while not condition(pilot.app):
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        pilot.app.clear_notifications()  # the toasts ("reattached") would hide the pane
        await pilot.pause(0.3)

    return run_before


def test_a_step_running(snap_compare, installation) -> None:
    workspace, session, core = installation
    run = asyncio.run(
        leave_running(
            workspace,
            session,
            "update_core",
            _step(core, YARN_START + "sleep 60"),
            first_line="[2/4] Fetching packages...",
        )
    )
    try:
        app = make_app(workspace.state_path, load=True)

        def shown(app) -> bool:
            screen = app.screen
            pane = getattr(screen, "pane", None)
            return pane is not None and "[2/4] Fetching packages..." in pane.lines

        assert snap_compare(
            app, terminal_size=SIZE, run_before=_waiting_for(shown, "the reattached output")
        )
    finally:
        kill_group(run.pid)


def test_a_step_that_failed(snap_compare, installation) -> None:
    workspace, session, core = installation
    go = ROOT / "go"
    script = YARN_START + f"while [ ! -e {go} ]; do sleep 0.05; done; " + YARN_404
    run = asyncio.run(
        leave_running(
            workspace,
            session,
            "update_core",
            _step(core, script),
            first_line="yarn install v1.22.19",
        )
    )
    try:
        app = make_app(workspace.state_path, load=True)

        def failed(app) -> bool:
            if getattr(app.screen, "current_run", None) is not None:
                go.touch()  # followed again: now let it fail
            rec = app.session.phase("update_core").step("yarn_install")
            pane = getattr(app.screen, "pane", None)
            # The pane's own lines are composed a moment after the pane: none yet, not yet.
            statuses = pane.query(".output-status") if pane is not None else []
            status = str(statuses[0].render()) if statuses else ""
            return rec.status is StepStatus.FAILED and "Cause:" in status

        assert snap_compare(app, terminal_size=SIZE, run_before=_waiting_for(failed, "failure"))
    finally:
        kill_group(run.pid)
