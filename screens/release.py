"""Release: merged, tagged (never moved), pushed on confirmation, image recorded, env checked."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from screens.modals.confirm import ConfirmModal
from screens.release_parts import (
    ReleasePhaseScreen,
    command_text,
    config_path,
    plan_text,
    target_version,
)
from screens.widgets.manual_steps import ManualSteps
from screens.widgets.status_text import StatusText
from tasks.errors import CrvsError
from tasks.release.env_check import check_env_files, suggested_env_file
from tasks.release.publish import (
    PHASE,
    GitFailed,
    NotFetched,
    ReleaseRecord,
    check_merged,
    create_tag,
    fetch_argv,
    fetch_remote,
    mark_release_done,
    propose_tag,
    publish_inputs,
    push_tag,
    push_tag_argv,
    read_publish_workflow,
    record_env_check,
    record_image_tag,
    record_merge_checked,
    record_merge_confirmed,
    record_tag,
    record_tag_pushed,
    release_missing,
    release_ref,
    taken_tags,
)
from tasks.text import strip_control


def taken_now(repo: Path) -> set[str]:
    try:
        return taken_tags(repo)
    except CrvsError:
        return set()


class ReleaseScreen(ReleasePhaseScreen):
    VIEW_ID = PHASE

    def compose_body(self) -> ComposeResult:
        r = ReleaseRecord.of(self.session)
        version = target_version(self.session)
        with VerticalScroll(id="content"):
            yield StatusText(plan_text(self.session, self.view_id), id="plan-box", classes="hint")
            yield StatusText("1. The pull request is merged", classes="release-step")
            yield StatusText(
                "Merging the PR is yours. The app fetches the fork (the remote below) and "
                "checks that the upgrade branch is in its release branch (e.g. origin/master), "
                "or records your word when it was merged elsewhere.",
                classes="hint",
            )
            with Horizontal(classes="release-fields"):
                yield Input(
                    r.merge.branch if r.merge else f"upgrade-countryconfig-v{version}",
                    placeholder="upgrade branch",
                    id="merge-branch",
                )
                yield Input(
                    r.merge.into if r.merge else "master",
                    placeholder="release branch",
                    id="merge-into",
                )
            with Horizontal(classes="release-buttons"):
                yield Button("Check it is merged", id="merge-check")
                yield Button("It is merged elsewhere", id="merge-confirm")
            yield StatusText(id="merge-result")

            yield StatusText("2. Tag the release", classes="release-step")
            with Horizontal(classes="release-fields"):
                yield Input(
                    r.tag.name if r.tag else self._proposed_tag(version, "origin"),
                    placeholder="tag",
                    id="tag-name",
                )
                yield Input("origin", placeholder="remote", id="tag-remote")
            with Horizontal(classes="release-buttons"):
                yield Button("Create annotated tag", id="tag-create")
                yield Button("Push the tag…", id="tag-push")
            yield StatusText(id="tag-result", classes="command")

            yield StatusText("3. Build and publish the image", classes="release-step")
            yield StatusText(id="publish-info")
            with Horizontal(classes="release-fields"):
                yield Input(
                    r.image.tag if r.image else "",
                    placeholder="image tag published",
                    id="image-tag",
                )
                yield Button("Record image tag", id="image-record")

            yield StatusText("4. Deploy environment variables", classes="release-step")
            yield StatusText(
                "Point to the env file(s) your deploy uses (dotenv). Only names are shown and "
                "kept, never values.",
                classes="hint",
            )
            with Horizontal(classes="release-fields"):
                yield Input(
                    " ".join(r.env_check.files) if r.env_check else self._suggested_env(),
                    placeholder="env file path(s)",
                    id="env-files",
                )
                yield Input(placeholder="DOMAIN (optional)", id="env-domain")
                yield Button("Check", id="env-check")
            yield StatusText(id="env-result")

            yield ManualSteps(self.view_id)
            yield Button("Release is done", id="release-done", variant="success")
            yield StatusText(id="release-missing", classes="hint")

    def _proposed_tag(self, version: str, remote: str) -> str:
        """A tag free here (upstream's v1.3.5 is not); empty when none can be worked out
        (no checkout yet, a target version edited by hand into nonsense)."""
        try:
            return propose_tag(
                self._cfg(), version, remote=remote, installation=self.session.installation
            )
        except CrvsError:
            return ""

    def _suggested_env(self) -> str:
        """An env file the country config keeps for production deploys, when there is one."""
        try:
            return suggested_env_file(config_path(self.session))
        except CrvsError:
            return ""

    # -- display ---------------------------------------------------------------

    def _cfg(self) -> Path:
        return config_path(self.session)

    def refresh_body(self) -> None:
        r = ReleaseRecord.of(self.session)
        merge = r.merge
        out = self.query_one("#merge-result", Static)
        if merge:
            out.update(
                Text(f"✓ {merge.branch} merged into {merge.into} ({merge.how})", style="green")
            )
        tag = r.tag
        name = self.query_one("#tag-name", Input).value.strip()
        remote = self.query_one("#tag-remote", Input).value.strip()
        text = Text()
        if tag is not None:
            text.append(f"✓ tag {tag.name} on {tag.commit[:12]}\n", style="green")
        try:
            text.append("Push with: ", style="dim")
            text.append_text(command_text(push_tag_argv(remote, name)))
        except CrvsError as exc:
            text.append(exc.message, style="bold red")
        if tag is not None and tag.pushed_at:
            text.append(f"\n✓ pushed to {tag.remote} at {tag.pushed_at}", style="green")
        self.query_one("#tag-result", Static).update(text)
        self._show_publish(name)
        self._show_env()
        missing = release_missing(self.session)
        self.query_one("#release-missing", Static).update(
            Text("Still missing: " + "; ".join(missing))
            if missing
            else Text("Everything is recorded.")
        )

    def _show_publish(self, tag_name: str) -> None:
        try:
            wf = read_publish_workflow(self._cfg())
        except CrvsError:
            wf = None
        branch = self.query_one("#merge-into", Input).value.strip() or "master"
        text = Text("Run the publish-release.yml workflow (Actions → Publish release) with:\n")
        for key, value in publish_inputs(branch, tag_name or "v?").items():
            text.append(f"  {key}: ", style="bold")
            text.append(f"{value}\n")
        for pitfall in wf.pitfalls() if wf else []:
            text.append(f"▲ {pitfall}\n", style="bold yellow")
        text.rstrip()
        self.query_one("#publish-info", Static).update(text)

    def _show_env(self) -> None:
        env = ReleaseRecord.of(self.session).env_check
        out = self.query_one("#env-result", Static)
        if env is None:
            out.update("")
            return
        text = Text(f"Required list from {env.source} ({len(env.required)} names)\n")
        for name in env.missing:
            text.append("  ✗ missing  ", style="bold red")
            text.append(f"{name}\n")
        for problem in env.invalid:
            text.append("  ✗ invalid  ", style="bold red")
            text.append(f"{problem.name}: {problem.reason}\n")
        text.append(f"  ✓ present  {len(env.present)}: ", style="green")
        text.append(", ".join(env.present) + "\n")
        if env.unused:
            text.append("  ▲ no longer used: " + ", ".join(env.unused) + "\n", style="yellow")
        text.rstrip()
        out.update(text)

    @on(Input.Changed, "#tag-name, #tag-remote, #merge-into")
    def _inputs_changed(self) -> None:
        self.refresh_from_session()

    # -- actions ---------------------------------------------------------------------

    def _values(self, *ids: str) -> list[str]:
        return [self.query_one(f"#{i}", Input).value.strip() for i in ids]

    @on(Button.Pressed, "#merge-check")
    def _merge_check(self) -> None:
        branch, into, remote = self._values("merge-branch", "merge-into", "tag-remote")
        fetch_argv(remote)  # a bad remote name is refused before anything runs
        self.query_one("#merge-result", Static).update(
            Text.assemble(("Fetching: ", "dim"), command_text(fetch_argv(remote)))
        )
        self._fetch_and_check(branch, into, remote)

    @work(group="release-fetch", exclusive=True)
    async def _fetch_and_check(self, branch: str, into: str, remote: str) -> None:
        """Fetch the fork (the PR was merged there), then read its remote-tracking branch.

        Offline, the last fetch is read and the screen says so: a merge seen then stays
        true; "not merged" names the command to run once the fork can be reached.
        """
        repo = self._cfg()
        out = self.query_one("#merge-result", Static)
        fetch_problem = ""
        if self.workspace.read_only:
            fetch_problem = "a read-only window runs nothing"
        else:
            try:
                await asyncio.to_thread(fetch_remote, repo, remote, self.journal)
            except GitFailed as exc:
                fetch_problem = strip_control(exc.message)
        self._offer_free_tag()
        try:
            check = await asyncio.to_thread(check_merged, repo, branch, into, remote)
        except NotFetched as exc:
            text = Text("✗ ", style="bold red")
            if fetch_problem:
                text.append(f"{fetch_problem}\n")
            text.append(exc.message)
            out.update(text)
            return
        if check.merged:
            record_merge_checked(self.session, branch, check.against)
            self.save_session()
            self.refresh_from_session()
            if fetch_problem:
                out.update(
                    Text(
                        f"✓ {branch} merged into {check.against} (as of the last fetch; "
                        f"this one failed: {fetch_problem})",
                        style="green",
                    )
                )
            return
        text = Text(f"✗ {branch} is not merged into {check.against}", style="bold red")
        if fetch_problem:
            text.append(f" as of the last fetch: this one failed ({fetch_problem}).\n")
        else:
            text.append(" (just fetched).\n")
        text.append(
            "Merge the PR on the fork, then check again; or run yourself: ", style="default"
        )
        text.append_text(command_text(fetch_argv(remote), repo))
        text.append("\nor confirm it was merged elsewhere.", style="default")
        out.update(text)

    def _offer_free_tag(self) -> None:
        """After a fetch, replace the proposed tag if it is now taken (and not yet made)."""
        if ReleaseRecord.of(self.session).tag is not None:
            return
        field = self.query_one("#tag-name", Input)
        remote = self.query_one("#tag-remote", Input).value.strip()
        fresh = self._proposed_tag(target_version(self.session), remote)
        current = field.value.strip()
        if fresh and current != fresh and (not current or current in taken_now(self._cfg())):
            field.value = fresh

    @on(Button.Pressed, "#merge-confirm")
    def _merge_confirm(self) -> None:
        branch, into = self._values("merge-branch", "merge-into")

        def done(ok: bool | None) -> None:
            if ok:
                record_merge_confirmed(self.session, self.journal, branch, into)
                self.save_session()
                self.refresh_from_session()

        self.app.push_screen(
            ConfirmModal(
                "Merged elsewhere?",
                Text(f"{branch} is merged into the release branch ({into}) on GitHub."),
                "Yes, it is merged",
            ),
            done,
        )

    @on(Button.Pressed, "#tag-create")
    def _tag_create(self) -> None:
        name, into, remote = self._values("tag-name", "merge-into", "tag-remote")
        # On the fork's release branch as fetched (the PR merged there), not a stale local one.
        into = release_ref(self._cfg(), into, remote) if into else "HEAD"

        def done(ok: bool | None) -> None:
            if not ok:
                return
            commit = create_tag(self._cfg(), name, self.journal, ref=into)
            record_tag(self.session, name, commit)
            self.save_session()
            self.refresh_from_session()

        self.app.push_screen(
            ConfirmModal(
                f"Create tag {name}?",
                command_text(
                    ["git", "tag", "-a", "-m", f"OpenCRVS country config {name}", "--", name, into]
                ),
                "Create the tag",
            ),
            done,
        )

    @on(Button.Pressed, "#tag-push")
    def _tag_push(self) -> None:
        name, remote = self._values("tag-name", "tag-remote")
        argv = push_tag_argv(remote, name)

        def done(ok: bool | None) -> None:
            if not ok:
                return
            push_tag(self._cfg(), remote, name, self.journal, confirmed=True)
            record_tag_pushed(self.session, remote)
            self.save_session()
            self.refresh_from_session()

        self.app.push_screen(ConfirmModal("Push the tag?", command_text(argv), "Push"), done)

    @on(Button.Pressed, "#image-record")
    def _image(self) -> None:
        (value,) = self._values("image-tag")
        record_image_tag(self.session, value)
        self.save_session()
        self.refresh_from_session()

    @on(Button.Pressed, "#env-check")
    def _env(self) -> None:
        files, domain = self._values("env-files", "env-domain")
        # A served demo reads no file outside its sandbox (OutsideSandbox is a CrvsError).
        paths = [self.workspace.check_path(p).absolute() for p in files.replace(",", " ").split()]
        if not paths:
            raise CrvsError("Give at least one env file.", "No env file")
        check = check_env_files(
            paths, self._cfg(), target_version(self.session), domain=domain or None
        )
        record_env_check(self.session, check)
        self.save_session()
        self.refresh_from_session()

    @on(Button.Pressed, "#release-done")
    def _done(self) -> None:
        mark_release_done(self.session)
        self.save_session()
        self.refresh_from_session()


SCREEN = ReleaseScreen
