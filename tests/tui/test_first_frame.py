"""A phase's first visit: its frame is drawn first, its body a frame later, and keys
pressed in between wait for the body (nothing typed is lost or reordered)."""

from __future__ import annotations

import asyncio

from textual import events
from textual.widgets import Input, OptionList

from screens.base import PhaseHeading, PhaseScreen
from tests.support.app import make_app
from tests.support.pilot import until


async def test_the_frame_is_drawn_before_the_body(tmp_path):
    app = make_app(tmp_path / "s.toml", view="verify_local")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current_view == "verify_local")
        app.action_navigate("update_core")
        screen = app.screen
        assert isinstance(screen, PhaseScreen) and screen.view_id == "update_core"
        async with asyncio.timeout(10):
            while not screen.query(PhaseHeading):
                await asyncio.sleep(0)
        # Shown: the heading and sidebar are there, the steps are not mounted yet.
        assert "Phase 3 of 9" in str(screen.query_one(PhaseHeading).render())
        assert screen.query_one("#sidebar", OptionList).highlighted is not None
        assert not screen.body_ready
        assert not screen.query("#steps")
        await screen.body_shown()
        assert screen.body_ready
        assert screen.query_one("#steps", OptionList)


async def test_keys_pressed_before_the_body_reach_it_in_order(tmp_path):
    app = make_app(tmp_path / "s.toml", view="verify_local")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current_view == "verify_local")
        screen = app.screen
        assert isinstance(screen, PhaseScreen)
        await screen.body_shown()
        app.action_navigate("prepare")
        prepare = app.screen
        assert isinstance(prepare, PhaseScreen) and not prepare.body_ready
        # A fast typist's keys, all at once, before Prepare's body exists. Without
        # waiting, Tab and the letters would meet the sidebar and be lost.
        for key, character in (("tab", None), ("a", "a"), ("b", "b"), ("c", "c")):
            app.post_message(events.Key(key, character))
        await prepare.body_shown()
        field = prepare.query_one("#config_path", Input)
        await until(pilot, lambda: field.value == "abc", timeout=10)
        assert prepare.focused is field


async def test_keys_typed_after_a_tab_reach_the_field_it_moves_to(tmp_path):
    # The body is there long since: nothing waits for it. A burst read from the terminal
    # in one go (a fast typist, a slow link) is a Tab and letters queued together; the
    # Tab moves the focus only once it has bubbled up to the screen's binding.
    app = make_app(tmp_path / "s.toml")
    async with app.run_test(size=(120, 40)) as pilot:
        prepare = app.screen
        assert isinstance(prepare, PhaseScreen) and prepare.view_id == "prepare"
        await prepare.body_shown()
        await prepare.form_ready()  # type: ignore[attr-defined]
        sidebar = prepare.query_one("#sidebar", OptionList)
        sidebar.focus()
        await pilot.pause()
        for key, character in (("tab", None), ("s", "s"), ("r", "r"), ("v", "v")):
            app.post_message(events.Key(key, character))
        field = prepare.query_one("#config_path", Input)
        await until(pilot, lambda: field.value == "srv", timeout=10)
        assert prepare.focused is field


async def test_a_body_that_never_comes_does_not_hold_the_keys_for_ever(tmp_path, monkeypatch):
    async def never(self) -> None:
        """The body's mount is never started (as for a screen left before its frame)."""

    app = make_app(tmp_path / "s.toml", view="verify_local")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current_view == "verify_local")
        await app.screen.body_shown()
        monkeypatch.setattr(PhaseScreen, "_mount_body", never)
        app.action_navigate("update_core")
        stuck = app.screen
        assert isinstance(stuck, PhaseScreen)
        app.post_message(events.Key("4", "4"))
        await pilot.pause(0.5)
        assert app.screen is stuck  # held: the body may yet come
        # After at most WAIT_FOR_BODY_AT_MOST_S the key goes on.
        await until(pilot, lambda: app.current_view == "merge_config", timeout=10)
        # Its frame finished mounting before the test quits (quitting in the middle of a
        # Header's mount meets a Textual race: its title watcher finds no title).
        await until(pilot, lambda: bool(app.screen.query(PhaseHeading)), timeout=10)
        await pilot.pause()


async def test_keys_typed_before_the_first_screen_reach_it(tmp_path, monkeypatch):
    """The first screen comes a moment after the app starts (once Textual's start-up is
    over): keys typed on the blank screen before it wait for it and its body."""
    from tui.app import CrvsMigrateApp

    mount = CrvsMigrateApp.on_mount
    seen_by: list[str | None] = []

    def typed_first(self: CrvsMigrateApp) -> None:
        # Queued before the first screen is asked for: handled while the blank one shows.
        for key, character in (("tab", None), ("x", "x"), ("y", "y")):
            self.post_message(events.Key(key, character))
        self.call_later(lambda: seen_by.append(self.screen.id))
        mount(self)

    monkeypatch.setattr(CrvsMigrateApp, "on_mount", typed_first)
    app = make_app(tmp_path / "s.toml")
    async with app.run_test(size=(120, 40)) as pilot:
        prepare = app.screen
        assert seen_by == ["_default"]
        assert isinstance(prepare, PhaseScreen) and prepare.view_id == "prepare"
        await prepare.body_shown()
        field = prepare.query_one("#config_path", Input)
        await until(pilot, lambda: field.value == "xy", timeout=10)
        assert prepare.focused is field


async def _shown(pilot, app, view_id: str) -> PhaseScreen:
    app.action_navigate(view_id)
    await until(pilot, lambda: app.current_view == view_id)
    screen = app.screen
    assert isinstance(screen, PhaseScreen)
    await screen.body_shown()
    await pilot.pause()
    return screen


async def test_a_screen_shown_again_is_restyled_only_when_something_changed(tmp_path, monkeypatch):
    """A phase shown again keeps its styles when nothing they depend on changed while it
    was hidden; after a theme change or a resize it is restyled as Textual would."""
    from textual.css.stylesheet import Stylesheet

    restyled: list[str] = []
    update_nodes = Stylesheet.update_nodes

    def counted(self, nodes, animate=False):
        nodes = list(nodes)
        restyled.extend(type(n).__name__ for n in nodes)
        return update_nodes(self, nodes, animate)

    app = make_app(tmp_path / "s.toml", view="update_core")
    async with app.run_test(size=(120, 40)) as pilot:
        core = await _shown(pilot, app, "update_core")
        await _shown(pilot, app, "merge_config")
        monkeypatch.setattr(Stylesheet, "update_nodes", counted)
        assert await _shown(pilot, app, "update_core") is core
        assert "PhaseSidebar" not in restyled  # nothing changed: not restyled

        merge = await _shown(pilot, app, "merge_config")
        dark = core.query_one("#sidebar").styles.background
        app.theme = "textual-light"
        await pilot.pause()
        light = merge.query_one("#sidebar").styles.background
        assert light != dark
        await _shown(pilot, app, "update_core")
        assert core.query_one("#sidebar").styles.background == light

        await _shown(pilot, app, "merge_config")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert merge.has_class("-narrow")
        await _shown(pilot, app, "update_core")
        assert core.has_class("-narrow") and not core.has_class("-wide")


async def test_a_release_phase_shown_again_unchanged_is_not_laid_out_again(tmp_path, monkeypatch):
    """Phases 5 to 9 refresh each result and command from the session when shown again:
    the same text is not laid out and drawn again; a changed text is."""
    from textual.screen import Screen

    from screens.widgets.status_text import StatusText

    laid_out: list[str] = []
    refresh_layout = Screen._refresh_layout

    def counted(self, *args, **kwargs):
        laid_out.append(type(self).__name__)
        return refresh_layout(self, *args, **kwargs)

    app = make_app(tmp_path / "s.toml", view="update_core")
    async with app.run_test(size=(120, 40)) as pilot:
        verify = await _shown(pilot, app, "verify_local")
        await _shown(pilot, app, "update_core")
        # Once more first: what the first visit left to lay out (the body's last
        # widgets) is done by then.
        await _shown(pilot, app, "verify_local")
        await _shown(pilot, app, "update_core")
        monkeypatch.setattr(Screen, "_refresh_layout", counted)
        assert await _shown(pilot, app, "verify_local") is verify
        await pilot.pause()
        assert "VerifyLocalScreen" not in laid_out

        verify.refresh_from_session()  # every box again, from the same session
        await pilot.pause()
        assert "VerifyLocalScreen" not in laid_out
        box = verify.query_one("#plan-box", StatusText)
        box.update(f"{box.content}\nand one more line")
        await pilot.pause()
        assert "VerifyLocalScreen" in laid_out
        assert "and one more line" in str(box.render())
        # The same words in another style are a change (a ✗ turning into a ✓ line).
        from rich.text import Text

        box.update(Text("✗ not yet", style="bold red"))
        box.update(Text("✗ not yet", style="green"))
        assert box.content.style == "green"
        box.update(Text("✗ not yet", style="green"))
        assert box.content.style == "green"
