"""The application shell: sidebar navigation, palette, resume, state errors, help."""

from __future__ import annotations

from textual.widgets import OptionList

from screens.help import HelpScreen
from screens.state_error import StateErrorScreen
from tasks.errors import StateFileError
from tasks.session.phases import PHASE_IDS, PhaseStatus
from tasks.session.state import Session, load_session, save_session
from tests.support.app import make_app as support_make_app
from tests.support.pilot import rendered, started
from tui.app import CrvsMigrateApp


def make_app(tmp_path, name="s.toml") -> CrvsMigrateApp:
    return support_make_app(tmp_path / name, load=True)


def app_for_unusable_file(path, content: bytes) -> CrvsMigrateApp:
    """The app as the CLI starts it when the session file cannot be used."""
    path.write_bytes(content)
    app = support_make_app(path, load=True)
    assert isinstance(app.state_error, StateFileError)
    return app


async def test_number_keys_and_j_k_enter_move_between_phases(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert app.current_view == "prepare"
        await pilot.press("4")
        assert app.current_view == "merge_config"
        # The sidebar has focus on every phase screen: no Tab needed.
        assert app.focused is app.screen.query_one("#sidebar", OptionList)
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        assert app.current_view == "release"
        await pilot.press("k", "up", "enter")
        await pilot.pause()
        assert app.current_view == "merge_config"
        await pilot.press("h")
        assert app.current_view == "health"
        await pilot.press("9")
        assert app.current_view == "deploy_production"
    assert load_session(tmp_path / "s.toml").current_view == "deploy_production"


async def test_mouse_click_on_a_phase_opens_it(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        sidebar = app.screen.query_one("#sidebar", OptionList)
        # Row 0 is the border; phases start on row 1: phase 3 is on row 3.
        assert await pilot.click(sidebar, offset=(5, 3))
        await pilot.pause()
        assert app.current_view == "update_core"


async def test_command_palette_goes_to_a_phase_and_to_health(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to verify", "enter")
        await pilot.pause()
        assert app.current_view == "verify_local"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"cluster health", "enter")
        await pilot.pause()
        assert app.current_view == "health"


async def test_the_title_bar_names_the_screen_and_its_icon_opens_the_palette(tmp_path):
    from textual.command import CommandPalette

    from screens.widgets.title_bar import PALETTE_TOOLTIP, TitleBar

    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        bar = app.screen.query_one(TitleBar)
        line = str(bar.render())
        assert len(line) == 100 and line.startswith(" ⭘ ")
        assert line.rstrip().endswith("crvs-migrate — Prepare")
        # The title centred between the icon's cell and the clock's space, as Header has it.
        room = 100 - 8 - 10
        assert line.index("crvs-migrate") == 8 + (room - len("crvs-migrate — Prepare")) // 2
        app.title = "crvs-migrate · READ-ONLY"
        await pilot.pause()
        assert "crvs-migrate · READ-ONLY — Prepare" in str(bar.render())
        await pilot.hover(TitleBar, offset=(50, 0))
        assert bar.tooltip is None
        await pilot.click(TitleBar, offset=(50, 0))  # the title: nothing opens
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        await pilot.hover(TitleBar, offset=(1, 0))
        assert bar.tooltip == PALETTE_TOOLTIP
        await pilot.click(TitleBar, offset=(1, 0))
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)


async def test_session_resumes_where_the_operator_was(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("6")
        app.session.phase("prepare").finish()
        app.save_session()
    second = make_app(tmp_path)
    async with second.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert second.current_view == "release"
        assert second.session.phase("prepare").status is PhaseStatus.DONE
        sidebar = second.screen.query_one("#sidebar", OptionList)
        assert sidebar.get_option_at_index(0).prompt.plain.startswith("✓ 1 Prepare")
        assert sidebar.highlighted == PHASE_IDS.index("release")


async def test_skipped_and_blocked_phases_say_why(tmp_path):
    s = Session()
    s.phase("deploy_qa").skip("OpenCRVS is not deployed to servers yet.")
    s.phase("deploy_production").block("No backup server is provisioned.")
    save_session(tmp_path / "s.toml", s)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("7")
        heading = str(app.screen.query_one("#phase-heading").render())
        assert "Skipped: OpenCRVS is not deployed to servers yet." in heading
        await pilot.press("9")
        heading = str(app.screen.query_one("#phase-heading").render())
        assert "Blocked: No backup server is provisioned." in heading
        prompts = [
            o.prompt.plain for o in app.screen.query_one("#sidebar", OptionList).options if o
        ]
        assert prompts[6].startswith("» 7") and prompts[8].startswith("✗ 9")


async def test_damaged_state_file_shows_the_error_screen_and_is_never_written(tmp_path):
    path = tmp_path / "s.toml"
    damaged = b'schema_version = 1\n[phases.prepare\nstatus = "done"\n'
    app = app_for_unusable_file(path, damaged)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert isinstance(app.screen, StateErrorScreen)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert str(path) in text and "not valid TOML" in text
        # Navigation keys do nothing while the file is unusable.
        await pilot.press("3")
        assert isinstance(app.screen, StateErrorScreen)
        assert path.read_bytes() == damaged
        await pilot.press("n")
        await pilot.pause()
        assert app.current_view == "prepare"
        new_path = app.workspace.state_path
    assert new_path != path and new_path.exists()
    assert path.read_bytes() == damaged


async def test_future_version_state_file_is_reported(tmp_path):
    path = tmp_path / "s.toml"
    content = b"schema_version = 7\n"
    app = app_for_unusable_file(path, content)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "schema version 7" in text
        await pilot.press("q")
    assert path.read_bytes() == content


async def test_question_mark_opens_help_with_the_migration_notes(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        await help_screen.notes_shown()
        assert "Step 2: Update locally and on a QA server" in rendered(app, "#notes-step-2")
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        # Opened again: the same screen, not built (and the notes rendered) a second time.
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is help_screen
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_new_session_file_is_written_at_start(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert (tmp_path / "s.toml").exists()


async def test_a_crash_leaves_a_report_without_local_variables(tmp_path):
    app = make_app(tmp_path)
    secret = "s3cr3t-password-value"

    def explode() -> None:
        typed_by_operator = secret  # noqa: F841 - a local that must not leak
        raise RuntimeError("boom in a screen")

    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            app.call_later(explode)
            await pilot.pause()
    except RuntimeError:
        pass
    assert app.crash_report is not None and app.crash_report.parent == tmp_path
    report = app.crash_report.read_text()
    assert "RuntimeError: boom in a screen" in report
    assert secret not in report
    assert (tmp_path / "s.toml").exists()
