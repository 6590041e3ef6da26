"""Pilot tests of "Update opencrvs-core" and "Merge the country config" on real repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from screens.modals.confirm import ChoiceModal, ConfirmModal, TextPromptModal
from tasks.demo.sandbox import CONFLICTING_FILE
from tasks.sections import open_session
from tasks.session.phases import PhaseStatus, StepStatus
from tests.support.app import make_app as support_make_app
from tests.support.pilot import started
from tests.support.sandbox import git, group_gone, group_members
from tui.app import CrvsMigrateApp

needs_yarn = pytest.mark.skipif(shutil.which("yarn") is None, reason="guard only: CI installs yarn")


def make_app(sb, view: str, **answers) -> CrvsMigrateApp:
    """The demo sandbox's app on ``view`` (its checkouts answered, as a new demo session is;
    core not customised, so the release tag is checked out)."""
    answers = {"target_version": "1.3.5", "core_customised": False, **answers}
    return support_make_app(sb.state_path, demo=sb, view=view, answers=answers)


def fetch_core_tags(sb) -> None:
    git(sb.core_path, "fetch", "-q", "--all", "--tags")


def slow_install(checkout: Path, script: str = "echo waiting; sleep 300 & sleep 300") -> None:
    """yarn --force runs the root package's preinstall script: a long, real yarn step."""
    data = json.loads((checkout / "package.json").read_text())
    data.setdefault("scripts", {})["preinstall"] = script
    (checkout / "package.json").write_text(json.dumps(data, indent=2) + "\n")


async def start_yarn(pilot, app, index: int) -> None:
    """Enter on the yarn step; node is not 16 here: take the --ignore-engines way."""
    steps = app.screen.query_one("#steps")
    steps.focus()
    steps.highlighted = index
    await pilot.press("enter")

    def started() -> bool:
        if isinstance(app.screen, ChoiceModal) and app.screen.query("#choice-ignore"):
            app.screen.query_one("#choice-ignore").press()
        return getattr(app.screen, "current_run", None) is not None

    await until(pilot, started, what="yarn started")


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
            and screen.current_step is None  # released after the checks that follow have begun
        )

    await until(pilot, finished, what=f"step {step_id}")
    # Those checks read the checkout (git takes its index lock): let them end before a test
    # changes the checkout itself.
    await screen.wait_checks()


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
        # git pull does not apply (a tag does not move): it is shown, never run.
        assert "does not apply" in str(screen.query_one("#steps").get_option_at_index(2).prompt)
        for i, step_id in ((0, "fetch"), (1, "checkout_master"), (4, "yarn_install")):
            await run_step(pilot, app, "update_core", i, step_id)
            assert status(app, "update_core", step_id) is StepStatus.SUCCEEDED, step_id
        assert "[1/4] Resolving packages..." in screen.pane.lines
        assert "exit code 0" in str(screen.pane.query_one(".output-status").render())
        assert app.session.phase("update_core").status is PhaseStatus.DONE
    # The release tag, never master (which is 2.0.0 upstream today).
    tag = git(sandbox.core_origin_path, "rev-parse", "v1.3.5^{commit}")
    assert git(sandbox.core_path, "rev-parse", "HEAD") == tag
    assert '"version": "1.3.5"' in (sandbox.core_path / "package.json").read_text()
    commands = [e for e in app.workspace.journal.entries() if e["kind"] == "command"]
    assert [e["step"] for e in commands] == ["fetch", "checkout_master", "yarn_install"]
    assert commands[1]["argv"][-2:] == ["--detach", "v1.3.5"]
    assert not any("master" in a for e in commands for a in e["argv"])
    saved = open_session(sandbox.state_path)
    assert saved is not None and saved.phase("update_core").status is PhaseStatus.DONE
    rec = saved.phase("update_core").step("checkout_master")
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
    fetch_core_tags(sandbox)
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
    assert "crvs-migrate: before check out v1.3.5" in git(core, "stash", "list")
    kinds = [(e["kind"], e.get("what", "")) for e in app.workspace.journal.entries()]
    assert any(k == "confirmation" and w.startswith("stash local changes") for k, w in kinds)


async def test_markup_and_escapes_in_output_shown_literally(sandbox) -> None:
    fetch_core_tags(sandbox)
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


@needs_yarn
async def test_cancel_long_step_leaves_no_process_and_survives_phase_switch(sandbox) -> None:
    slow_install(sandbox.core_path)
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await screen.wait_checks()
        await start_yarn(pilot, app, 4)
        await until(pilot, lambda: "waiting" in screen.pane.lines, what="script output")
        run = screen.current_run
        pgid = run.pid
        assert len(group_members(pgid)) >= 3  # yarn, the script's shell, two sleeps
        # The operator looks at another phase: the step keeps running there.
        await pilot.press("1")
        assert app.current_view == "prepare" and run.running
        # Quitting now asks first; its default (Cancel) quits nothing and says so.
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal), what="quit question")
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ChoiceModal), what="closed")
        assert run.running and app.is_running
        await pilot.press("3")
        assert app.screen is screen
        await pilot.press("x")
        await until(
            pilot,
            lambda: status(app, "update_core", "yarn_install") is StepStatus.CANCELLED,
            what="cancelled",
        )
        assert group_gone(pgid)
        assert "cancelled" in str(screen.pane.query_one(".output-status").render())
        assert not app.running_steps.any()


@needs_yarn
async def test_quit_while_running_cancels_the_group(sandbox) -> None:
    slow_install(sandbox.core_path, "echo waiting; sleep 300")
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await screen.wait_checks()
        await start_yarn(pilot, app, 4)
        await until(pilot, lambda: "waiting" in screen.pane.lines, what="script output")
        pgid = screen.current_run.pid
        await pilot.press("ctrl+q")
        await until(
            pilot,
            lambda: isinstance(app.screen, ChoiceModal) and bool(app.screen.query("#choice-stop")),
            what="quit question",
        )
        app.screen.query_one("#choice-stop").press()
        await until(pilot, lambda: not app.is_running, what="exit")
    assert group_gone(pgid)
    saved = open_session(sandbox.state_path)
    assert saved.phase("update_core").step("yarn_install").status is StepStatus.CANCELLED


@needs_yarn
async def test_merge_config_conflicts_recheck_commit_and_done(sandbox) -> None:
    cfg = sandbox.config_path
    app = make_app(sandbox, "merge_config", target_version="1.3.5", config_path=str(cfg))
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        await run_step(pilot, app, "merge_config", 0, "fetch_all")
        await run_step(pilot, app, "merge_config", 1, "upgrade_branch")
        assert git(cfg, "branch", "--show-current") == "upgrade-countryconfig-v1.3.5"
        await run_step(pilot, app, "merge_config", 2, "merge_upstream")
        assert status(app, "merge_config", "merge_upstream") is StepStatus.FAILED
        merge = [e for e in app.workspace.journal.entries() if e.get("step") == "merge_upstream"]
        assert merge[-1]["argv"][-1] == "v1.3.5"  # the release, never master
        await until(pilot, lambda: screen.query_one("#conflicts").display, what="conflicts")
        conflicts = str(screen.query_one("#conflicts-text").render())
        assert f"{CONFLICTING_FILE}: unmerged, 1 conflict marker" in conflicts

        # The operator resolves in their editor; the phase is not done meanwhile.
        (cfg / CONFLICTING_FILE).write_text("export const APPLICATION_NAME = 'Farajaland'\n")
        git(cfg, "add", CONFLICTING_FILE)
        await pilot.press("c")
        await until(pilot, lambda: screen.conflicts is not None and not screen.conflicts.files)
        assert app.session.phase("merge_config").status is not PhaseStatus.DONE
        await pilot.press("m")
        await until(
            pilot,
            lambda: status(app, "merge_config", "merge_upstream") is StepStatus.SUCCEEDED,
            what="merge committed",
        )
        # What came in, counted from the merge commit's parents, shown under its output
        # (upstream's tags do not form one line: 1.3.1 is not an ancestor of 1.3.5).
        await until(
            pilot,
            lambda: any("Release 1.3.4" in line for line in screen.pane.lines),
            what="incoming commits",
        )
        assert not any("Release v1.3.1" in line for line in screen.incoming)
        assert any("Release v1.3.5" in line for line in screen.incoming)
        resolved = app.session.phase("merge_config").step("resolve_conflicts")
        assert resolved.status is StepStatus.SUCCEEDED and resolved.by
        assert '"version": "1.3.5"' in (cfg / "package.json").read_text()
        await run_step(pilot, app, "merge_config", 3, "yarn_install")
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
        await run_step(pilot, app, "merge_config", 2, "merge_upstream")
        assert git(cfg, "rev-parse", "MERGE_HEAD")
        await pilot.press("a")
        await answer_modal(pilot, app, ConfirmModal, confirm=True)
        await until(
            pilot,
            lambda: status(app, "merge_config", "merge_upstream") is StepStatus.CANCELLED,
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
            lambda: status(app, "merge_config", "upgrade_branch") is StepStatus.SUCCEEDED,
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
    git(sandbox.config_path, "fetch", "-q", "farajaland")
    app = make_app(sandbox, "merge_config", target_version="1.3.4")
    async with app.run_test(size=(100, 40)) as pilot:
        await app.screen.wait_checks()
        await pilot.pause()
        checks = str(app.screen.query_one("#step-checks-text").render())
        assert "upstream remote: farajaland" in checks
        # 1.3.4: upstream's branch, not its tag (a Farajaland commit with staff SSH keys).
        assert "upstream's release: farajaland/release-v1.3.4" in checks
        merge = [s for s in app.screen.steps if s.id == "merge_upstream"][0]
        assert merge.argv[-1] == "farajaland/release-v1.3.4"


async def test_no_path_yet_points_to_prepare(tmp_path: Path) -> None:
    app = support_make_app(tmp_path / "s.toml", view="merge_config")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        text = str(app.screen.query_one("#step-checks-text").render())
        assert "Prepare" in text and not app.screen.steps


class _Registry:
    """An npm registry on loopback that knows @types/code 4.0.7 but has lost its tarball
    (the real registry's 404 for @types/code-4.0.7.tgz, seen on a 1.3 core)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path.lower() in ("/@types%2fcode", "/@types/code"):
                    body = json.dumps(registry.metadata()).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_error(404, "Not Found")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def metadata(self) -> dict:
        version = {
            "name": "@types/code",
            "version": "4.0.7",
            "dist": {
                "tarball": f"{self.url}/@types/code/-/code-4.0.7.tgz",
                "shasum": "0" * 40,
            },
        }
        return {
            "name": "@types/code",
            "dist-tags": {"latest": "4.0.7"},
            "versions": {"4.0.7": version},
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@needs_yarn
async def test_a_yarn_failure_shows_its_cause_and_can_be_done_by_hand(
    sandbox, tmp_path: Path, monkeypatch
) -> None:
    registry = _Registry()
    try:
        core = sandbox.core_path
        data = json.loads((core / "package.json").read_text())
        data["dependencies"] = {"@types/code": "4.0.7"}
        (core / "package.json").write_text(json.dumps(data, indent=2) + "\n")
        (core / ".yarnrc").write_text(f'registry "{registry.url}/"\n')
        monkeypatch.setenv("YARN_CACHE_FOLDER", str(tmp_path / "yarn-cache"))
        app = make_app(sandbox, "update_core")
        async with app.run_test(size=(100, 40)) as pilot:
            screen = app.screen
            await run_step(pilot, app, "update_core", 4, "yarn_install")
            rec = app.session.phase("update_core").step("yarn_install")
            assert rec.status is StepStatus.FAILED
            # The cause, found in the output and shown whole (wrapped), and the log.
            await until(
                pilot,
                lambda: "Cause:" in str(screen.pane.query_one(".output-status").render()),
                what="the cause",
            )
            status = str(screen.pane.query_one(".output-status").render())
            flat = " ".join(status.split())
            assert "404 Not Found" in flat and "@types/code/-/code-4.0.7.tgz" in flat
            assert rec.log_file and rec.log_file in flat.replace(" ", "")
            assert "Press d" in flat
            # Fixed outside the app (a mirror, a pinned version): recorded by hand, with why.
            screen.query_one("#steps").focus()
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, TextPromptModal), what="reason")
            await pilot.press("enter")  # no reason: nothing recorded
            await until(pilot, lambda: not isinstance(app.screen, TextPromptModal))
            assert rec.status is StepStatus.FAILED
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, TextPromptModal), what="reason")
            app.screen.query_one("#answer").value = "yarn --force with the company mirror, ok"
            await pilot.press("enter")
            await until(pilot, lambda: rec.status is StepStatus.SUCCEEDED, what="done by hand")
            assert rec.by and "company mirror" in rec.note
            assert "done by hand" in str(screen.query_one("#steps").get_option_at_index(4).prompt)
        (confirmation,) = [
            e
            for e in app.workspace.journal.entries()
            if e["kind"] == "confirmation"
            and e.get("step") == "yarn_install"
            and "done by hand" in e["what"]
        ]
        assert "company mirror" in confirmation["what"] and confirmation["by"] == rec.by
    finally:
        registry.close()


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


@needs_yarn
async def test_a_merge_made_in_the_shell_counts(sandbox) -> None:
    cfg = sandbox.config_path
    git(cfg, "fetch", "-q", "--all", "--tags")
    git(cfg, "checkout", "-q", "-b", "upgrade-countryconfig-v1.3.5")
    subprocess.run(["git", "merge", "-q", "--no-edit", "v1.3.5"], cwd=cfg, capture_output=True)
    (cfg / CONFLICTING_FILE).write_text("export const APPLICATION_NAME = 'Farajaland'\n")
    git(cfg, "add", CONFLICTING_FILE)
    git(cfg, "commit", "-q", "--no-edit")
    app = make_app(sandbox, "merge_config")
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        await screen.wait_checks()
        phase = app.session.phase("merge_config")
        for step_id in ("fetch_all", "upgrade_branch", "merge_upstream"):
            rec = phase.step(step_id)
            assert rec.status is StepStatus.SUCCEEDED, step_id
            assert rec.by == "outside crvs-migrate" and rec.note.startswith("done outside")
        assert "HEAD contains v1.3.5" in phase.step("merge_upstream").note
        assert phase.step("resolve_conflicts").status is StepStatus.SUCCEEDED
        # What came in, counted from the merge's parents (no "before" was ever seen here).
        checks = str(screen.query_one("#step-checks-text").render())
        assert "upstream commit(s) came in with the merge" in checks
        assert any("Release v1.3.5" in line for line in screen.incoming)
        prompt = str(screen.query_one("#steps").get_option_at_index(2).prompt)
        assert "done outside" in prompt
        await run_step(pilot, app, "merge_config", 3, "yarn_install")
        await until(pilot, lambda: phase.status is PhaseStatus.DONE, what="phase done")
    events = [e["what"] for e in app.workspace.journal.entries() if e["kind"] == "event"]
    assert any(e.startswith("done outside crvs-migrate: merge_upstream") for e in events)


async def test_a_merge_in_progress_is_not_reported_as_local_changes(sandbox) -> None:
    cfg = sandbox.config_path
    git(cfg, "fetch", "-q", "--all", "--tags")
    git(cfg, "checkout", "-q", "-b", "upgrade-countryconfig-v1.3.5")
    subprocess.run(["git", "merge", "-q", "--no-edit", "v1.3.5"], cwd=cfg, capture_output=True)
    app = make_app(sandbox, "merge_config")
    async with app.run_test(size=(100, 40)) as pilot:
        await app.screen.wait_checks()
        await pilot.pause()
        checks = " ".join(str(app.screen.query_one("#step-checks-text").render()).split())
        assert "a merge is in progress" in checks and "of the merge's result" in checks
        assert "local changes:" not in checks and "refuse to run" not in checks
        assert app.session.phase("merge_config").step("merge_upstream").status is (
            StepStatus.NOT_STARTED
        )


@needs_yarn
async def test_core_is_done_only_when_its_package_json_says_the_target(sandbox) -> None:
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        for i, step_id in ((0, "fetch"), (1, "checkout_master"), (4, "yarn_install")):
            await run_step(pilot, app, "update_core", i, step_id)
        phase = app.session.phase("update_core")
        assert phase.status is PhaseStatus.DONE
        # Someone moves the checkout to another release in their shell: not done, and why.
        git(sandbox.core_path, "checkout", "-q", "--detach", "v1.3.3")
        await pilot.press("c")
        await until(pilot, lambda: phase.status is not PhaseStatus.DONE, what="reopened")
        await screen.wait_checks()
        checks = " ".join(str(screen.query_one("#step-checks-text").render()).split())
        assert "package.json says 1.3.3, not 1.3.5" in checks


async def test_after_a_success_enter_runs_the_next_step(sandbox) -> None:
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        await run_step(pilot, app, "update_core", 0, "fetch")
        steps = screen.query_one("#steps")
        await until(pilot, lambda: steps.highlighted == 1 and steps.has_focus, what="next")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: status(app, "update_core", "checkout_master") is StepStatus.SUCCEEDED,
            what="the next step",
        )
        # The output of the step just run stays (moving on is not the operator's move).
        assert any("HEAD is now at" in line for line in screen.pane.lines)


async def test_the_safe_choice_is_the_default_and_says_what_happened(sandbox) -> None:
    app = make_app(sandbox, "update_core")
    async with app.run_test(size=(100, 34)) as pilot:
        await run_step(pilot, app, "update_core", 0, "fetch")
        steps = app.screen.query_one("#steps")
        steps.focus()
        steps.highlighted = 0
        await pilot.press("enter")
        await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmModal) and app.screen.focused is not None,
            what="run again?",
        )
        assert app.screen.focused.id == "cancel"
        await pilot.press("enter")  # Enter alone takes the safe way
        await until(pilot, lambda: not isinstance(app.screen, ConfirmModal), what="closed")
        assert any("Nothing ran" in n for n in _notes(app))
        # Enter on a step that does not apply says why instead of running it.
        steps.highlighted = 2
        await pilot.press("enter")
        await pilot.pause()
        assert any("does not apply" in n for n in _notes(app))
    commands = [e for e in app.workspace.journal.entries() if e["kind"] == "command"]
    assert [c["step"] for c in commands] == ["fetch"]
