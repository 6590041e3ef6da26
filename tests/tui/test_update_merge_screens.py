"""Pilot tests of "Update opencrvs-core" and "Merge the country config" on real repositories."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from screens.modals.confirm import ChoiceModal, ConfirmModal, TextPromptModal
from tasks.demo.sandbox import CONFLICTING_FILE
from tasks.sections import open_session
from tasks.session.phases import PhaseStatus, StepStatus
from tests.support.app import make_app as support_make_app
from tests.support.sandbox import git, group_gone, group_members
from tui.app import CrvsMigrateApp

needs_yarn = pytest.mark.skipif(shutil.which("yarn") is None, reason="guard only: CI installs yarn")


def make_app(sb, view: str, **answers) -> CrvsMigrateApp:
    """The demo sandbox's app on ``view`` (its checkouts answered, as a new demo session is)."""
    return support_make_app(sb.state_path, demo=sb, view=view, answers=answers)


async def until(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def status(app: CrvsMigrateApp, phase: str, step: str) -> StepStatus:
    return app.session.phase(phase).step(step).status


async def run_step(pilot, app, phase: str, index: int, step_id: str) -> None:
    screen = app.screen
    await screen.wait_checks()
    steps = screen.query_one("#steps")
    steps.focus()
    steps.highlighted = index
    await pilot.press("enter")

    def finished() -> bool:
        if isinstance(app.screen, ChoiceModal) and app.screen.query("#choice-ignore"):
            # node is not 16 on this machine: take the --ignore-engines way (journaled).
            app.screen.query_one("#choice-ignore").press()
        return (
            status(app, phase, step_id) not in (StepStatus.NOT_STARTED, StepStatus.RUNNING)
            and screen.current_run is None
        )

    await until(pilot, finished, what=f"step {step_id}")


async def answer_modal(pilot, app, modal_type, confirm: bool) -> None:
    await until(
        pilot,
        lambda: isinstance(app.screen, modal_type) and bool(app.screen.query("#confirm")),
        what=modal_type.__name__,
    )
    app.screen.query_one("#confirm" if confirm else "#cancel").press()
    await until(pilot, lambda: not isinstance(app.screen, modal_type), what="modal closed")


@needs_yarn
async def test_update_core_happy_path(sandbox) -> None:
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await screen.wait_checks()
        # The exact command and directory are shown before anything runs.
        shown = str(screen.pane.query_one(".output-command").render())
        assert "$ git fetch" in shown and str(sandbox.core_path) in shown
        for i, step_id in enumerate(("fetch", "checkout_master", "pull", "yarn")):
            await run_step(pilot, app, "update_core", i, step_id)
            assert status(app, "update_core", step_id) is StepStatus.SUCCEEDED, step_id
        assert "[1/4] Resolving packages..." in screen.pane.lines
        assert "exit code 0" in str(screen.pane.query_one(".output-status").render())
        assert app.session.phase("update_core").status is PhaseStatus.DONE
    origin = git(sandbox.core_origin_path, "rev-parse", "master")
    assert git(sandbox.core_path, "rev-parse", "HEAD") == origin
    commands = [e for e in app.workspace.journal.entries() if e["kind"] == "command"]
    assert [e["step"] for e in commands] == ["fetch", "checkout_master", "pull", "yarn"]
    saved = open_session(sandbox.state_path)
    assert saved is not None and saved.phase("update_core").status is PhaseStatus.DONE
    rec = saved.phase("update_core").step("pull")
    assert rec.exit_code == 0 and rec.log_file and Path(rec.log_file).exists()


async def test_succeeded_step_not_rerun_unless_asked(sandbox) -> None:
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        await run_step(pilot, app, "update_core", 0, "fetch")
        first = app.session.phase("update_core").step("fetch").started_at
        app.screen.query_one("#steps").highlighted = 0
        await pilot.press("enter")
        await answer_modal(pilot, app, ConfirmModal, confirm=False)
        assert app.session.phase("update_core").step("fetch").started_at == first
    assert sum(1 for e in app.workspace.journal.entries() if e["kind"] == "command") == 1


async def test_dirty_tree_refused_then_stash_offered(sandbox) -> None:
    core = sandbox.core_path
    (core / "README.md").write_text("my local edit\n")
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await screen.wait_checks()
        assert "local changes" in str(screen.query_one("#step-checks-text").render())
        steps = screen.query_one("#steps")
        steps.focus()
        steps.highlighted = 1
        await pilot.press("enter")
        await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmModal) and bool(app.screen.query("#cancel")),
            what="stash offer",
        )
        body = str(app.screen.query_one(".step-modal-body Static").render())
        assert "README.md" in body and "git stash push --include-untracked -m" in body
        app.screen.query_one("#cancel").press()
        await until(pilot, lambda: app.screen is screen, what="back")
        assert status(app, "update_core", "checkout_master") is StepStatus.NOT_STARTED
        assert (core / "README.md").read_text() == "my local edit\n"

        await pilot.press("enter")
        await answer_modal(pilot, app, ConfirmModal, confirm=True)
        await until(
            pilot,
            lambda: status(app, "update_core", "checkout_master") is StepStatus.SUCCEEDED,
            what="checkout after stash",
        )
    assert "crvs-migrate: before check out master" in git(core, "stash", "list")
    kinds = [(e["kind"], e.get("what", "")) for e in app.workspace.journal.entries()]
    assert any(k == "confirmation" and w.startswith("stash local changes") for k, w in kinds)


async def test_markup_and_escapes_in_output_shown_literally(sandbox) -> None:
    hook = sandbox.core_path / ".git" / "hooks" / "post-checkout"
    hook.write_text(
        "#!/bin/sh\n"
        "printf '[bold red]not markup[/bold red] [link=http://x]x[/link]\\n'\n"
        "printf '\\033[31mred\\033[0m \\033]0;title\\007done\\n'\n"
    )
    hook.chmod(0o755)
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        await run_step(pilot, app, "update_core", 1, "checkout_master")
        lines = app.screen.pane.lines
    assert "[bold red]not markup[/bold red] [link=http://x]x[/link]" in lines
    assert "red done" in lines
    assert not any("\x1b" in line for line in lines)


async def test_cancel_long_step_leaves_no_process_and_survives_phase_switch(sandbox) -> None:
    hook = sandbox.core_path / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\necho waiting\nsleep 300 &\nsleep 300\n")
    hook.chmod(0o755)
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await screen.wait_checks()
        steps = screen.query_one("#steps")
        steps.focus()
        steps.highlighted = 1
        await pilot.press("enter")
        await until(pilot, lambda: "waiting" in screen.pane.lines, what="hook output")
        run = screen.current_run
        pgid = run.pid
        assert len(group_members(pgid)) >= 3  # git, the hook's shell, two sleeps
        # The operator looks at another phase: the step keeps running there.
        await pilot.press("1")
        assert app.current_view == "prepare" and run.running
        # Quitting now asks first.
        await pilot.press("ctrl+q")
        await answer_modal(pilot, app, ConfirmModal, confirm=False)
        assert run.running
        await pilot.press("3")
        assert app.screen is screen
        await pilot.press("x")
        await until(
            pilot,
            lambda: status(app, "update_core", "checkout_master") is StepStatus.CANCELLED,
            what="cancelled",
        )
        assert group_gone(pgid)
        assert "cancelled" in str(screen.pane.query_one(".output-status").render())
        assert not app.running_steps.any()


async def test_quit_while_running_cancels_the_group(sandbox) -> None:
    hook = sandbox.core_path / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\necho waiting\nsleep 300\n")
    hook.chmod(0o755)
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await screen.wait_checks()
        screen.query_one("#steps").focus()
        screen.query_one("#steps").highlighted = 1
        await pilot.press("enter")
        await until(pilot, lambda: "waiting" in screen.pane.lines, what="hook output")
        pgid = screen.current_run.pid
        await pilot.press("ctrl+q")
        await answer_modal(pilot, app, ConfirmModal, confirm=True)
        await until(pilot, lambda: not app.is_running, what="exit")
    assert group_gone(pgid)
    saved = open_session(sandbox.state_path)
    assert saved.phase("update_core").step("checkout_master").status is StepStatus.CANCELLED


@needs_yarn
@pytest.mark.xfail(
    strict=True,
    reason="the merge step merges <remote>/master, which upstream moved past 1.3 (1.9.10): "
    "v1.3.5 never arrives (it is not on master)",
)
async def test_merge_config_conflicts_recheck_commit_and_done(sandbox) -> None:
    cfg = sandbox.config_path
    app = make_app(sandbox, "merge_config", target_version="1.3.5", config_path=str(cfg))
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        await run_step(pilot, app, "merge_config", 0, "fetch_all")
        await run_step(pilot, app, "merge_config", 1, "branch")
        assert git(cfg, "branch", "--show-current") == "upgrade-countryconfig-v1.3.5"
        await run_step(pilot, app, "merge_config", 2, "merge")
        assert status(app, "merge_config", "merge") is StepStatus.FAILED
        await until(pilot, lambda: screen.query_one("#conflicts").display, what="conflicts")
        conflicts = str(screen.query_one("#conflicts-text").render())
        assert f"{CONFLICTING_FILE}: unmerged, 1 conflict marker" in conflicts

        # The operator resolves in their editor; the phase is not done meanwhile.
        (cfg / CONFLICTING_FILE).write_text("export const APPLICATION_NAME = 'Farajaland'\n")
        git(cfg, "add", CONFLICTING_FILE)
        await pilot.press("r")
        await until(pilot, lambda: screen.conflicts is not None and not screen.conflicts.files)
        assert app.session.phase("merge_config").status is not PhaseStatus.DONE
        await pilot.press("m")
        await until(
            pilot,
            lambda: status(app, "merge_config", "merge") is StepStatus.SUCCEEDED,
            what="merge committed",
        )
        await until(pilot, lambda: bool(screen.incoming), what="incoming commits")
        assert any("Release v1.3.5" in line for line in screen.incoming)
        assert any("Release v1.3.1" in line for line in screen.pane.lines)
        await run_step(pilot, app, "merge_config", 3, "yarn")
        await until(
            pilot,
            lambda: app.session.phase("merge_config").status is PhaseStatus.DONE,
            what="phase done",
        )


async def test_abort_merge_restores_pre_merge_head(sandbox) -> None:
    cfg = sandbox.config_path
    git(cfg, "fetch", "-q", "--all")
    git(cfg, "checkout", "-q", "-b", "upgrade-countryconfig-v1.3.5")
    before = git(cfg, "rev-parse", "HEAD")
    app = make_app(sandbox, "merge_config")
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        await run_step(pilot, app, "merge_config", 2, "merge")
        assert git(cfg, "rev-parse", "MERGE_HEAD")
        await pilot.press("a")
        await answer_modal(pilot, app, ConfirmModal, confirm=True)
        await until(
            pilot,
            lambda: status(app, "merge_config", "merge") is StepStatus.CANCELLED,
            what="aborted",
        )
        await until(pilot, lambda: not screen.query_one("#conflicts").display, what="hidden")
        assert app.session.phase("merge_config").status is not PhaseStatus.DONE
    assert git(cfg, "rev-parse", "HEAD") == before
    assert not (cfg / ".git" / "MERGE_HEAD").exists()
    whats = [e.get("what", "") for e in app.workspace.journal.entries()]
    assert "abort merge: git merge --abort" in whats


async def test_existing_branch_offered_switch_never_recreated(sandbox) -> None:
    cfg = sandbox.config_path
    git(cfg, "branch", "upgrade-countryconfig-v1.3.5")
    git(cfg, "checkout", "-q", "upgrade-countryconfig-v1.3.5")
    (cfg / "mine.txt").write_text("work on the branch\n")
    git(cfg, "add", "mine.txt")
    git(cfg, "commit", "-q", "-m", "work already on the upgrade branch")
    branch_head = git(cfg, "rev-parse", "HEAD")
    git(cfg, "checkout", "-q", "master")
    app = make_app(sandbox, "merge_config")
    async with app.run_test(size=(100, 40)) as pilot:
        await app.screen.wait_checks()
        assert "already exists" in str(app.screen.query_one("#step-checks-text").render())
        steps = app.screen.query_one("#steps")
        steps.focus()
        steps.highlighted = 1
        await pilot.press("enter")
        await answer_modal(pilot, app, ConfirmModal, confirm=True)
        await until(
            pilot,
            lambda: status(app, "merge_config", "branch") is StepStatus.SUCCEEDED,
            what="switched",
        )
    assert git(cfg, "branch", "--show-current") == "upgrade-countryconfig-v1.3.5"
    assert git(cfg, "rev-parse", "HEAD") == branch_head
    commands = [e["argv"] for e in app.workspace.journal.entries() if e["kind"] == "command"]
    assert commands == [["git", "checkout", "upgrade-countryconfig-v1.3.5"]]


async def test_missing_upstream_remote_added_with_typed_url(sandbox) -> None:
    cfg = sandbox.config_path
    git(cfg, "remote", "remove", "countryconfig")
    app = make_app(sandbox, "merge_config")
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        await screen.wait_checks()
        assert "no upstream remote" in str(screen.query_one("#step-checks-text").render())
        steps = screen.query_one("#steps")
        steps.focus()
        steps.highlighted = 0
        await pilot.press("enter")
        await until(
            pilot,
            lambda: isinstance(app.screen, TextPromptModal) and bool(app.screen.query("#answer")),
            what="url prompt",
        )
        app.screen.query_one("#answer").value = str(sandbox.upstream_path)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: status(app, "merge_config", "fetch_all") is StepStatus.SUCCEEDED,
            what="fetch after remote added",
        )
    assert git(cfg, "remote", "get-url", "countryconfig") == str(sandbox.upstream_path)
    assert "countryconfig/master" in git(cfg, "branch", "-r")


async def test_farajaland_remote_detected_in_merge_step(sandbox) -> None:
    git(sandbox.config_path, "remote", "rename", "countryconfig", "farajaland")
    app = make_app(sandbox, "merge_config")
    async with app.run_test(size=(100, 40)) as pilot:
        await app.screen.wait_checks()
        await pilot.pause()
        assert "upstream remote: farajaland" in str(
            app.screen.query_one("#step-checks-text").render()
        )
        merge = [s for s in app.screen.steps if s.id == "merge"][0]
        assert merge.argv[-1] == "farajaland/master"


async def test_no_path_yet_points_to_prepare(tmp_path: Path) -> None:
    app = support_make_app(tmp_path / "s.toml", view="merge_config")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = str(app.screen.query_one("#step-checks-text").render())
        assert "Prepare" in text and not app.screen.steps
