"""Contextual help, operated by keys: F1 everywhere, ``?`` where it types nothing.

Help opened over a screen starts with that screen: its phase and its part of the migration
notes, its keys (from its active bindings) and its fields (from its labelled widgets); then
the contents and the whole notes. Each phase's part is rendered once and kept.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.widgets import ContentSwitcher, Input, Static

from screens.help import HelpScreen
from screens.modals.confirm import TextPromptModal
from screens.state_error import StateErrorScreen
from tasks.session.phases import PHASES, PHASES_BY_ID, VIEWS, VIEWS_BY_ID
from tasks.upgrade.notes import PHASE_NOTES
from tests.support.app import make_app
from tests.support.pilot import started

VIEW_IDS = [p.id for p in PHASES] + [v.id for v in VIEWS]


def shown_text(widget: Static, width: int = 70) -> str:
    """What a Static shows, as plain text (its content rendered by Rich)."""
    content = widget.content
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(content)
    return console.export_text()


def help_screen_of(app) -> HelpScreen:
    screen = app.screen
    assert isinstance(screen, HelpScreen), type(screen).__name__
    return screen


async def open_help(pilot, key: str = "f1") -> HelpScreen:
    await pilot.press(key)
    await pilot.pause()
    help_screen = help_screen_of(pilot.app)
    await help_screen.notes_shown()  # the whole notes follow help's first frame
    return help_screen


@pytest.mark.parametrize("view_id", VIEW_IDS)
async def test_f1_on_each_phase_opens_help_naming_the_phase_and_its_notes_part(tmp_path, view_id):
    app = make_app(tmp_path / "s.toml", view=view_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        help_screen = await open_help(pilot)
        heading = help_screen.query_one("#help-heading", Static)
        first_lines = shown_text(help_screen.query_one("#help-title", Static)) + shown_text(heading)
        if view_id in PHASES_BY_ID:
            p = PHASES_BY_ID[view_id]
            assert f"Phase {p.number} of 9 · {p.title}" in " ".join(first_lines.split())
        else:
            assert VIEWS_BY_ID[view_id].title in first_lines
        part = PHASE_NOTES[view_id]
        switcher = help_screen.query_one("#help-part", ContentSwitcher)
        if part is None:
            assert "no part" in first_lines
            assert not switcher.display
        else:
            assert part.describe() in " ".join(first_lines.split())
            # The part itself is shown, under its step's heading.
            current = switcher.query_one(f"#{part.key}", Static)
            assert switcher.current == part.key and current.display
            assert part.step in shown_text(current)
        # The first lines really come first: at the top of the help box, before the keys,
        # the phase's notes, the fields, then the contents and the whole notes.
        order = [
            help_screen.query_one(selector).region.y
            for selector in (
                "#help-title",
                "#help-heading",
                "#help-keys",
                "#help-part",
                "#help-fields",
                "#help-contents",
                "#help-all-notes",
            )  # fmt: skip
            if help_screen.query_one(selector).display
        ]
        assert order == sorted(order) and order[0] <= 3
        assert heading.region.y <= 4
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_question_mark_in_a_prepare_field_types_it_and_f1_still_opens_help(tmp_path):
    app = make_app(tmp_path / "s.toml", view="prepare")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        # Tab goes from the sidebar to the first question.
        await pilot.press("tab")
        field = app.screen.query_one("#config_path", Input)
        assert app.focused is field
        await pilot.press("question_mark", "question_mark")
        await pilot.pause()
        assert field.value == "??"
        assert not isinstance(app.screen, HelpScreen)
        help_screen = await open_help(pilot, "f1")
        keys = shown_text(help_screen.query_one("#help-keys", Static))
        assert "A text field has the focus" in keys
        assert "Make the plan" in keys  # Prepare's own keys (ctrl+n)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        assert app.focused is field and field.value == "??"


async def test_question_mark_elsewhere_opens_help_and_escape_or_question_mark_closes(tmp_path):
    app = make_app(tmp_path / "s.toml", view="update_core")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        help_screen = await open_help(pilot, "question_mark")
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        # On a choice of Prepare too (it types nothing): ? opens help.
        await pilot.press("1")
        await pilot.pause()
        app.screen.query_one("#target_version").focus()
        await pilot.pause()
        again = await open_help(pilot, "question_mark")
        assert again is help_screen  # built once, kept
        assert "Phase 1 of 9 · Prepare" in shown_text(again.query_one("#help-heading", Static))
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)
        await open_help(pilot, "f1")
        await pilot.press("f1")  # F1 again closes it
        assert not isinstance(app.screen, HelpScreen)


async def test_help_lists_the_screens_keys_and_fields_never_their_values(tmp_path):
    secret_path = "/srv/ruritania-config-not-for-help"
    app = make_app(tmp_path / "s.toml", view="update_core", answers={"config_path": secret_path})
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        help_screen = await open_help(pilot)
        keys = " ".join(shown_text(help_screen.query_one("#help-keys", Static), width=90).split())
        # The step phase's own keys, each with what it does, and the keys of everywhere.
        assert help_screen.context is not None
        groups = {g.title: {(k.keys, k.what) for k in g.keys} for g in help_screen.context.keys}
        assert {("x", "Cancel"), ("c", "Check"), ("d", "By hand")} <= groups["This screen"]
        assert ("? F1", "This help") in groups["Everywhere"]
        assert "x Cancel · c Check · d By hand" in keys
        assert "Go to phase 1 … 9" in keys and "Command palette" in keys
        fields = shown_text(help_screen.query_one("#help-fields", Static), width=90)
        assert "Steps" in fields
        await pilot.press("escape")
        await pilot.press("1")
        await pilot.pause()
        help_screen = await open_help(pilot)
        keys = shown_text(help_screen.query_one("#help-keys", Static), width=90)
        assert "Make the plan" in keys and "Fill from health" in keys
        fields = " ".join(shown_text(help_screen.query_one("#help-fields", Static)).split())
        assert help_screen.context is not None
        named = {f.name: f.hint for f in help_screen.context.fields}
        assert named["Where is your country config checkout (your fork)?"] == (
            "The current version is read from it, and phase 4 merges the release into it."
        )
        assert "Where is your country config checkout" in fields
        assert "Phase 3 updates it to the release code." in fields  # a field's hint
        # Hidden until answered: Prepare's core fork questions.
        assert "Path of your opencrvs-core fork" not in named
        assert secret_path not in fields and secret_path not in keys


async def test_help_over_a_dialog_tells_the_dialogs_keys_and_question_mark_types_in_it(tmp_path):
    app = make_app(tmp_path / "s.toml", view="merge_config")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        dialog = TextPromptModal("Done by hand", "What did you do?", "what you did", "Record")
        app.push_screen(dialog)
        await pilot.pause()
        answer = dialog.query_one("#answer", Input)
        answer.focus()
        await pilot.press("w", "h", "y", "question_mark")
        await pilot.pause()
        assert app.screen is dialog and answer.value == "why?"
        help_screen = await open_help(pilot, "f1")
        heading = " ".join(shown_text(help_screen.query_one("#help-heading", Static)).split())
        assert "Phase 4 of 9 · Merge the country config" in heading  # the phase under it
        keys = shown_text(help_screen.query_one("#help-keys", Static))
        assert "Dialog: Done by hand" in keys and "This dialog" in keys and "Cancel" in keys
        fields = shown_text(help_screen.query_one("#help-fields", Static))
        assert "what you did" in fields and "Record" in fields
        await pilot.press("escape")
        assert app.screen is dialog and answer.value == "why?"


async def test_each_part_is_rendered_once_and_kept(tmp_path):
    app = make_app(tmp_path / "s.toml", view="update_core")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        help_screen = await open_help(pilot)
        switcher = help_screen.query_one("#help-part", ContentSwitcher)
        core_part = switcher.query_one(f"#{PHASE_NOTES['update_core'].key}", Static)
        notes = help_screen.query_one("#notes-step-2", Static)
        keys = help_screen.query_one("#help-keys", Static).content
        # Opened again over the same screen as it was: nothing is rendered again.
        await pilot.press("escape", "f1")
        await pilot.pause()
        assert help_screen.query_one("#help-keys", Static).content is keys
        for key in ("escape", "4", "f1", "escape", "1", "f1", "escape", "2", "f1", "escape"):
            await pilot.press(key)
            await pilot.pause()
        # Prepare and Plan show the same part: one Static for both.
        assert [c.id for c in switcher.children] == [
            PHASE_NOTES[v].key for v in ("update_core", "merge_config", "prepare")
        ]
        await pilot.press("3", "f1")
        await pilot.pause()
        assert help_screen_of(app) is help_screen
        assert switcher.query_one(f"#{PHASE_NOTES['update_core'].key}") is core_part
        assert help_screen.query_one("#notes-step-2") is notes


async def test_contents_keys_jump_to_a_step_and_back_to_the_top(tmp_path):
    app = make_app(tmp_path / "s.toml", view="deploy_qa")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        help_screen = await open_help(pilot)
        box = help_screen.query_one("#help-box")
        contents = shown_text(help_screen.query_one("#help-contents", Static))
        assert "3  Step 3: Upgrade your production server environments" in contents
        assert box.scroll_y == 0
        await pilot.press("3")
        await pilot.pause()
        step_3 = help_screen.query_one("#notes-step-3")
        assert box.scroll_y > 0 and step_3.region.y <= box.region.y + 2
        await pilot.press("1")
        await pilot.pause()
        assert help_screen.query_one("#notes-step-1").region.y <= box.region.y + 2
        await pilot.press("t")
        await pilot.pause()
        assert box.scroll_y == 0
        # Opened again: from the top.
        await pilot.press("3", "escape", "f1")
        await pilot.pause()
        assert box.scroll_y == 0
        # The contents are clickable too: line 4 is Step 3.
        contents_widget = help_screen.query_one("#help-contents")
        box.scroll_to_widget(contents_widget, animate=False, top=True)
        await pilot.pause()
        assert await pilot.click(contents_widget, offset=(8, 4))
        await pilot.pause()
        assert step_3.region.y <= box.region.y + 2


async def test_going_to_a_phase_from_help_leaves_help_behind(tmp_path):
    app = make_app(tmp_path / "s.toml", view="update_core")
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await open_help(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to verify", "enter")
        await pilot.pause()
        assert app.current_view == "verify_local"
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("3")
        await pilot.pause()
        # Help is not left open over the phase it was opened on.
        assert app.current_view == "update_core" and not isinstance(app.screen, HelpScreen)
        help_screen = await open_help(pilot)
        assert "Phase 3 of 9" in shown_text(help_screen.query_one("#help-heading", Static))


async def test_f1_on_the_damaged_session_screen_tells_its_keys(tmp_path):
    path = tmp_path / "s.toml"
    damaged = b"schema_version = 1\n[phases.prepare\n"
    path.write_bytes(damaged)
    app = make_app(path, load=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert isinstance(app.screen, StateErrorScreen)
        help_screen = await open_help(pilot)
        keys = " ".join(shown_text(help_screen.query_one("#help-keys", Static)).split())
        assert "n New session in another file" in keys and "q Quit" in keys
        assert not help_screen.query_one("#help-part").display  # no phase: no part
        await pilot.press("escape")
        assert isinstance(app.screen, StateErrorScreen)
    assert path.read_bytes() == damaged


def test_help_at_80x24_on_merge_config(snap_compare, tmp_path):
    app = make_app(tmp_path / "s.toml", view="merge_config")
    assert snap_compare(app, terminal_size=(80, 24), press=["f1"])


async def test_the_notes_markdown_is_drawn_once_per_width_not_once_to_measure_and_again_to_show():
    from rich.console import ConsoleOptions, RenderResult
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from screens.help import DrawnOnce

    class Counted:
        drawn = 0

        def __rich_console__(self, console: object, options: ConsoleOptions) -> RenderResult:
            Counted.drawn += 1
            yield Text("a line of the notes " * 8)

    class One(App[None]):
        def __init__(self, renderable) -> None:
            super().__init__()
            self.renderable = renderable

        def compose(self) -> ComposeResult:
            yield Static(self.renderable, id="notes")

    drawn = {}
    for name, renderable in (("as is", Counted()), ("drawn once", DrawnOnce(Counted()))):
        Counted.drawn = 0
        app = One(renderable)
        async with app.run_test(size=(60, 20)) as pilot:
            await pilot.pause()
            at_60 = Counted.drawn
            await pilot.resize_terminal(40, 20)
            await pilot.pause()
            drawn[name] = (at_60, Counted.drawn - at_60)
            assert "a line of the notes" in app.screen._compositor.render_strips()[0].text
    # Textual draws a renderable to measure its height and again to show it.
    assert drawn["as is"][0] >= 2 and drawn["as is"][1] >= 2, drawn
    assert drawn["drawn once"] == (1, 1), drawn
