"""Pilot tests: Prepare's answers frozen once the plan is accepted (reopened with a reason,
re-planned, changes shown), re-detection after the upgrade started, "Fill from health",
arrows between the form's fields, and the installation's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from screens.modals.reason import ReasonModal
from tasks.report.document import build_report
from tasks.report.export import read_input
from tasks.servers.health import (
    Health,
    HealthRecord,
    HealthSnapshot,
    NodeHealth,
    save_snapshot,
)
from tasks.servers.inventory import Node, Role
from tasks.servers.resources import NodeResources
from tasks.session.phases import PhaseStatus
from tasks.session.state import now_iso
from tasks.units import GIB
from tasks.upgrade.answers import Answers, EnvironmentId
from tasks.upgrade.plan import PlanRecord, accept_plan, answers_frozen, update_plan
from tests.support.app import make_app
from tests.support.gitutil import git
from tests.support.pilot import started
from tests.support.plan import full_answers, make_checkout

SIZE = (100, 34)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def accepted_app(tmp_path: Path, **answers: object):
    """A session whose answers are complete and whose plan was accepted."""
    config = make_checkout(tmp_path / "config", ["1.3.0"])
    core = make_checkout(tmp_path / "core", ["1.3.0"])
    app = make_app(tmp_path / "state.toml", view="prepare")
    given = full_answers(config_path=str(config), core_path=str(core), **answers)
    given.detected_version = "1.3.0"
    app.session.replace_section(given)
    app.session.phase("prepare").finish()
    update_plan(app.session)
    accept_plan(app.session, now_iso())
    return app, config


def journal_text(app) -> str:
    return app.workspace.journal.path.read_text()


async def test_answers_are_frozen_once_the_plan_is_accepted(tmp_path: Path) -> None:
    app, _config = accepted_app(tmp_path)
    before = Answers.of(app.session).to_state()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = app.screen
        await screen.form_ready()
        await pilot.pause()
        assert screen.query_one("#answers-frozen").display
        assert screen.query_one("#questions").disabled
        field = screen.query_one("#env-production-cluster_size", Input)
        assert field.value == "3" and field.is_disabled
        # Tab from the sidebar: the way to change them, not a field.
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "change-answers"
        # The fields cannot take the focus, so no key reaches them.
        field.focus()
        await pilot.pause()
        assert app.focused is not field
        assert Answers.of(app.session).to_state() == before
        # "Done" goes to the plan as it stands.
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current_view == "plan"
        assert "Plan accepted." in app.screen.plan_text


async def test_change_answers_asks_why_journals_it_and_replans(tmp_path: Path) -> None:
    app, _config = accepted_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = app.screen
        await screen.form_ready()
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, ReasonModal)
        await pilot.press("enter")  # no reason: refused where it is typed
        await pilot.pause()
        assert isinstance(app.screen, ReasonModal)
        assert "Type why" in str(app.screen.query_one("#reason-error", Static).content)
        await pilot.press(*"production lost a node", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert not screen.query_one("#questions").disabled
        assert not screen.query_one("#answers-frozen").display
        assert not answers_frozen(app.session)
        assert PlanRecord.of(app.session).answers_reopened == "production lost a node"
        assert app.session.phase("prepare").status is PhaseStatus.IN_PROGRESS
        assert "answers reopened after the plan was accepted: production lost a node" in (
            journal_text(app)
        )
        field = screen.query_one("#env-production-cluster_size", Input)
        field.focus()
        await pilot.press("end", "backspace", "1")
        await pilot.pause()
        assert Answers.of(app.session).environments[EnvironmentId.PRODUCTION].cluster_size == 1
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current_view == "plan"
        text = app.screen.plan_text
        # What changed against the accepted plan, and a plan to accept again.
        assert "Production runs on 1 server" in text
        assert "Not accepted yet" in text
        assert app.session.phase("plan").status is PhaseStatus.IN_PROGRESS
        await pilot.press("a")
        await pilot.pause()
        assert answers_frozen(app.session)
        await pilot.press("1")
        await pilot.pause()
        assert app.screen.query_one("#questions").disabled


async def test_reopened_answers_left_as_they_were_freeze_again(tmp_path: Path) -> None:
    app, _config = accepted_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await app.screen.form_ready()
        await pilot.click("#change-answers")
        await pilot.pause()
        await pilot.press(*"check the QA sizes", "enter")
        await pilot.pause()
        assert not answers_frozen(app.session)
        await pilot.press("ctrl+n")
        await pilot.pause()
        # The accepted plan stands: nothing to accept again.
        assert answers_frozen(app.session)
        assert "Plan accepted." in app.screen.plan_text


async def test_redetection_never_rewrites_the_version_once_the_upgrade_started(
    tmp_path: Path,
) -> None:
    app, config = accepted_app(tmp_path)
    # The release merged into the country config: the checkout now reads 1.3.5.
    (config / "package.json").write_text(json.dumps({"name": "cc", "version": "1.3.5"}))
    git(config, "commit", "-qam", "Merge release 1.3.5")
    git(config, "tag", "-a", "v1.3.5", "-m", "v1.3.5")
    app.session.phase("update_core").start()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = app.screen
        await screen.form_ready()
        # Reopened: detection runs again on the checkout and must not take 1.3.5 as the
        # version the upgrade started from.
        await pilot.press("f4")
        await pilot.press(*"fix a typo", "enter")
        await pilot.pause()
        await screen.detect(str(config))
        await pilot.pause()
        answers = Answers.of(app.session)
        assert answers.current_version == "1.3.0"
        assert screen.query_one("#current_version", Input).value == "1.3.0"
        note = str(screen.query_one("#current_version-detected", Static).content)
        assert "now reads 1.3.5" in note and "kept" in note


def node_health(name: str, role: Role, ram_gib: float, cpus: int, disk_gib: int) -> NodeHealth:
    return NodeHealth(
        node=Node(name, f"10.0.0.{len(name)}", role),
        status=Health.PASS,
        checked_at="2026-01-01T00:00:00+00:00",
        resources=NodeResources(
            name,
            "2026-01-01T00:00:00+00:00",
            ram_total_bytes=int(ram_gib * GIB),
            ram_available_bytes=int(ram_gib / 2 * GIB),
            disk_total_bytes=disk_gib * GIB,
            disk_free_bytes=disk_gib // 2 * GIB,
            cpus=cpus,
        ),
    )


async def test_fill_from_health_fills_sizes_counts_and_inventory_without_the_backup(
    tmp_path: Path,
) -> None:
    config = make_checkout(tmp_path / "config", ["1.3.0"])
    inventory = config / "infrastructure" / "server-setup" / "production.ini"
    inventory.parent.mkdir(parents=True)
    inventory.write_text("[docker-manager-first]\nmanager1 ansible_host=10.0.0.8\n")
    app = make_app(tmp_path / "state.toml", view="prepare")
    answers = Answers.of(app.session)
    answers.config_path = str(config)
    answers.deployed = True
    answers.environment(EnvironmentId.PRODUCTION)
    snapshot = HealthSnapshot(
        "production",
        "2026-01-01T00:00:00+00:00",
        [
            node_health("manager1", Role.MANAGER, 15.6, 8, 320),
            node_health("worker1", Role.WORKER, 31.2, 4, 500),
            node_health("worker2", Role.WORKER, 15.6, 8, 300),
            node_health("backup", Role.BACKUP, 3.8, 2, 1000),
        ],
        str(inventory),
        inventory=str(inventory),
    )
    save_snapshot(app.session, snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = app.screen
        await screen.form_ready()
        await pilot.press("f3")
        await pilot.pause()

        def value(attr: str) -> str:
            return screen.query_one(f"#env-production-{attr}", Input).value

        # The smallest server's sizes, three servers: the backup server is not counted.
        assert (value("ram_gb"), value("cpus"), value("disk_gb")) == ("16", "4", "300")
        assert value("cluster_size") == "3"
        assert value("inventory_path") == str(inventory)
        assert "backup" not in value("servers")
        production = Answers.of(app.session).environments[EnvironmentId.PRODUCTION]
        assert (production.ram_gb, production.cpus, production.disk_gb) == (16, 4, 300)
        assert production.cluster_size == 3
        assert production.inventory_path == str(inventory)
        assert [s.node for s in production.servers] == ["manager1", "worker1", "worker2"]
    assert HealthRecord.of(app.session).snapshots["production"].inventory == str(inventory)


async def test_arrows_move_between_tick_boxes_and_choices(tmp_path: Path) -> None:
    app = make_app(tmp_path / "state.toml", view="prepare")
    Answers.of(app.session).deployed = True
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = app.screen
        await screen.form_ready()
        screen.query_one("#has-staging").focus()
        await pilot.press("down")
        assert app.focused is not None and app.focused.id == "has-qa"
        await pilot.press("down")
        assert app.focused.id == "has-production"
        await pilot.press("up", "up", "up")
        # Up from the first tick box: the choice above it (dedicated or shared servers).
        assert app.focused.id == "server_kind"
        # In a choice, arrows choose; past its last answer, down leaves it.
        await pilot.press("down")
        assert app.focused.id == "server_kind"
        await pilot.press("down")
        assert app.focused.id == "has-staging"


async def test_the_installation_name_is_asked_and_titles_the_report(tmp_path: Path) -> None:
    app = make_app(tmp_path / "state.toml", view="prepare")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = app.screen
        await screen.form_ready()
        screen.query_one("#installation", Input).focus()
        await pilot.press(*"Farajaland production")
        await pilot.pause()
        assert app.session.installation == "Farajaland production"
    report = build_report(read_input(app.session, app.workspace.journal, app.workspace.state_path))
    assert report.title.endswith(", Farajaland production")
    # Read back after a restart, into the same field.
    again = make_app(tmp_path / "state.toml", load=True)
    async with again.run_test(size=SIZE) as pilot:
        await started(pilot)
        await again.screen.form_ready()
        assert again.screen.query_one("#installation", Input).value == "Farajaland production"


async def test_quitting_while_the_form_is_still_mounting_is_a_clean_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from screens.prepare import PrepareScreen

    later_parts = PrepareScreen.later_parts

    def quit_as_they_start(screen: PrepareScreen):
        parts = later_parts(screen)
        screen.app.exit()  # the operator quits as the rest of the form starts mounting
        return parts

    monkeypatch.setattr(PrepareScreen, "later_parts", quit_as_they_start)
    app = make_app(tmp_path / "state.toml", view="prepare")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
    assert app.return_code == 0
    assert app.crash_report is None
