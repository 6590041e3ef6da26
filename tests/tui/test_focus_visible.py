"""Where the focus is shows without colour (NO_COLOR), on every focusable widget of every
screen: the focused widget must read differently in glyphs or text style (bold, reverse,
underline), not only in a colour that NO_COLOR removes."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widget import Widget

from tasks.session.phases import PHASES
from tests.support.app import make_app
from tests.support.pilot import started, until

VIEWS = [p.id for p in PHASES] + ["health", "report"]


def _look(app, widget: Widget) -> list[tuple]:
    """The widget and the cell around it (its frame, e.g. an output pane's border around
    its log) as NO_COLOR shows them: text and text styles, colours dropped."""
    region = widget.region.grow((1, 1, 1, 1))
    out = []
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        if not region.y <= y < region.bottom:
            continue
        for seg in strip.crop(region.x, region.right):
            style = seg.style
            out.append(
                (
                    seg.text,
                    bool(style and style.bold),
                    bool(style and style.reverse),
                    bool(style and style.underline),
                )
            )
    return out


CASES = [(view, (100, 40)) for view in ("update_core", "merge_config")] + [
    # 80x24, the operator's jump host, drops the borders of the step screens' lists.
    (view, (80, 24))
    for view in VIEWS
]


@pytest.mark.parametrize(("view", "size"), CASES)
async def test_focus_shows_without_colour(
    tmp_path: Path, monkeypatch, view: str, size: tuple[int, int]
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path / "s.toml", view=view, answers={"target_version": "1.3.5"})
    async with app.run_test(size=size) as pilot:
        await started(pilot)
        checked = await _check_focus_chain(pilot, app, view)
        assert checked


async def _check_focus_chain(pilot, app, where: str) -> set[str]:
    """Focus each widget of the active screen in turn; each must be on screen and look
    different focused (in glyphs or text style). Returns the kinds of widget checked."""
    invisible = []
    off_screen = []
    checked: set[str] = set()
    for widget in list(app.screen.focus_chain):
        kind = type(widget).__name__
        widget.focus()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()  # the scroll to it
        # Focusing scrolls a widget into view: it must then be on screen, whole across.
        screen = app.screen.region
        if not widget.region.intersection(screen).area or widget.region.right > screen.right:
            off_screen.append(f"{kind}#{widget.id}")
            continue
        focused = _look(app, widget)
        app.screen.set_focus(None)
        await pilot.pause()
        if _look(app, widget) == focused:
            invisible.append(f"{kind}#{widget.id}")
        checked.add(kind)
    assert not off_screen, (where, off_screen)
    assert not invisible, (where, invisible)
    return checked


def _dialogs() -> list:
    from rich.text import Text

    from screens.help import HelpScreen
    from screens.modals.confirm import ChoiceModal, ConfirmModal, TextPromptModal

    return [
        ConfirmModal("Abort the merge?", Text("git merge --abort"), "Abort", danger=True),
        ChoiceModal("node 20 is not 16", Text("yarn"), [("a", "Run yarn"), ("b", "Ignore")]),
        TextPromptModal("Deploy to production?", Text("Type production"), "production", "Go"),
        HelpScreen(),
    ]


@pytest.mark.parametrize("index", range(4))
async def test_focus_shows_without_colour_in_dialogs(
    tmp_path: Path, monkeypatch, index: int
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path / "s.toml", view="release")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        dialog = _dialogs()[index]
        app.push_screen(dialog)
        await pilot.pause()
        await pilot.pause()
        assert app.screen is dialog
        assert await _check_focus_chain(pilot, app, type(dialog).__name__)


def _over_the_phase(name: str):
    """A screen to move the focus on, pushed over the Release phase (None: the phase)."""
    from rich.text import Text

    from screens.modals.confirm import ConfirmModal
    from screens.session_guard import SessionUnavailableScreen
    from tasks.errors import CrvsError

    return {
        "phase": lambda: None,
        "dialog": lambda: ConfirmModal("Abort the merge?", Text("git merge --abort"), "Abort"),
        "guard": lambda: SessionUnavailableScreen(CrvsError("held by another instance")),
    }[name]()


@pytest.mark.parametrize("where", ["phase", "dialog", "guard"])
async def test_moving_the_focus_writes_only_what_changed(
    tmp_path: Path, monkeypatch, where: str
) -> None:
    """Tab repaints the widgets losing and gaining the focus, never the whole screen: at
    120x40 a whole screen is about 20 KB, which a slow link makes the operator wait for
    on every key that moves the focus. On a phase, in a dialog over it, and on a screen
    that stands in for the phases."""
    from textual._compositor import Compositor

    whole: list[int] = []
    render_full_update = Compositor.render_full_update

    def counted(self, *args, **kwargs):
        whole.append(1)
        return render_full_update(self, *args, **kwargs)

    monkeypatch.setattr(Compositor, "render_full_update", counted)
    app = make_app(tmp_path / "s.toml", view="release", answers={"target_version": "1.3.5"})
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        screen = _over_the_phase(where)
        if screen is not None:
            app.push_screen(screen)
            await until(pilot, lambda: app.screen is screen and app.focused is not None)
        await pilot.pause(0.2)
        moved = []
        for key in ("tab", "tab", "shift+tab"):
            before, whole[:] = app.focused, []
            await pilot.press(key)
            await pilot.pause(0.2)
            assert not whole, f"{key} from {before} redrew the whole screen"
            moved.append(app.focused is not before)
        assert all(moved), moved


@pytest.mark.parametrize("colour", [True, False], ids=["colour", "no-colour"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_the_by_hand_steps_show_a_bar_when_focused(
    tmp_path: Path, monkeypatch, colour: bool, size: tuple[int, int]
) -> None:
    """A compact list has no border (OptionList says so with !important): the by-hand
    steps mark their focus with a bar on the left, at both sizes (without colour, the
    heavy border every focused list gets)."""
    from tasks.session.state import Session, now_iso
    from tasks.upgrade.plan import accept_plan, update_plan
    from tests.support.plan import full_answers

    if not colour:
        monkeypatch.setenv("NO_COLOR", "1")
    session = Session()
    session.replace_section(
        full_answers(config_path=str(tmp_path / "config"), core_path=str(tmp_path / "core"))
    )
    update_plan(session)
    accept_plan(session, now_iso())
    app = make_app(tmp_path / "s.toml", session=session, view="merge_config")
    async with app.run_test(size=size) as pilot:
        await started(pilot)
        manual = app.screen.query_one("#manual-steps")
        assert manual.display
        assert manual.styles.border_left[0] in ("", "none", "blank")
        manual.focus()
        await pilot.pause()
        assert manual.styles.border_left[0] == ("outer" if colour else "heavy")
