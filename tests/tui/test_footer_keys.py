"""The footer shows every key of every screen, whole, at 80 columns (jump hosts), whatever
has the focus: a key the footer cuts off is a key the operator never learns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.session.phases import PHASES
from tests.support.app import make_app
from tests.support.pilot import screen_lines, started

VIEWS = [p.id for p in PHASES] + ["health", "report"]


def _shown_keys(app) -> list[str]:
    """``"m Commit"``-like words of every binding the footer should show now."""
    return [
        f"{app.get_key_display(binding)} {binding.description}"
        for (_, binding, _enabled, _tooltip) in app.screen.active_bindings.values()
        if binding.show
    ]


@pytest.mark.parametrize("view", VIEWS)
async def test_every_key_of_the_screen_is_in_the_footer(tmp_path: Path, view: str) -> None:
    app = make_app(tmp_path / "s.toml", view=view)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        seen: set[str] = set()
        # The sidebar first, then the body's first focusable widgets (a step list adds Enter).
        for _ in range(4):
            footer = screen_lines(app)[-1]
            keys = _shown_keys(app)
            missing = [k for k in keys if k not in footer]
            assert not missing, (view, app.focused, footer)
            assert "^p" in footer  # the command palette
            seen.update(keys)
            await pilot.press("tab")
            await pilot.pause()
        assert {"? Help", "^q Quit"} <= seen


async def test_merge_screen_commit_key_is_shown_with_the_step_list_focused(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path / "s.toml", view="merge_config")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        app.screen.query_one("#steps").focus()
        await pilot.pause()
        footer = screen_lines(app)[-1]
        for words in ("m Commit", "a Abort", "⏎ Run", "h Health"):
            assert words in footer, footer
