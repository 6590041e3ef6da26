"""A journal whose last record was cut short (full disk, kill) is reported once when the
session opens, and the note makes it whole again."""

from __future__ import annotations

import json
from pathlib import Path

from tasks.sections import open_session
from tasks.session.state import Session, save_session
from tasks.session.workspace import Workspace
from tests.support.pilot import started
from tui.app import CrvsMigrateApp


def _notices(app: CrvsMigrateApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_cut_journal_record_is_reported_once(tmp_path: Path) -> None:
    state = tmp_path / "session.toml"
    save_session(state, Session())
    ws = Workspace(state)
    ws.journal.event("earlier")
    with ws.journal.path.open("ab") as fh:
        fh.write(b'{"kind": "confirmation", "what": "open the gate')  # cut short

    app = CrvsMigrateApp(ws, session=open_session(ws.state_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        notices = _notices(app)
        assert any("line 2" in n and "incomplete" in n for n in notices), notices
    lines = ws.journal.path.read_text().splitlines()
    assert lines[1].endswith("open the gate")  # kept as it was, on its own line
    assert "found cut short" in json.loads(lines[2])["what"]

    again = Workspace(state)
    app = CrvsMigrateApp(again, session=open_session(again.state_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        assert not any("incomplete" in n for n in _notices(app))
