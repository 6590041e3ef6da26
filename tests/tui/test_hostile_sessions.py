"""Hostile session files in the app: refused at load (the damaged-file screen, the file
untouched), and odd but accepted ones never crash a screen on navigation."""

from __future__ import annotations

from pathlib import Path

import pytest

from screens.state_error import StateErrorScreen
from tasks.errors import StateFileError
from tasks.sections import open_session
from tasks.session.workspace import Workspace
from tests.support.pilot import started
from tests.unit.test_state_hostile import HOSTILE
from tui.app import CrvsMigrateApp

H = "schema_version = 1\n"
# Wrong types one and two levels inside the feature sections: each crashed a screen
# (Release, Backup, Deploy, Cluster health, Report) before the section shapes were
# checked at load. Now refused at load, like the kinds of test_state_hostile.
INSIDE_SECTIONS = {
    "release.tag is a number": H + "[release]\ntag = 5\n",
    "release.env_check.ok is a string": H + '[release.env_check]\nok = "yes"\nfiles = 5\n',
    "release.merge without how": H + '[release.merge]\nbranch = "b"\ninto = "m"\n',
    "backup.target is a string": H + '[backup]\ntarget = "x"\nlabel = 5\n',
    "backup.target.ssh_port is a string": H + '[backup.target]\nssh_host = "h"\nssh_port = "x"\n',
    "deploy.qa is a string": H + '[deploy]\nqa = "x"\n',
    "health.snapshots is a number": H + 'current_view = "health"\n[health]\nsnapshots = 5\n',
    "a snapshot node is a number": H + "[health.snapshots.qa]\nnodes = [{node = 5}]\n",
    "plan.current is a string": H + '[plan]\ncurrent = "x"\n',
    # Evidence and records are strict (typed records, tasks/session/records.py).
    "a verified part of the wrong types": H
    + "[backup.verification]\nparts = [{ok = 5, name = []}]\n",
    "a stack with the wrong types": H + '[deploy.qa.stack]\nup = "x"\nnot_up = 5\n',
    "a plan whose versions are numbers": H
    + '[plan]\naccepted = "abc"\n[plan.current]\ncurrent = 5\n',
}
# Accepted (answers unreadable are unanswered; typed nodes are checked when used; keys no
# owner knows count for nothing), all in one session: no screen may crash on them.
ODD_BUT_ACCEPTED = (
    H
    + '[answers]\ntarget_version = 5\ncurrent_version = "y"\nenvironments = ["qa"]\n'
    + "deployed = true\n"
    + '[backup.qa_health]\nok = "false"\nat = 5\n'
    + '[[health.nodes.qa]]\nhost = 5\nport = "x"\n'
    + '[phases.update_core.steps."a\\u202eb"]\nstatus = "succeeded"\n'
)
KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "h", "R"]


# Every kind is refused by load_session (tests/unit/test_state_hostile.py); the app is
# shown a sample of them, one of each family.
SAMPLE = [
    "a step is a string",
    "answers is a string",
    "exit_code is a boolean",
    "deep arrays",
    "deep dotted keys",
    "invalid UTF-8",
]


@pytest.mark.parametrize("kind", [*SAMPLE, *INSIDE_SECTIONS])
async def test_hostile_file_shows_the_damaged_file_screen(tmp_path: Path, kind: str) -> None:
    content = HOSTILE[kind][0] if kind in HOSTILE else INSIDE_SECTIONS[kind]
    raw = content if isinstance(content, bytes) else content.encode()
    path = tmp_path / "session.toml"
    path.write_bytes(raw)
    ws = Workspace(path)
    with pytest.raises(StateFileError) as info:
        open_session(ws.state_path)
    app = CrvsMigrateApp(ws, state_error=info.value)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert isinstance(app.screen, StateErrorScreen)
        for key in ("1", "h", "R"):  # navigation is refused while the file is unusable
            await pilot.press(key)
        assert isinstance(app.screen, StateErrorScreen)
        await pilot.press("q")
    assert path.read_bytes() == raw
    assert [p.name for p in tmp_path.iterdir()] == ["session.toml"]


async def test_odd_sections_crash_no_screen(tmp_path: Path) -> None:
    path = tmp_path / "session.toml"
    path.write_text(ODD_BUT_ACCEPTED)
    ws = Workspace(path)
    app = CrvsMigrateApp(ws, session=open_session(ws.state_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        for key in KEYS:
            await pilot.press(key)
            await pilot.pause()
            assert app._exception is None, f"{key}: {app._exception!r}"
    assert app._exception is None
