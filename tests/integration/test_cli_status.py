"""``crvs-migrate status`` through the real CLI, beside a session in use: phases and steps,
a step running detached (pid, log, elapsed time), the gate, who holds the session. It never
takes the lock and never changes the session file; textual is never imported."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.local.process import ProcessRun
from tasks.local.steps import Step, run_step
from tasks.session.lock import SessionInUse, SessionLock
from tasks.session.phases import StepStatus
from tasks.session.state import Session, now_iso, save_session
from tasks.session.workspace import Workspace
from tasks.upgrade.plan import accept_plan, update_plan
from tests.integration.test_cli_plan_check_env import cli
from tests.support.plan import full_answers
from tests.support.sandbox import group_gone, group_members

SECRET = "st4tus-s3cret"


async def _session_with_a_running_step(tmp_path: Path) -> tuple[Workspace, Session, ProcessRun]:
    workspace = Workspace(tmp_path / "state" / "session.toml")
    session = Session(installation="Farajaland")
    session.replace_section(full_answers())
    update_plan(session)
    accept_plan(session, now_iso())
    session.phase("update_core").step("fetch").succeed(exit_code=0, duration_s=1.5)
    step = Step(
        "yarn_install",
        "Install dependencies",
        (sys.executable, "-c", "import time; print('working', flush=True); time.sleep(60)"),
        tmp_path,
    )
    seen = asyncio.Event()
    run = ProcessRun(
        step.command,
        log_file=workspace.logs_dir / "update_core-yarn_install.log",
        journal=workspace.journal,
        phase="update_core",
        step="yarn_install",
        env={"NPM_TOKEN": SECRET},
        on_lines=lambda lines: seen.set(),
    )
    task = asyncio.create_task(
        run_step(
            step, run, phase_id="update_core", session=session, save=lambda: workspace.save(session)
        )
    )
    await asyncio.wait_for(seen.wait(), 20)
    # The app goes away (its follower stops): the step runs on, saved as running.
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return workspace, session, run


async def test_status_beside_a_session_in_use_changes_nothing(tmp_path: Path) -> None:
    workspace, session, run = await _session_with_a_running_step(tmp_path)
    state = workspace.state_path
    assert session.phase("update_core").step("yarn_install").status is StepStatus.RUNNING
    lock = SessionLock(workspace.lock.path)
    lock.acquire()  # as the app holds it
    before = (state.read_bytes(), state.stat().st_mtime_ns, lock.path.read_bytes())
    try:
        code, out, err, modules = cli("status", "--state", state, "--json")
        assert code == 0, err
        assert modules == []
        doc = json.loads(out)
        assert (
            doc["session"]["path"] == str(state) and doc["session"]["installation"] == "Farajaland"
        )
        assert doc["holder"]["pid"] == os.getpid() and doc["holder"]["running"] is True
        assert doc["plan"] == {"current": "1.3.0", "target": "1.3.5", "accepted": True}
        phases = {p["id"]: p for p in doc["phases"]}
        steps = {s["id"]: s for s in phases["update_core"]["steps"]}
        assert steps["fetch"]["status"] == "succeeded" and steps["fetch"]["exit_code"] == 0
        assert steps["yarn_install"]["status"] == "running"
        (running,) = doc["running"]
        assert running["phase"] == "update_core" and running["step"] == "yarn_install"
        assert running["pid"] == run.pid and running["supervisor_pid"] == run.supervisor_pid
        assert running["alive"] is True and running["ended"] is None
        assert running["elapsed_s"] >= 0 and Path(running["log_file"]).exists()
        assert doc["gate"]["open"] is False and len(doc["gate"]["conditions"]) == 5
        assert SECRET not in out
        code, text, err, _ = cli("status", "--state", state)
        assert code == 0, err
        assert "◐ update_core / yarn_install" in text and f"pid {run.pid}" in text
        assert "Production gate: LOCKED" in text and f"(process {os.getpid()})" in text
        # The lock is still ours, its record and the session file untouched.
        with pytest.raises(SessionInUse):
            SessionLock(workspace.lock.path).acquire()
        assert (state.read_bytes(), state.stat().st_mtime_ns, lock.path.read_bytes()) == before

        # The step ends while no crvs-migrate follows it: status says so, still changing nothing.
        os.kill(run.supervisor_pid, signal.SIGTERM)
        assert group_gone(run.pid)
        for _ in range(100):
            if Path(str(workspace.logs_dir / "update_core-yarn_install.status.json")).exists():
                break
            await asyncio.sleep(0.05)
        code, out, err, _ = cli("status", "--state", state, "--json")
        (running,) = json.loads(out)["running"]
        assert running["ended"]["cancelled"] is True and running["alive"] is False
        code, text, _, _ = cli("status", "--state", state)
        assert "ended at" in text and "records it when it next opens" in text
        assert (state.read_bytes(), state.stat().st_mtime_ns, lock.path.read_bytes()) == before
    finally:
        lock.release()
        for pid in group_members(run.pid or -1):
            os.kill(pid, signal.SIGKILL)


def test_status_of_a_stale_lock_and_of_no_session(tmp_path: Path) -> None:
    state = tmp_path / "session.toml"
    code, _out, err, _ = cli("status", "--state", state)
    assert code == 3 and "no session file" in err
    save_session(state, Session())
    # A record left by a process that no longer runs.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = {"by": "op@jump", "host": os.uname().nodename, "pid": dead.pid, "since": now_iso()}
    (tmp_path / "session.toml.lock").write_text(json.dumps(record))
    code, out, err, _ = cli("status", "--state", state, "--json")
    assert code == 0, err
    holder = json.loads(out)["holder"]
    assert holder["by"] == "op@jump" and holder["running"] is False
    code, text, _, _ = cli("status", "--state", state)
    assert "a stale lock" in text and "Running steps (0)" in text
    (tmp_path / "bad.toml").write_text("schema_version = [")
    code, _out, err, _ = cli("status", "--state", tmp_path / "bad.toml")
    assert code == 3 and "not valid TOML" in err
