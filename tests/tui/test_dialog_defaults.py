"""A dialog's default button is the safe one, and choosing it says what happened."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Button

from screens.modals.confirm import ConfirmModal
from tasks.release.publish import ReleaseRecord
from tests.support.app import make_app
from tests.support.gitutil import fork_with_upgrade_branch, git
from tests.support.pilot import press_when_shown, started


async def _until(pilot, predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await pilot.pause(0.05)


def _messages(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_enter_on_a_confirmation_cancels_and_says_nothing_was_done(tmp_path: Path) -> None:
    repo, _ = fork_with_upgrade_branch(tmp_path)
    app = make_app(
        tmp_path / "state" / "session.toml",
        view="release",
        answers={"target_version": "1.3.5", "config_path": str(repo)},
    )
    async with app.run_test(size=(110, 50)) as pilot:
        await started(pilot)
        for leave in ("enter", "escape"):
            await press_when_shown(pilot, app, "#tag-create")
            await _until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            assert app.focused is app.screen.query_one("#cancel", Button)  # the safe one
            await pilot.press(leave)
            await _until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
            assert git(repo, "tag").strip() == ""  # nothing was created
            assert ReleaseRecord.of(app.session).tag is None
            assert any(
                m.startswith("Cancelled: Create tag v1.3.5-1") and m.endswith("Nothing was done.")
                for m in _messages(app)
            ), _messages(app)
            app.clear_notifications()
