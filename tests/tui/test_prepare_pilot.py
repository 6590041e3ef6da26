"""Pilot tests of the Prepare form and the Plan screen, keyboard only, on real git checkouts."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tasks.servers.health import HealthRecord
from tasks.servers.resources import NodeResources
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, load_session
from tasks.units import GIB
from tasks.upgrade.answers import Answers, CitizenRegistration, EnvironmentId
from tasks.upgrade.plan import load_plan
from tests.support.app import make_app
from tests.support.pilot import started
from tests.support.plan import detection_done, full_answers, make_checkout

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Paths are typed relative to here: short to type (every key re-lays out the form).
    monkeypatch.chdir(tmp_path)


def checkouts(tmp_path: Path, versions: list[str] | None = None) -> tuple[Path, Path]:
    config = make_checkout(tmp_path / "config", versions or ["1.3.0"])
    core = make_checkout(tmp_path / "core", ["1.3.0"])
    return config, core


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


def focused_id(app) -> str | None:
    return app.focused.id if app.focused is not None else None


def error_text(app, field_id: str) -> str:
    error = app.screen.query_one(f"#{field_id}-error", Static)
    return str(error.content) if error.display else ""


async def test_fill_the_whole_form_by_keyboard_only(tmp_path: Path) -> None:
    config, core = checkouts(tmp_path)
    app = make_app(tmp_path / "state.toml")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert app.screen.__class__.__name__ == "PrepareScreen"
        await pilot.press("tab")
        assert focused_id(app) == "config_path"
        await type_text(pilot, "config")
        await pilot.press("enter")
        assert focused_id(app) == "core_path"
        await type_text(pilot, "core")
        await pilot.press("enter")
        await detection_done(app)
        await pilot.pause()
        assert focused_id(app) == "current_version"
        assert app.screen.query_one("#current_version", Input).value == "1.3.0"
        await pilot.press("enter")  # keep the detected version
        assert focused_id(app) == "target_version"
        await pilot.press("enter")  # keep the latest
        assert focused_id(app) == "core_customised"
        await pilot.press("enter")  # Yes: the fork's path and remote appear
        assert focused_id(app) == "core_fork_path"
        await type_text(pilot, "core")
        await pilot.press("enter")
        await type_text(pilot, "upstream")
        await pilot.press("enter")
        assert focused_id(app) == "integrations"
        await pilot.press("enter")
        assert focused_id(app) == "integrations_list"
        await type_text(pilot, "DHIS2")
        await pilot.press("enter")
        assert focused_id(app) == "fully_configured"
        await pilot.press("enter", "enter")  # configured: yes; registrars: yes
        assert focused_id(app) == "real_citizens"
        await pilot.press("down", "down", "enter")  # in production
        assert focused_id(app) == "deployed"
        await pilot.press("enter")  # yes
        assert focused_id(app) == "server_kind"
        await pilot.press("enter")  # dedicated
        assert focused_id(app) == "has-staging"
        await pilot.press("tab", "enter", "tab", "enter", "tab")  # QA and production
        assert focused_id(app) == "env-qa-ram_gb"
        for value in ("16", "8", "320", "1"):
            await type_text(pilot, value)
            await pilot.press("enter")
        assert focused_id(app) == "env-qa-servers"
        await pilot.press("enter", "enter")  # both optional
        assert focused_id(app) == "env-production-ram_gb"
        for value in ("32", "8", "500", "3"):
            await type_text(pilot, value)
            await pilot.press("enter")
        await type_text(pilot, "manager1=200/12, worker1=180/10")
        await pilot.press("enter", "enter")
        assert focused_id(app) == "backup_server"
        await pilot.press("enter", "enter")  # backup server yes, automated backups yes
        assert focused_id(app) == "installation"  # optional: it titles the report
        await type_text(pilot, "Farajaland production")
        await pilot.press("enter")
        assert focused_id(app) == "done"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "PlanScreen"
        assert app.session.phase("prepare").status is PhaseStatus.DONE
        answers = Answers.of(app.session)
        assert answers.complete
        assert answers.core_customised and answers.core_upstream_remote == "upstream"
        assert answers.real_citizens is CitizenRegistration.PRODUCTION
        assert answers.environments[EnvironmentId.QA].cluster_size == 1
        assert [s.node for s in answers.environments[EnvironmentId.PRODUCTION].servers] == [
            "manager1",
            "worker1",
        ]
        assert EnvironmentId.STAGING not in answers.environments
        assert app.session.installation == "Farajaland production"
        plan = load_plan(app.session)
        assert plan is not None and plan.step_applies("update_core", "merge_core_fork")
        text = app.screen.plan_text
        assert "Upgrade 1.3.0 → 1.3.5" in text and "Test your integrations on QA" in text
        assert app.session.phase("plan").status is PhaseStatus.IN_PROGRESS
        await pilot.press("a")
        assert app.session.phase("plan").status is PhaseStatus.DONE
        kinds = [(e["kind"], e.get("step")) for e in app.workspace.journal.entries()]
        assert ("command", "detect_version") in kinds
        assert ("confirmation", "review_plan") in kinds
        assert "✓ Plan accepted." in app.screen.plan_text


async def test_invalid_inputs_show_their_reason_and_do_not_advance(tmp_path: Path) -> None:
    app = make_app(tmp_path / "state.toml")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("tab")
        await type_text(pilot, "nowhere")
        assert "does not exist" in error_text(app, "config_path")
        await pilot.press("enter")
        assert focused_id(app) == "config_path"
        await pilot.press("ctrl+u")
        (tmp_path / "plain").mkdir()
        await type_text(pilot, "plain")
        assert "not a git repository" in error_text(app, "config_path")
        await pilot.press("enter")
        assert focused_id(app) == "config_path"

        app.screen.query_one("#current_version", Input).focus()
        await type_text(pilot, "1.three")
        assert "is not a version" in error_text(app, "current_version")
        await pilot.press("enter")
        assert focused_id(app) == "current_version"
        await pilot.press("ctrl+u", "enter")  # empty and required
        assert "Enter a version" in error_text(app, "current_version")
        assert focused_id(app) == "current_version"
        await type_text(pilot, "1.3.5")
        await pilot.pause()
        assert "nothing to upgrade" in error_text(app, "target_version")

        # A conditional field: cluster size only in {1, 3, 5}, numbers positive.
        app.screen.query_one("#deployed").focus()
        await pilot.press("enter", "enter")  # deployed yes, dedicated
        await pilot.press("tab", "enter", "tab", "tab")  # tick QA, on past production to QA's RAM
        assert focused_id(app) == "env-qa-ram_gb"
        await type_text(pilot, "0")
        assert "more than 0" in error_text(app, "env-qa-ram_gb")
        await pilot.press("enter")
        assert focused_id(app) == "env-qa-ram_gb"
        app.screen.query_one("#env-qa-cluster_size", Input).focus()
        await type_text(pilot, "2")
        assert "1, 3 or 5" in error_text(app, "env-qa-cluster_size")
        await pilot.press("enter")
        assert focused_id(app) == "env-qa-cluster_size"
        # Done refuses, and says how many answers are missing.
        await pilot.press("ctrl+n")
        assert app.screen.__class__.__name__ == "PrepareScreen"
        assert app.session.phase("prepare").status is PhaseStatus.IN_PROGRESS
        summary = str(app.screen.query_one("#form-summary", Static).content)
        assert "still needed or invalid" in summary


async def test_answers_survive_an_app_restart(tmp_path: Path) -> None:
    config, core = checkouts(tmp_path)
    state = tmp_path / "state.toml"
    app = make_app(state)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("tab")
        await type_text(pilot, "config")
        await pilot.press("enter")
        await detection_done(app)
        app.screen.query_one("#integrations").focus()
        await pilot.press("enter")
        await type_text(pilot, "DHIS2, MOSIP")
        app.screen.query_one("#real_citizens").focus()
        await pilot.press("down", "enter")  # in testing
        await pilot.press("enter")  # deployed: yes
        await pilot.pause()

    app = make_app(state, load=True)
    assert app.state_error is None
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = app.screen
        assert screen.query_one("#config_path", Input).value == str(config)
        assert screen.query_one("#current_version", Input).value == "1.3.0"
        assert screen.query_one("#integrations_list", Input).value == "DHIS2, MOSIP"
        assert screen.query_one("#integrations").key == "yes"
        assert screen.query_one("#real_citizens").key == "testing"
        assert screen.query_one("#deployment").display
        assert not screen.query_one("#core-fork").display
        assert app.session.phase("prepare").status is PhaseStatus.IN_PROGRESS
        # Restoring is not answering: nothing changed in the saved answers.
        assert Answers.of(app.session).integrations_list == "DHIS2, MOSIP"


async def test_a_complete_form_says_so_as_soon_as_all_its_parts_are_mounted(
    tmp_path: Path,
) -> None:
    # Not only once a detection ends after the last part: none may, or it may end first.
    checkouts(tmp_path)
    session = Session()
    session.replace_section(full_answers(config_path="config", core_path="core"))
    session.phase("prepare").finish()
    app = make_app(tmp_path / "state.toml", session=session)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)  # Prepare's whole form is mounted; its detection may still run
        summary = app.screen.query_one("#form-summary", Static)
        assert str(summary.content) == "✓ All answered. Make the plan when you are ready."


async def test_answers_are_written_after_their_frame_and_on_quit_if_still_waiting(
    tmp_path: Path,
) -> None:
    # Answers are written once the frame showing them is drawn; quitting before that
    # frame writes what is still waiting.
    checkouts(tmp_path)
    state = tmp_path / "state.toml"
    app = make_app(state)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        app.screen.query_one("#config_path", Input).focus()
        await pilot.press(*"config")
        assert Answers.of(load_session(state)).config_path == str(tmp_path / "config")
        app.session.installation = "Farajaland QA"
        app.save_session_soon()
        app.exit()  # in the same turn: no frame is drawn in between
    assert load_session(state).installation == "Farajaland QA"


async def test_current_version_detected_from_a_real_git_repo_with_tags(tmp_path: Path) -> None:
    config, _ = checkouts(tmp_path, ["1.3.0", "1.3.1", "1.3.2", "1.3.3"])
    app = make_app(tmp_path / "state.toml")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("tab")
        await type_text(pilot, "config")
        await detection_done(app)
        await pilot.pause()
        assert app.screen.query_one("#current_version", Input).value == "1.3.3"
        note = str(app.screen.query_one("#current_version-detected", Static).content)
        assert "detected: 1.3.3" in note and "nearest tag v1.3.3" in note
        # Edited by the operator: still shown as detected-then-edited.
        app.screen.query_one("#current_version", Input).focus()
        await pilot.press("ctrl+u")
        await type_text(pilot, "1.3.2")
        await pilot.pause()
        note = str(app.screen.query_one("#current_version-detected", Static).content)
        assert "edited; detected was 1.3.3" in note
        assert Answers.of(app.session).current_version == "1.3.2"


async def test_fill_from_last_health_check_and_go_to_cluster_health(tmp_path: Path) -> None:
    app = make_app(tmp_path / "state.toml")
    HealthRecord.of(app.session).resources["production"] = [
        NodeResources(
            "manager1",
            "2026-01-01T00:00:00+00:00",
            ram_total_bytes=16 * GIB,
            ram_available_bytes=6 * GIB,
            disk_total_bytes=320 * GIB,
            disk_free_bytes=120 * GIB,
        )
    ]
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        app.screen.query_one("#deployed").focus()
        await pilot.press("enter", "enter", "tab", "tab", "enter")  # tick production
        await pilot.press("f3")
        await pilot.pause()
        assert app.screen.query_one("#env-production-servers", Input).value == "manager1=120/6"
        servers = Answers.of(app.session).environments[EnvironmentId.PRODUCTION].servers
        assert [(s.node, s.free_disk_gb, s.free_ram_gb) for s in servers] == [("manager1", 120, 6)]
        await pilot.press("f2")
        await pilot.pause()
        assert app.session.current_view == "health"


async def test_changed_answers_update_the_sidebar_when_leaving_prepare(tmp_path: Path) -> None:
    from tasks.upgrade.plan import update_plan
    from tests.support.plan import full_answers

    app = make_app(tmp_path / "state.toml")
    app.session.replace_section(full_answers(deployed=False, environments={}))
    update_plan(app.session)
    assert app.session.phase("release").status is PhaseStatus.SKIPPED
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        app.screen.query_one("#deployed").focus()
        await pilot.press("up", "space")  # now deployed: yes
        await pilot.pause()
        await pilot.press("ctrl+p")  # leave through the palette, not through Plan
        await pilot.press(*"Go to Release", "enter")
        await pilot.pause()
        assert app.session.current_view == "release"
        assert app.session.phase("release").status is PhaseStatus.NOT_STARTED


async def test_demo_mode_prefills_the_checkouts(tmp_path: Path) -> None:
    from tasks.demo.sandbox import build_demo_sandbox

    demo = build_demo_sandbox(tmp_path / "demo")
    app = make_app(tmp_path / "state.toml", demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await detection_done(app)
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#config_path", Input).value == str(demo.config_path)
        assert screen.query_one("#core_path", Input).value == str(demo.core_path)
        assert screen.query_one("#current_version", Input).value == "1.3.0"
        # Prefilled, not answered: the phase has not started.
        assert app.session.phase("prepare").status is PhaseStatus.NOT_STARTED
