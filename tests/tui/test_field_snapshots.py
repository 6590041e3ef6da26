"""80x24 terminals, 16 colours and NO_COLOR: snapshots of the main screen, and the narrow sidebar.

tests/tui/test_snapshots_shell.py covers the default theme at 80x24 and 120x40.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.style import Style
from rich.text import Text

from screens.widgets.sidebar import PhaseSidebar
from tasks.session.phases import PHASES, PhaseStatus
from tasks.session.state import Session
from tests.support.app import make_app
from tests.support.pilot import started
from tui.app import CrvsMigrateApp
from tui.themes import auto_theme


def _session() -> Session:
    """Every status at once, so the snapshots show each glyph."""
    session = Session()
    session.phase("prepare").finish()
    session.phase("plan").finish()
    session.phase("update_core").start()
    session.phase("verify_local").skip("not deployed")
    session.phase("deploy_production").block("no backup server")
    session.current_view = "prepare"
    return session


def _app(tmp_path: Path, theme: str | None = None) -> CrvsMigrateApp:
    return make_app(tmp_path / "state.toml", session=_session(), theme=theme)


def test_main_screen_80x24_ansi_theme(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path, theme="ansi-dark"), terminal_size=(80, 24))


def test_main_screen_80x24_no_color(snap_compare, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = _app(tmp_path)
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24))


def _prompts(sidebar: PhaseSidebar) -> list[str]:
    prompts = [sidebar.get_option(p.id).prompt for p in PHASES]
    return [p.plain if isinstance(p, Text) else str(p) for p in prompts]


@pytest.mark.parametrize(("width", "short"), [(80, True), (99, True), (100, False), (120, False)])
async def test_sidebar_keeps_every_phase_whole(tmp_path: Path, width: int, short: bool) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(width, 24)) as pilot:
        await started(pilot)
        sidebar = app.screen.query_one("#sidebar", PhaseSidebar)
        assert sidebar.short_titles is short
        room = sidebar.scrollable_content_region.width - 2  # the option's own padding
        for p, prompt in zip(PHASES, _prompts(sidebar), strict=True):
            title = p.short if short else p.title
            status = app.session.phase(p.id).status
            # Glyph, number and the whole title: nothing cut off by an ellipsis.
            assert prompt == f"{status.glyph} {p.number} {title}"
            assert Text(prompt).cell_len <= room, (prompt, room)
        if short:  # the body keeps most of an 80-column screen
            assert app.screen.query_one("#body").size.width >= width - 24


async def test_resizing_switches_titles_back_and_forth(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        sidebar = app.screen.query_one("#sidebar", PhaseSidebar)
        await pilot.pause()
        assert "Update opencrvs-core" in _prompts(sidebar)[2]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert _prompts(sidebar)[2].endswith("Update core")
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert _prompts(sidebar)[2].endswith("Update opencrvs-core")


@pytest.mark.parametrize(
    ("color_system", "theme"),
    [("standard", "ansi-dark"), ("windows", "ansi-dark"), ("256", None), ("truecolor", None),
     (None, None)],
)  # fmt: skip
def test_auto_theme(color_system: str | None, theme: str | None) -> None:
    assert auto_theme(color_system) == theme


async def test_16_colour_terminal_gets_the_ansi_theme(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "linux")
    monkeypatch.delenv("COLORTERM", raising=False)
    environ = {"TERM": "linux"}
    app = make_app(tmp_path / "state.toml", environ=environ)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert app.console.color_system == "standard"
        assert app.theme == "ansi-dark"


async def test_theme_option_wins(tmp_path: Path) -> None:
    app = make_app(tmp_path / "state.toml", theme="ansi-light", environ={})
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert app.theme == "ansi-light"


def test_unknown_theme_is_a_usage_error(capsys, tmp_path: Path) -> None:
    from tui.cli import main

    assert main(["--theme", "neon", "--state", str(tmp_path / "s.toml")]) == 2
    err = capsys.readouterr().err
    assert "unknown theme 'neon'" in err and "ansi-dark" in err
    assert not (tmp_path / "s.toml").exists()


def test_no_color_prompt_carries_no_colour_at_all() -> None:
    from screens.widgets.sidebar import phase_prompt

    for status in PhaseStatus:
        prompt = phase_prompt(9, "Deploy prod", status, colour=False)
        assert prompt.plain.startswith(status.glyph)
        for span in prompt.spans:
            style = Style.parse(span.style) if isinstance(span.style, str) else span.style
            assert style.color is None and style.bgcolor is None, (status, span)
