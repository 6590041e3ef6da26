"""Release: merged, tagged (never moved), pushed on confirmation, image recorded, env checked."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
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
from tasks.errors import CrvsError
from tasks.release.env_check import check_env_files, suggested_env_file
from tasks.release.publish import (
    PHASE,
    ReleaseRecord,
    create_tag,
    is_merged,
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
)


class ReleaseScreen(ReleasePhaseScreen):
    VIEW_ID = PHASE

    def compose_body(self) -> ComposeResult:
        r = ReleaseRecord.of(self.session)
        version = target_version(self.session)
        with VerticalScroll(id="content"):
            yield Static(plan_text(self.session, self.view_id), id="plan-box", classes="hint")
            yield Static("1. The pull request is merged", classes="release-step")
            yield Static(
                "Merging the PR is yours. The app checks that the upgrade branch is in the "
                "release branch, or records your word when it was merged elsewhere.",
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
            yield Static(id="merge-result")

            yield Static("2. Tag the release", classes="release-step")
            with Horizontal(classes="release-fields"):
                yield Input(
                    r.tag.name if r.tag else self._proposed_tag(version),
                    placeholder="tag",
                    id="tag-name",
                )
                yield Input("origin", placeholder="remote", id="tag-remote")
            with Horizontal(classes="release-buttons"):
                yield Button("Create annotated tag", id="tag-create")
                yield Button("Push the tag…", id="tag-push")
            yield Static(id="tag-result", classes="command")

            yield Static("3. Build and publish the image", classes="release-step")
            yield Static(id="publish-info")
            with Horizontal(classes="release-fields"):
                yield Input(
                    r.image.tag if r.image else "",
                    placeholder="image tag published",
                    id="image-tag",
                )
                yield Button("Record image tag", id="image-record")

            yield Static("4. Deploy environment variables", classes="release-step")
            yield Static(
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
            yield Static(id="env-result")

            yield ManualSteps(self.view_id)
            yield Button("Release is done", id="release-done", variant="success")
            yield Static(id="release-missing", classes="hint")

    @staticmethod
    def _proposed_tag(version: str) -> str:
        # A target version edited by hand into nonsense leaves the field empty.
        try:
            return propose_tag(version)
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
        branch, into = self._values("merge-branch", "merge-into")
        if is_merged(self._cfg(), branch, into):
            record_merge_checked(self.session, branch, into)
            self.save_session()
            self.refresh_from_session()
        else:
            self.query_one("#merge-result", Static).update(
                Text(
                    f"✗ {branch} is not merged into {into} here. Merge the PR (and fetch), "
                    "or confirm it was merged elsewhere.",
                    style="bold red",
                )
            )

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
        name, into = self._values("tag-name", "merge-into")

        def done(ok: bool | None) -> None:
            if not ok:
                return
            commit = create_tag(self._cfg(), name, self.journal, ref=into or "HEAD")
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
