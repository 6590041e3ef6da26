"""Tick boxes and radio buttons read without colour (NO_COLOR, 16 colours), alike everywhere.

``[X]`` ticked and ``[ ]`` not, ``(•)`` chosen and ``( )`` not: the glyph alone says it.
Textual's own ``▐X▌``/``▐ ▌`` half blocks drawn without colour look like a filled box either
way, and its radio button shows ``●`` whether chosen or not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical

from screens.widgets.form import AnswerButton, Choice, TickBox
from tests.support.app import make_app
from tests.support.pilot import screen_lines, started


class Gallery(App[None]):
    """Every form control, ticked and unticked side by side."""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield TickBox("ticked", value=True, id="on")
            yield TickBox("unticked", value=False, id="off")
        with Horizontal():
            yield TickBox("compact ticked", value=True, compact=True)
            yield TickBox("compact unticked", value=False, compact=True)
        with Vertical():
            yield Choice([("yes", "Chosen"), ("no", "Not chosen")], "yes", "choice")


def _has_row(lines: list[str], *parts: str) -> bool:
    return any(all(p in line for p in parts) for line in lines)


@pytest.mark.parametrize("no_color", [True, False])
async def test_every_control_says_its_state_in_its_glyph(monkeypatch, no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = Gallery()
    async with app.run_test(size=(80, 16)) as pilot:
        await pilot.pause()
        assert app.no_color is no_color
        lines = screen_lines(app)
        assert _has_row(lines, "[X] ticked", "[ ] unticked"), lines
        assert _has_row(lines, "[X] compact ticked", "[ ] compact unticked"), lines
        assert _has_row(lines, "(•) Chosen") and _has_row(lines, "( ) Not chosen"), lines
        assert not any(c in "".join(lines) for c in "▐▌●"), lines
        # Toggling changes the glyph, not only a colour.
        app.query_one("#off", TickBox).value = True
        await pilot.pause()
        assert _has_row(screen_lines(app), "[X] ticked", "[X] unticked")


def test_ticked_and_unticked_side_by_side_no_color(snap_compare, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(Gallery(), terminal_size=(80, 12))


def test_ticked_and_unticked_side_by_side_ansi_theme(snap_compare) -> None:
    app = Gallery()
    app.theme = "ansi-dark"  # registered by Textual
    assert snap_compare(app, terminal_size=(80, 12))


async def test_deploy_options_read_without_colour(tmp_path: Path, monkeypatch) -> None:
    """The screen where it mattered: an unticked --clear_data=yes must not look ticked."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path / "s.toml", view="deploy_qa", answers={"target_version": "1.3.5"})
    async with app.run_test(size=(110, 50)) as pilot:
        await started(pilot)
        app.screen.query_one("#deploy-yarn", TickBox).value = True
        await pilot.pause()
        assert _has_row(screen_lines(app), "[X] yarn deploy", "[ ] --clear_data=yes")


async def test_gate_strategy_reads_without_colour(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path / "s.toml", view="backup_production")
    async with app.run_test(size=(110, 80)) as pilot:
        await started(pilot)
        buttons = list(app.screen.query_one("#strategy").query(AnswerButton))
        buttons[-1].value = True
        await pilot.pause()
        buttons[-1].scroll_visible(animate=False)
        await pilot.pause()
        lines = screen_lines(app)
        last = str(buttons[-1].label)
        first = str(buttons[0].label)
        assert _has_row(lines, f"(•) {last[:30]}"), lines
        assert _has_row(lines, f"( ) {first[:30]}"), lines
