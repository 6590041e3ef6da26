"""Snapshots of the main screen (pytest-textual-snapshot). Update with --snapshot-update."""

from __future__ import annotations

import pytest

from tasks.session.state import Session, save_session
from tests.support.app import make_app
from tui.app import CrvsMigrateApp


def app_with_progress(tmp_path) -> CrvsMigrateApp:
    """A session part way through: every phase status appears once."""
    s = Session(session_id="snapshot", created_at="2026-01-01T00:00:00+00:00")
    s.phase("prepare").finish()
    s.phase("plan").finish()
    s.phase("update_core").start()
    s.phase("verify_local").skip("Not running OpenCRVS locally.")
    s.phase("deploy_production").block("The production backup gate is not open.")
    s.current_view = "deploy_production"
    path = tmp_path / "s.toml"
    save_session(path, s)
    return make_app(path, load=True)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_screen(snap_compare, tmp_path, size):
    assert snap_compare(app_with_progress(tmp_path), terminal_size=size)
