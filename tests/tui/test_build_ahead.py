"""Every phase's frame is built, hidden, while the first screen is read (as the CLI asks):
a first visit then shows the session as it is by then, in the theme and size of the
moment, and nothing typed meanwhile is lost."""

from __future__ import annotations

from textual.widgets import Input

from screens.base import PhaseScreen
from screens.widgets.sidebar import PhaseSidebar
from tasks.session.phases import PHASES, VIEWS, PhaseStatus
from tests.support.app import make_app
from tests.support.pilot import app_phase_shown, static_text, until

EVERY_VIEW = [p.id for p in PHASES] + [v.id for v in VIEWS]


async def built_ahead(pilot) -> None:
    """Until the app's work after its first screen (imports, then the frames) is over:
    every screen made and running (only that work makes the screens not visited)."""
    app = pilot.app
    await app_phase_shown(app)

    def done() -> bool:
        return all(
            app.is_screen_installed(v) and app.get_screen(v).is_running for v in EVERY_VIEW
        ) and not [w for w in app.workers if w.group == "import-ahead"]

    await until(pilot, done, timeout=30)


def prompt_of(screen: PhaseScreen, phase_id: str) -> str:
    return str(screen.query_one("#sidebar", PhaseSidebar).get_option(phase_id).prompt)


async def test_every_frame_is_built_hidden_and_no_body_is_mounted(tmp_path):
    app = make_app(tmp_path / "s.toml", view="update_core", build_ahead=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await built_ahead(pilot)
        first = app.screen
        assert isinstance(first, PhaseScreen) and first.view_id == "update_core"
        for view_id in EVERY_VIEW:
            screen = app.get_screen(view_id)
            assert isinstance(screen, PhaseScreen) and screen.is_running, view_id
            if screen is not first:
                assert screen.query("#sidebar") and not screen.body_ready, view_id
        assert app.screen_stack[-1] is first and first.body_ready
        # Help too, after the frames: mounted, not shown; the first ? shows that screen.
        help_screen = app.get_screen("help")
        assert help_screen.is_running and help_screen not in app.screen_stack
        await pilot.press("question_mark")
        await until(pilot, lambda: app.screen is help_screen)
        await pilot.pause()


async def test_a_frame_built_ahead_shows_the_session_as_it_is_when_shown(tmp_path):
    app = make_app(tmp_path / "s.toml", view="update_core", build_ahead=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await built_ahead(pilot)
        merge = app.get_screen("merge_config")
        assert isinstance(merge, PhaseScreen)
        before = prompt_of(merge, "update_core")
        # A change after the frames were built: the phase on screen finishes.
        app.session.phase("update_core").finish()
        app.save_session()
        assert app.session.phase("update_core").status is PhaseStatus.DONE
        # What the first frame shows, before the body (which reads the session again).
        first_frame: list[str] = []
        mount_body = merge._mount_body

        async def noted() -> None:
            first_frame.append(prompt_of(merge, "update_core"))
            await mount_body()

        merge._mount_body = noted  # type: ignore[method-assign]
        app.action_navigate("merge_config")
        await until(pilot, lambda: app.current_view == "merge_config")
        await merge.body_shown()
        current = prompt_of(app.get_screen("update_core"), "update_core")
        assert current != before and first_frame == [current]
        assert prompt_of(merge, "update_core") == current


async def test_a_frame_built_ahead_takes_a_theme_and_a_size_changed_since(tmp_path):
    app = make_app(tmp_path / "s.toml", view="update_core", build_ahead=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await built_ahead(pilot)
        core = app.screen
        dark = core.query_one("#sidebar").styles.background
        app.theme = "textual-light"
        await pilot.pause()
        light = core.query_one("#sidebar").styles.background
        assert light != dark
        app.action_navigate("merge_config")
        await until(pilot, lambda: app.current_view == "merge_config")
        merge = app.screen
        assert isinstance(merge, PhaseScreen)
        await merge.body_shown()
        assert merge.query_one("#sidebar").styles.background == light

        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        app.action_navigate("verify_local")
        await until(pilot, lambda: app.current_view == "verify_local")
        verify = app.screen
        assert isinstance(verify, PhaseScreen)
        await verify.body_shown()
        await pilot.pause()
        assert verify.has_class("-narrow") and not verify.has_class("-wide")
        assert verify.query_one("#sidebar", PhaseSidebar).short_titles


def _drawn(app) -> list[list[tuple[str, object]]]:
    """The screen as drawn: every cell's text and style, row by row."""
    return [
        [(seg.text, seg.style) for seg in strip] for strip in app.screen._compositor.render_strips()
    ]


async def _first_visit_after_changes(app, pilot, size: tuple[int, int]):
    app.theme = "textual-light"
    app.session.phase("release").start()  # the sidebar of every frame shows it
    app.save_session()
    if size != app.size:
        await pilot.resize_terminal(*size)
    await pilot.pause()
    app.action_navigate("deploy_qa")
    await until(pilot, lambda: app.current_view == "deploy_qa")
    await app.screen.body_shown()
    await pilot.pause()
    return _drawn(app)


async def test_a_frame_drawn_ahead_shows_what_a_frame_made_on_the_visit_shows(tmp_path):
    # Hidden frames are drawn ahead into their widgets' caches: a theme, a status or a
    # size changed since must still be drawn as a screen made on the spot draws it.
    for size in ((120, 40), (80, 24)):
        drawn = []
        for ahead in (True, False):
            app = make_app(
                tmp_path / f"{ahead}-{size[0]}.toml", view="update_core", build_ahead=ahead
            )
            async with app.run_test(size=(120, 40)) as pilot:
                if ahead:
                    await built_ahead(pilot)
                    sidebar = app.get_screen("deploy_qa").query_one("#sidebar")
                    await until(pilot, lambda s=sidebar: bool(s._styles_cache._cache))
                else:
                    await app_phase_shown(app)
                drawn.append(await _first_visit_after_changes(app, pilot, size))
        ahead_rows, made_rows = drawn
        assert any("◐" in "".join(t for t, _ in row) for row in made_rows)
        for y, (a, b) in enumerate(zip(ahead_rows, made_rows, strict=True)):
            assert a == b, (size, y, "".join(t for t, _ in a), "".join(t for t, _ in b))


async def test_keys_typed_while_frames_are_built_all_arrive(tmp_path):
    app = make_app(tmp_path / "s.toml", view="prepare", build_ahead=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await app_phase_shown(app)
        prepare = app.screen
        field = prepare.query_one("#config_path", Input)
        field.focus()
        typed = "/srv/opencrvs/farajaland"
        for ch in typed:
            await pilot.press(ch)
        await until(pilot, lambda: field.value == typed, timeout=10)
        await built_ahead(pilot)
        assert field.value == typed and app.screen is prepare
        assert all(app.is_screen_installed(v) for v in EVERY_VIEW)


async def test_quitting_while_frames_are_built_stops_the_building(tmp_path):
    app = make_app(tmp_path / "s.toml", view="update_core", build_ahead=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await app_phase_shown(app)
        await until(pilot, lambda: sum(app.is_screen_installed(v) for v in EVERY_VIEW) >= 2)
        app.exit()
    assert app.return_code == 0


async def test_building_stops_at_the_first_frame_once_the_app_is_closing(tmp_path):
    app = make_app(tmp_path / "s.toml", view="update_core")
    async with app.run_test(size=(120, 40)) as pilot:
        await app_phase_shown(app)
        await pilot.pause()
        installed = [v for v in EVERY_VIEW if app.is_screen_installed(v)]
        assert installed == ["update_core"]
        asked: list[bool] = []

        def closing() -> bool:
            # Asked before each frame not built yet: open for the first, closing after.
            asked.append(True)
            return len(asked) > 1

        assert await app.views.build_ahead(closing) is False
        built = [v for v in EVERY_VIEW if app.is_screen_installed(v)]
        assert len(built) == 2 and "update_core" in built, built


def test_the_phases_nearest_the_current_one_are_built_first() -> None:
    from tui.views import Views

    order = Views(None).build_order("verify_local")  # type: ignore[arg-type]
    assert order[:5] == ["verify_local", "release", "merge_config", "deploy_qa", "update_core"]
    assert sorted(order) == sorted(EVERY_VIEW)
    assert Views(None).build_order(None)[:2] == ["prepare", "plan"]  # type: ignore[arg-type]


async def test_typing_into_a_field_holds_the_building_longer_than_other_keys(tmp_path):
    from tui.views import QUIET_S, TYPING_QUIET_S

    app = make_app(tmp_path / "s.toml", view="prepare")
    async with app.run_test(size=(120, 40)) as pilot:
        await app_phase_shown(app)
        field = app.screen.query_one("#config_path", Input)
        field.focus()
        await pilot.pause()
        await pilot.press("x")
        assert app.views.quiet_s == TYPING_QUIET_S > QUIET_S
        await pilot.press("tab")  # not typing: a key elsewhere holds it the usual time
        assert app.views.quiet_s == QUIET_S
        app.screen.query_one("#sidebar").focus()
        await pilot.pause()
        await pilot.press("j")  # a letter, but a key for the list, not text for a field
        assert app.views.quiet_s == QUIET_S


async def test_the_palettes_export_reaches_a_report_frame_built_ahead(tmp_path):
    # The report's frame is built, its body not mounted yet: the export must not look
    # for the body's lines (it did: the app crashed), and shows them once they are there.
    app = make_app(tmp_path / "s.toml", view="update_core", build_ahead=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await built_ahead(pilot)
        assert not app.get_screen("report").body_ready
        await pilot.press("ctrl+p")
        await pilot.press(*"Export report", "enter")
        await until(pilot, lambda: app.current_view == "report")
        await app.screen.body_shown()
        await pilot.pause()
        out = app.screen.last_export
        assert out is not None and out.html.is_file()
        assert "Report written" in static_text(app, "#report-paths")
        assert str(out.html) in static_text(app, "#report-paths")


def _sidebar_rows(app) -> dict[str, tuple[str, object]]:
    """Each phase's line in the sidebar as drawn on screen: its text and the background
    under its title."""
    rows = {}
    for strip in app.screen._compositor.render_strips():
        text = strip.text
        for p in PHASES:
            if f" {p.number} " in text[:8] and p.short[:6] in text:
                segment = next(seg for seg in strip if p.short[:3] in seg.text)
                rows[p.id] = (text[:34], segment.style.bgcolor if segment.style else None)
    return rows


async def test_every_sidebar_draws_its_own_highlight_and_the_statuses_of_the_moment(tmp_path):
    # The sidebars of all screens share what they drew: none may show another's
    # highlight, or a status as it was.
    app = make_app(tmp_path / "s.toml", view="update_core", build_ahead=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await built_ahead(pilot)
        before = _sidebar_rows(app)
        assert "○" in before["merge_config"][0]
        app.session.phase("merge_config").start()
        app.save_session()
        for view_id in ("merge_config", "verify_local", "update_core"):
            app.action_navigate(view_id)
            await until(pilot, lambda view_id=view_id: app.current_view == view_id)
            await app.screen.body_shown()
            await pilot.pause()
            rows = _sidebar_rows(app)
            assert PhaseStatus.IN_PROGRESS.glyph in rows["merge_config"][0], view_id
            highlighted = {phase for phase, (_, bg) in rows.items() if bg != rows["plan"][1]}
            assert highlighted == {view_id}, (view_id, rows)


def test_the_app_runs_with_a_short_switch_interval_and_the_old_one_comes_back(
    tmp_path, monkeypatch
):
    """Textual writes each frame from its own thread: under Python's 5 ms interval, the
    app's work after a frame (a phase's body) held the frame back from the terminal."""
    import sys

    from tui import cli
    from tui.app import CrvsMigrateApp

    during: list[float] = []
    monkeypatch.setattr(CrvsMigrateApp, "run", lambda self: during.append(sys.getswitchinterval()))
    before = sys.getswitchinterval()
    assert before != cli.SWITCH_INTERVAL_S
    assert cli.main(["--state", str(tmp_path / "s.toml")]) == 0
    assert during == [cli.SWITCH_INTERVAL_S]
    assert sys.getswitchinterval() == before
