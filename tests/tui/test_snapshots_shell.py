"""Snapshots of the main screen (pytest-textual-snapshot). Update with --snapshot-update."""

from __future__ import annotations

import pytest

from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, save_session
from tasks.session.workspace import Workspace
from tui.app import CrvsMigrateApp


def app_with_progress(tmp_path) -> CrvsMigrateApp:
    """A session part way through: every phase status appears once."""
    s = Session(session_id="snapshot", created_at="2026-01-01T00:00:00+00:00")
    s.phase("prepare").status = PhaseStatus.DONE
    s.phase("plan").status = PhaseStatus.DONE
    s.phase("update_core").status = PhaseStatus.IN_PROGRESS
    s.phase("verify_local").status = PhaseStatus.SKIPPED
    s.phase("verify_local").reason = "Not running OpenCRVS locally."
    s.phase("deploy_production").status = PhaseStatus.BLOCKED
    s.phase("deploy_production").reason = "The production backup gate is not open."
    s.current_view = "deploy_production"
    path = tmp_path / "s.toml"
    save_session(path, s)
    ws = Workspace(path)
    return CrvsMigrateApp(ws, session=ws.load())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_screen(snap_compare, tmp_path, size):
    assert snap_compare(app_with_progress(tmp_path), terminal_size=size)
