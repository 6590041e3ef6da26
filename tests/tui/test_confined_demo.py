"""A served demo (``--confine``) reads and runs nothing outside its sandbox: Prepare
answers pointing git, yarn or the inventory reader elsewhere are refused with a
message where they are typed, and a session file holding one is refused at load."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tasks.demo.sandbox import DemoSandbox
from tasks.errors import StateFileCorrupt
from tasks.release.publish import ReleaseRecord
from tasks.sections import open_session
from tasks.session.state import Session, save_session
from tasks.session.workspace import OutsideSandbox, Workspace
from tasks.upgrade.answers import Answers, EnvironmentId
from tests.support.pilot import phase_shown, started, until
from tests.support.plan import detection_done, make_checkout
from tui.app import CrvsMigrateApp

SIZE = (100, 30)
SECRET_LINE = "root:$6$not-for-the-audience:19000:0:99999:7:::"


def confined(sandbox: DemoSandbox) -> Workspace:
    return Workspace(sandbox.state_path, demo=sandbox, confine_to=sandbox.root)


def test_paths_inside_and_outside(sandbox: DemoSandbox, tmp_path: Path) -> None:
    ws = confined(sandbox)
    assert ws.path_problem(sandbox.config_path) is None
    assert ws.path_problem(f"{sandbox.root}/opencrvs-core/../opencrvs-core") is None
    assert "outside the demo sandbox" in (ws.path_problem("/etc/shadow") or "")
    assert ws.path_problem(f"{sandbox.root}/../elsewhere") is not None
    assert ws.path_problem("~") is not None
    # A link inside the sandbox that leads out is outside.
    (sandbox.root / "way-out").symlink_to("/etc")
    assert ws.path_problem(sandbox.root / "way-out" / "passwd") is not None
    with pytest.raises(OutsideSandbox):
        ws.check_path("/etc/passwd")
    # Not confined (a terminal): anything goes.
    assert Workspace(sandbox.state_path, demo=sandbox).path_problem("/etc/shadow") is None


@pytest.mark.parametrize("field", ["config_path", "core_path", "inventory"])
def test_a_session_with_an_answer_outside_is_refused_when_confined(
    sandbox: DemoSandbox, tmp_path: Path, field: str
) -> None:
    outside = make_checkout(tmp_path / "outside-checkout", ["1.3.0"])
    session = Session(demo=True)
    answers = Answers.of(session)
    answers.config_path, answers.core_path = str(sandbox.config_path), str(sandbox.core_path)
    if field == "inventory":
        answers.environment(EnvironmentId.PRODUCTION).inventory_path = "/etc/passwd"
    else:
        setattr(answers, field, str(outside))
    state = sandbox.root / "state" / "edited.toml"
    save_session(state, session)
    before = state.read_bytes()
    with pytest.raises(StateFileCorrupt, match="outside the demo sandbox"):
        open_session(state, confine_to=sandbox.root)
    assert state.read_bytes() == before
    # Not served: the same file opens (a terminal operator may keep checkouts anywhere).
    assert open_session(state) is not None


async def test_prepare_refuses_a_checkout_outside(sandbox: DemoSandbox, tmp_path: Path) -> None:
    outside = make_checkout(tmp_path / "outside-checkout", ["1.3.2"])
    app = CrvsMigrateApp(confined(sandbox))
    async with app.run_test(size=SIZE) as pilot:
        await phase_shown(pilot)
        # The sandbox's own version, detected once the sandbox is built.
        await until(pilot, lambda: app.screen.query_one("#current_version", Input).value == "1.3.0")
        await detection_done(app)
        field = app.screen.query_one("#config_path", Input)
        field.value = str(outside)
        await pilot.pause()
        await detection_done(app)
        await pilot.pause()
        error = app.screen.query_one("#config_path-error", Static)
        assert "outside the demo sandbox" in str(error.content)
        # The detected version is still the sandbox's: git never ran in the outside one.
        assert app.screen.query_one("#current_version", Input).value == "1.3.0"
    journal = app.workspace.journal.path.read_text() if app.workspace.journal.path.exists() else ""
    ran_in = [json.loads(line).get("cwd") for line in journal.splitlines()]
    assert str(outside) not in ran_in and str(outside) not in journal


async def test_health_reads_no_inventory_outside(sandbox: DemoSandbox, tmp_path: Path) -> None:
    secret = tmp_path / "root-only.ini"
    secret.write_text(SECRET_LINE + "\n")
    os.chmod(secret, 0o600)
    ws = confined(sandbox)
    session = Session(demo=True)
    Answers.of(session).environment(EnvironmentId.QA).inventory_path = str(secret)
    app = CrvsMigrateApp(ws, session=session)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("h")
        await until(pilot, lambda: app.current_view == "health")
        await phase_shown(pilot)
        nodes, _refused, _source, problem, _notes = app.screen.collect_nodes("qa")  # type: ignore[attr-defined]
        assert problem is not None and "outside the demo sandbox" in problem
        assert nodes == [] or all("not-for-the-audience" not in n.host for n in nodes)
        assert "not-for-the-audience" not in problem


async def test_release_reads_no_env_file_outside(sandbox: DemoSandbox, tmp_path: Path) -> None:
    env_file = tmp_path / "production.env"
    env_file.write_text("SMTP_PASSWORD=not-for-the-audience\n")
    app = CrvsMigrateApp(confined(sandbox))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("6")
        await until(pilot, lambda: app.current_view == "release")
        await phase_shown(pilot)
        app.screen.query_one("#env-files", Input).value = str(env_file)
        app.screen.query_one("#env-check").press()
        await pilot.pause()
        message = str(app.screen.query_one("#error-message", Static).content)
        assert "outside the demo sandbox" in message
        assert ReleaseRecord.of(app.session).env_check is None
