"""Pilot tests: Release (real git fork), Deploy to QA (typed clear_data, real deploy.sh), Verify locally."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from textual.widgets import Button, Checkbox, Input

from screens.base import PhaseScreen
from screens.modals.confirm import ChoiceModal, ConfirmModal
from tasks.demo.sandbox import deploy_sh
from tasks.release.deploy import DeployRecord
from tasks.release.env_check import EnvCheckRecord
from tasks.release.publish import ReleaseRecord
from tasks.upgrade.catalogue import deploy_required_env
from tests.support.app import make_app
from tests.support.gitutil import fork_with_upgrade_branch, git
from tests.support.pilot import press_when_shown, started, static_text, text_when_shown, until
from tui.app import CrvsMigrateApp

SECRET = "pa55-Never-Shown"


def _app(tmp_path: Path, view: str, config: Path) -> CrvsMigrateApp:
    return make_app(
        tmp_path / "state" / "session.toml",
        view=view,
        installation="Farajaland",
        answers={"target_version": "1.3.5", "config_path": str(config)},
    )


async def _until(pilot, predicate, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await pilot.pause(0.05)


async def test_release_screen_end_to_end(tmp_path: Path) -> None:
    repo, origin = fork_with_upgrade_branch(tmp_path)
    (repo / "infrastructure").mkdir()
    (repo / "infrastructure" / "deploy.sh").write_text(deploy_sh("1.3.5"))
    env_file = tmp_path / "prod.env"
    values = {n: f"{SECRET}-{n}" for n in deploy_required_env("1.3.5")}
    values["CONTENT_SECURITY_POLICY_WILDCARD"] = "farajaland.org"  # malformed
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    # What `git fetch --all` brings into every fork: upstream's own v1.3.5.
    git(repo, "tag", "v1.3.5", "master")
    app = _app(tmp_path, "release", repo)
    async with app.run_test(size=(110, 60)) as pilot:
        await started(pilot)
        await press_when_shown(pilot, app, "#merge-check")
        await _until(pilot, lambda: "is not merged" in static_text(app, "#merge-result"))
        assert "origin/master" in static_text(app, "#merge-result")
        # Merged here only: the fork (origin) does not have it, so it is not the PR merged.
        git(repo, "checkout", "-q", "master")
        git(repo, "merge", "-q", "--no-ff", "-m", "Merge PR", "upgrade-countryconfig-v1.3.5")
        await press_when_shown(pilot, app, "#merge-check")
        await _until(pilot, lambda: "just fetched" in static_text(app, "#merge-result"))
        assert ReleaseRecord.of(app.session).merge is None
        # The PR merged on the fork: the app's fetch sees it.
        git(repo, "push", "-q", "origin", "master")
        git(repo, "update-ref", "refs/remotes/origin/master", "master~1")  # not fetched yet
        await press_when_shown(pilot, app, "#merge-check")
        await _until(pilot, lambda: ReleaseRecord.of(app.session).merge is not None)
        merge = ReleaseRecord.of(app.session).merge
        assert merge is not None and merge.how.startswith("checked")
        assert merge.into == "origin/master"
        fetches = [
            e["argv"]
            for e in app.workspace.journal.entries()
            if e["kind"] == "command" and e["argv"][:2] == ["git", "fetch"]
        ]
        assert fetches == [["git", "fetch", "--tags", "origin"]] * 3

        # Upstream's v1.3.5 is taken: the proposal is the installation's own, free.
        assert app.screen.query_one("#tag-name", Input).value == "v1.3.5-farajaland"
        assert "git push origin refs/tags/v1.3.5-farajaland" in static_text(app, "#tag-result")
        await press_when_shown(pilot, app, "#tag-create")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert app.screen.body.plain.endswith("-- v1.3.5-farajaland origin/master")  # the fork's
        await press_when_shown(pilot, app, "#confirm")
        assert git(repo, "tag").split() == ["v1.3.5", "v1.3.5-farajaland"]
        tagged = git(repo, "rev-parse", "v1.3.5-farajaland^{commit}").strip()
        assert tagged == git(repo, "rev-parse", "origin/master").strip()
        await press_when_shown(pilot, app, "#tag-push")
        assert git(origin, "tag").strip() == ""  # nothing pushed before the confirmation
        await press_when_shown(pilot, app, "#confirm")
        assert git(origin, "tag").strip() == "v1.3.5-farajaland"

        assert "release_version: 1.3.5-farajaland" in static_text(app, "#publish-info")
        app.screen.query_one("#image-tag", Input).value = "v1.3.5-farajaland"
        await press_when_shown(pilot, app, "#image-record")

        app.screen.query_one("#env-files", Input).value = str(env_file)
        await press_when_shown(pilot, app, "#env-check")
        result = static_text(app, "#env-result")
        assert "invalid  CONTENT_SECURITY_POLICY_WILDCARD" in result
        assert SECRET not in result
        await press_when_shown(pilot, app, "#release-done")
        assert "invalid deploy variables" in await text_when_shown(pilot, app, "#error-message")
        await pilot.press("escape")
        env_file.write_text(env_file.read_text().replace("=farajaland.org", "=*.farajaland.org"))
        await press_when_shown(pilot, app, "#env-check")
        await press_when_shown(pilot, app, "#release-done")
        assert app.session.phase("release").status.value == "done"
    assert SECRET not in app.workspace.state_path.read_text()


async def test_deploy_qa_clear_data_needs_the_typed_host_and_runs_deploy_sh(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    (cfg / "infrastructure").mkdir(parents=True)
    (cfg / "infrastructure" / "deploy.sh").write_text(deploy_sh("1.3.5"))
    env_file = tmp_path / "qa.env"
    env_file.write_text("".join(f"{n}={SECRET}\n" for n in deploy_required_env("1.3.5")))
    app = _app(tmp_path, "deploy_qa", cfg)
    ReleaseRecord.of(app.session).env_check = EnvCheckRecord(
        checked_at="2026-01-01T00:00:00+00:00", ok=True, files=[str(env_file)]
    )
    async with app.run_test(size=(110, 60)) as pilot:
        await started(pilot)
        s = app.screen
        for wid, value in [
            ("#deploy-host", "qa.farajaland.org"),
            ("#deploy-version", "v1.3.5"),
            ("#deploy-config-version", "v1.3.5"),
            ("#deploy-replicas", "1"),
        ]:
            s.query_one(wid, Input).value = value
        s.query_one("#deploy-yarn", Checkbox).value = False
        await pilot.pause()
        assert "--clear_data=no" in static_text(app, "#deploy-command")
        assert not s.query_one("#clear-warning").display
        s.query_one("#clear-data", Checkbox).value = True
        await pilot.pause()
        assert s.query_one("#clear-warning").display
        assert "DELETES EVERY RECORD on qa.farajaland.org" in static_text(app, "#clear-warning")
        assert "type its name exactly" in static_text(app, "#deploy-command")
        s.query_one("#clear-typed", Input).value = "qa.farajaland"
        await pilot.pause()
        assert "type its name exactly" in static_text(app, "#deploy-command")
        s.query_one("#clear-typed", Input).value = "qa.farajaland.org"
        await pilot.pause()
        assert "--clear_data=yes" in static_text(app, "#deploy-command")
        s.query_one("#clear-data", Checkbox).value = False
        await pilot.pause()

        await press_when_shown(pilot, app, "#deploy-run")
        await press_when_shown(pilot, app, "#confirm")
        await _until(pilot, lambda: DeployRecord.of(app.session).qa is not None)
        rec = DeployRecord.of(app.session).qa
        assert rec is not None and rec.exit_code == 0 and "--clear_data=no" in rec.argv
        pane_lines = app.screen.query_one("#deploy-pane").lines
        assert any("Deploying VERSION v1.3.5 to qa.farajaland.org" in ln for ln in pane_lines)
    commands = [e for e in app.workspace.journal.entries() if e["kind"] == "command"]
    assert commands[-1]["argv"][:2] == ["bash", "infrastructure/deploy.sh"]
    assert commands[-1]["exit_code"] == 0
    assert SECRET not in app.workspace.journal.path.read_text()


async def test_verify_local_runs_the_start_command_and_needs_both_confirmations(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "package.json").write_text(
        json.dumps(
            {
                "name": "c",
                "version": "1.3.5",
                "scripts": {"start": "echo '[bold]started[/]'; echo migrations done"},
            }
        )
    )
    app = _app(tmp_path, "verify_local", cfg)
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        assert "yarn start" in static_text(app, "#start-command")
        await press_when_shown(pilot, app, "#local-start")
        # node is not 16 here: the same choice as in phases 3-4 (Cancel is the default).
        await _until(pilot, lambda: isinstance(app.screen, ChoiceModal) and app.screen.focused)
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        app.screen.query_one("#choice-ignore", Button).press()
        await _until(pilot, lambda: not isinstance(app.screen, ChoiceModal))
        pane = app.screen.query_one("#local-pane")
        await _until(pilot, lambda: any("migrations done" in ln for ln in pane.lines))
        assert any("[bold]started[/]" in ln for ln in pane.lines)  # shown literally
        assert app.screen.query_one("#local-confirm", Button).disabled
        app.screen.query_one("#local-up", Checkbox).value = True
        await pilot.pause()
        assert app.screen.query_one("#local-confirm", Button).disabled
        app.screen.query_one("#local-migrated", Checkbox).value = True
        await pilot.pause()
        await press_when_shown(pilot, app, "#local-confirm")
        assert app.session.phase("verify_local").status.value == "done"
    kinds = [(e["kind"], e.get("step")) for e in app.workspace.journal.entries()]
    # The plan's step ids: the run and the confirmation are the step "start_locally".
    assert ("command", "start_locally") in kinds and ("confirmation", "start_locally") in kinds
    (command,) = [e for e in app.workspace.journal.entries() if e["kind"] == "command"]
    assert command["argv"][-2:] == ["--ignore-engines", "start"]


async def test_the_started_output_comes_into_view_at_80x24(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    script = "; ".join(f"echo line {n}" for n in range(30)) + "; echo migrations done"
    (cfg / "package.json").write_text(
        json.dumps({"name": "c", "version": "1.3.5", "scripts": {"dev": script}})
    )
    app = _app(tmp_path, "verify_local", cfg)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PhaseScreen))
        await app.screen.body_shown()
        content = app.screen.query_one("#content")
        pane = app.screen.query_one("#local-pane")
        start = app.screen.query_one("#local-start", Button)
        # Scrolled as far as the button: the pane is below it, out of view.
        content.scroll_home(animate=False)
        await pilot.pause()
        start.scroll_visible(animate=False)
        await pilot.pause()
        assert not content.region.contains_region(pane.region)
        start.press()
        await _until(pilot, lambda: isinstance(app.screen, ChoiceModal) and app.screen.focused)
        app.screen.query_one("#choice-ignore", Button).press()
        await _until(pilot, lambda: not isinstance(app.screen, ChoiceModal))
        await _until(pilot, lambda: "exit code 0" in static_text(app, "#local-pane .output-status"))
        await pilot.pause()
        # The whole pane shows, with the end of the output.
        assert content.region.contains_region(pane.region)
        log = pane.query_one(".output-log")
        shown = [log.render_line(y).text.strip() for y in range(log.size.height)]
        assert len(shown) >= 8
        assert "migrations done" in shown and "line 29" in shown


async def test_a_failed_local_start_is_confirmed_only_with_a_typed_reason(tmp_path: Path) -> None:
    from screens.modals.confirm import TextPromptModal

    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "package.json").write_text(
        json.dumps({"name": "c", "version": "1.3.5", "scripts": {"dev": "echo boom; exit 3"}})
    )
    app = _app(tmp_path, "verify_local", cfg)
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await press_when_shown(pilot, app, "#local-start")
        # Wait for the dialog's buttons, not only the dialog (it may still be composing).
        await _until(pilot, lambda: isinstance(app.screen, ChoiceModal) and app.screen.focused)
        app.screen.query_one("#choice-plain", Button).press()
        await _until(pilot, lambda: not isinstance(app.screen, ChoiceModal))
        rec = app.session.phase("verify_local").step("start_locally")
        await _until(pilot, lambda: rec.status.value == "failed")
        assert "exit code" in static_text(app, "#local-pane .output-status")
        app.screen.query_one("#local-up", Checkbox).value = True
        app.screen.query_one("#local-migrated", Checkbox).value = True
        await pilot.pause()
        await press_when_shown(pilot, app, "#local-confirm")
        await _until(pilot, lambda: isinstance(app.screen, TextPromptModal))
        # Escape (or an empty answer) records nothing, and says so.
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, TextPromptModal))
        assert app.session.phase("verify_local").status.value != "done"
        await press_when_shown(pilot, app, "#local-confirm")
        await _until(pilot, lambda: isinstance(app.screen, TextPromptModal))
        app.screen.query_one("#answer", Input).value = "started with docker compose in tmux"
        await pilot.press("enter")
        await _until(pilot, lambda: app.session.phase("verify_local").status.value == "done")
    confirmations = [
        e["what"] for e in app.workspace.journal.entries() if e["kind"] == "confirmation"
    ]
    assert any("started with docker compose in tmux" in w and "failed" in w for w in confirmations)
    assert "started with docker compose in tmux" in rec.note and rec.by


async def test_release_merge_check_offline_names_the_fetch_command(tmp_path: Path) -> None:
    repo, _ = fork_with_upgrade_branch(tmp_path)
    git(repo, "remote", "set-url", "origin", str(tmp_path / "unreachable.git"))
    git(repo, "update-ref", "-d", "refs/remotes/origin/master")
    app = _app(tmp_path, "release", repo)
    async with app.run_test(size=(110, 60)) as pilot:
        await started(pilot)
        await press_when_shown(pilot, app, "#merge-check")
        await _until(pilot, lambda: "fetch the fork first" in static_text(app, "#merge-result"))
        result = static_text(app, "#merge-result")
        assert "git fetch --tags origin failed" in result
        assert f"git -C {repo} fetch --tags origin" in result
        assert ReleaseRecord.of(app.session).merge is None


async def test_a_tag_taken_on_the_fork_is_replaced_after_the_fetch(tmp_path: Path) -> None:
    repo, origin = fork_with_upgrade_branch(tmp_path)
    # A colleague already released v1.3.5-1 from another clone; not fetched here yet.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    git(other, "tag", "v1.3.5-1")
    git(other, "push", "-q", "origin", "v1.3.5-1")
    app = _app(tmp_path, "release", repo)
    app.session.installation = ""
    async with app.run_test(size=(110, 60)) as pilot:
        await started(pilot)
        field = app.screen.query_one("#tag-name", Input)
        assert field.value == "v1.3.5-1"  # free as far as this checkout knows
        await press_when_shown(pilot, app, "#merge-check")
        await _until(pilot, lambda: field.value == "v1.3.5-2")
        assert "git push origin refs/tags/v1.3.5-2" in static_text(app, "#tag-result")
