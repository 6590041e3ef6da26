"""Phase 4 · Merge the country config: fetch --all, the upgrade branch, merge upstream
master, yarn --force; then the conflicts, until none is left."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.modals.confirm import TextPromptModal
from screens.step_phase import StepPhaseScreen
from tasks.errors import CrvsError
from tasks.local import steps as step_tasks
from tasks.local.checkout import (
    DEFAULT_UPSTREAM_REMOTE,
    MERGE_ABORT_ARGV,
    UPSTREAM_REMOTES,
    ConflictReport,
    add_remote_argv,
    check_branch_name,
    head_commit,
    incoming_commits,
    scan_conflicts,
    switch_branch_argv,
    target_version,
    upgrade_branch,
)
from tasks.local.process import ProcessResult
from tasks.local.steps import Step
from tasks.local.upgrade_steps import CONFIG_PHASE, config_path, config_steps, merge_blocker
from tasks.text import strip_control

COMMIT_MERGE_ARGV = ("git", "commit", "--no-edit")


class MergeConfigScreen(StepPhaseScreen):
    VIEW_ID = CONFIG_PHASE
    BINDINGS: ClassVar[list[BindingType]] = [
        *StepPhaseScreen.BINDINGS,
        Binding("r", "recheck_conflicts", "Re-check conflicts"),
        Binding("a", "abort_merge", "Abort merge"),
        Binding("m", "commit_merge", "Commit merge", show=False),
    ]

    def __init__(self, view_id: str | None = None, **kwargs) -> None:
        super().__init__(view_id, **kwargs)
        self.version: str | None = None
        self.version_error: CrvsError | None = None
        self.conflicts: ConflictReport | None = None
        self.conflicted_before: list[str] = []
        self.pre_merge_head: str | None = None
        self.incoming: list[str] = []

    # -- the phase's own parts -------------------------------------------------------

    def repo_path(self) -> Path | None:
        return config_path(self.session)

    def missing_path_hint(self) -> str:
        return (
            "No country config path yet: answer “Where is your country config fork?” "
            "in Prepare (phase 1)."
        )

    def build_steps(self, path: Path) -> list[Step]:
        yarn = self.tools.yarn if self.tools is not None else ("yarn",)
        remote = self.repo.upstream_remote if self.repo is not None else None
        try:
            self.version, self.version_error = target_version(self.session), None
        except CrvsError as exc:
            self.version, self.version_error = None, exc
        return config_steps(path, self.version or "1.3.x", remote, yarn)

    @property
    def branch_name(self) -> str | None:
        return upgrade_branch(self.version) if self.version else None

    def blocker_args(self) -> dict:
        return {"upgrade_branch_name": self.branch_name}

    def compose_extra(self) -> ComposeResult:
        with VerticalScroll(id="conflicts"):
            yield Static("", id="conflicts-text")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#conflicts").border_title = "Merge conflicts · r re-check · a abort"
        self.query_one("#conflicts").display = False

    async def phase_checks(self, path: Path) -> None:
        self.conflicts = await scan_conflicts(path, self.conflicted_before)
        self.show_conflicts()

    def check_lines(self) -> Text:
        text = Text()
        if self.repo is None:
            return text
        remote = self.repo.upstream_remote
        if remote:
            text.append(f"✓ upstream remote: {remote}\n")
        else:
            text.append(
                f"! no upstream remote ({' or '.join(UPSTREAM_REMOTES)}): "
                "you will be asked for its URL\n",
                style="yellow",
            )
        if self.version_error is not None:
            text.append(f"✗ {self.version_error.message}\n", style="bold red")
        elif self.branch_name:
            if self.repo.branch == self.branch_name:
                text.append(f"✓ on the upgrade branch {self.branch_name}\n")
            elif self.branch_name in self.repo.branches:
                text.append(
                    f"! {self.branch_name} already exists: it will not be recreated "
                    "(you can switch to it)\n",
                    style="yellow",
                )
            else:
                text.append(f"○ upgrade branch {self.branch_name} does not exist yet\n")
        if self.incoming:
            text.append(f"✓ {len(self.incoming)} upstream commit(s) came in:\n")
            for line in self.incoming[:10]:
                text.append(f"    {strip_control(line)}\n", style="dim")
        return text

    def show_conflicts(self) -> None:
        if not self.is_attached:  # the app is closing
            return
        box = self.query_one("#conflicts")
        report = self.conflicts
        if report is None or (report.clean and not report.merge_in_progress):
            box.display = False
            return
        box.display = True
        text = Text()
        if report.files:
            text.append(f"{len(report.files)} file(s) to resolve in your editor:\n", style="bold")
            for f in report.files:
                text.append(f"  ✗ {strip_control(f.describe())}\n", style="red")
            text.append("Then `git add` them and press r to re-check; a aborts the merge.")
        else:
            text.append("✓ No conflicts or markers left. ", style="green")
            text.append("Press m to commit the merge (git commit --no-edit).")
        self.query_one("#conflicts-text", Static).update(text)

    def done_blocker(self) -> str | None:
        return merge_blocker(self.session, self.conflicts)

    # -- before and after each step ------------------------------------------------------

    async def prepare_step(self, step: Step) -> Step | None:
        if self.version_error is not None:
            raise self.version_error
        if "remote" in step.needs and self.repo is not None and not self.repo.upstream_remote:
            if not await self.offer_add_remote(step.cwd):
                return None
            self.steps = self.build_steps(step.cwd)
            step = next(s for s in self.steps if s.id == step.id)
        if step.id == "branch":
            return await self.prepare_branch(step)
        if step.id == "merge":
            self.pre_merge_head = await head_commit(step.cwd)
            self.incoming = []
        return step

    async def offer_add_remote(self, cwd: Path) -> bool:
        body = Text(
            "This repository has no upstream remote (the notes call it `countryconfig`; older "
            "guides `farajaland`). crvs-migrate never guesses it: type the URL of the upstream "
            "OpenCRVS country config repository, for example\n"
            "https://github.com/opencrvs/opencrvs-countryconfig.git"
        )
        url = await self.app.push_screen_wait(
            TextPromptModal(
                "Add the upstream remote",
                body,
                "URL of opencrvs-countryconfig",
                f"Add remote {DEFAULT_UPSTREAM_REMOTE}",
            )
        )
        if not url:
            self.notify("No remote was added.")
            return False
        argv = add_remote_argv(DEFAULT_UPSTREAM_REMOTE, url)
        self.journal.confirmation(f"add remote: {' '.join(argv)}", phase=self.view_id)
        result = await self.run_command(
            Step("add_remote", "Add the upstream remote", tuple(argv), cwd),
            "add_remote",
            record_step=False,
        )
        if not result.ok:
            raise CrvsError("git remote add failed: see the output pane.", title="Remote not added")
        await self.run_checks()
        return True

    async def prepare_branch(self, step: Step) -> Step | None:
        name = self.branch_name
        assert name is not None
        await check_branch_name(name, step.cwd)
        repo = self.repo
        assert repo is not None
        if repo.branch == name:
            rec = step_tasks.record(self.session, self.view_id, step.id)
            rec.succeed(note=f"already on {name}")
            self.save_session()
            self.notify(f"Already on {name}: nothing to do.")
            self.refresh_steps()
            return None
        if name in repo.branches:
            argv = switch_branch_argv(name)
            body = Text(
                f"The branch {name} already exists in {step.cwd}. It is never recreated or "
                f"overwritten. Switch to it with `{' '.join(argv)}`?"
            )
            if not await self.confirm("The upgrade branch exists", body, f"Switch to {name}"):
                return None
            self.journal.confirmation(f"switch branch: {' '.join(argv)}", phase=self.view_id)
            return Step(step.id, f"Switch to {name}", tuple(argv), step.cwd, step.needs)
        return step

    async def after_step(self, step: Step, result: ProcessResult) -> None:
        if step.id != "merge":
            return
        path = step.cwd
        self.conflicts = await scan_conflicts(path, self.conflicted_before)
        self.conflicted_before = [f.path for f in self.conflicts.files]
        if self.conflicts.files:
            rec = step_tasks.record(self.session, self.view_id, "merge")
            rec.note = f"stopped with conflicts in {len(self.conflicts.files)} file(s)"
            self.save_session()
            self.notify(
                f"The merge stopped with conflicts in {len(self.conflicts.files)} file(s).",
                severity="warning",
            )
        elif result.ok:
            await self.show_incoming(path)
        self.show_conflicts()

    async def show_incoming(self, path: Path) -> None:
        before = self.pre_merge_head or "HEAD^1"
        try:
            self.incoming = await incoming_commits(path, before)
        except Exception:  # noqa: BLE001 - e.g. no parent: nothing to list
            self.incoming = []
        self.pane.write_lines(
            ["", f"Upstream commits that came in ({len(self.incoming)}):", *self.incoming]
        )

    # -- conflict actions -------------------------------------------------------------

    def action_recheck_conflicts(self) -> None:
        self._recheck_worker()

    @work(group="checks", exclusive=True)
    async def _recheck_worker(self) -> None:
        await self.recheck()

    async def recheck(self) -> None:
        path = self.repo_path()
        if path is None:
            return
        await self.run_checks()
        report = self.conflicts
        if report is None:
            return
        if report.files:
            self.notify(f"{len(report.files)} file(s) still to resolve.", severity="warning")
        elif report.merge_in_progress:
            self.notify("No conflicts left: press m to commit the merge.")
        else:
            self.notify("No conflicts.")
        self.update_phase_status()

    def action_abort_merge(self) -> None:
        if self.current_run is not None:
            self.notify("A step is running.")
            return
        self._abort_worker()

    @work(group="steps")
    async def _abort_worker(self) -> None:
        await self.abort_merge()

    async def abort_merge(self) -> None:
        path = self.repo_path()
        if path is None:
            return
        report = await scan_conflicts(path, self.conflicted_before)
        if not report.merge_in_progress:
            self.notify("No merge is in progress.")
            return
        body = Text(
            f"Run `{' '.join(MERGE_ABORT_ARGV)}` in {path}? This throws away the merge and any "
            "conflict resolutions you made, and puts the branch back where it was before the merge."
        )
        if not await self.confirm("Abort the merge?", body, "Abort the merge", danger=True):
            return
        self.journal.confirmation(f"abort merge: {' '.join(MERGE_ABORT_ARGV)}", phase=self.view_id)
        self.current_step = Step("merge_abort", "Abort merge", tuple(MERGE_ABORT_ARGV), path)
        try:
            result = await self.run_command(self.current_step, "merge_abort", record_step=False)
        finally:
            self.current_step = None
        if result.ok:
            rec = step_tasks.record(self.session, self.view_id, "merge")
            rec.cancel("merge aborted by the operator")
            self.conflicted_before = []
            self.incoming = []
            self.save_session()
        await self.recheck()

    def action_commit_merge(self) -> None:
        if self.current_run is not None:
            self.notify("A step is running.")
            return
        self._commit_worker()

    @work(group="steps")
    async def _commit_worker(self) -> None:
        await self.commit_merge()

    async def commit_merge(self) -> None:
        path = self.repo_path()
        if path is None:
            return
        report = await scan_conflicts(path, self.conflicted_before)
        self.conflicts = report
        self.show_conflicts()
        if not report.merge_in_progress:
            self.notify("No merge is in progress.")
            return
        if report.files:
            self.notify("Conflicts remain: resolve them first.", severity="error")
            return
        self.journal.confirmation(
            f"commit merge: {' '.join(COMMIT_MERGE_ARGV)}", phase=self.view_id
        )
        step = Step("merge_commit", "Commit the merge", COMMIT_MERGE_ARGV, path)
        result = await self.run_command(step, "merge_commit", record_step=False)
        if result.ok:
            rec = step_tasks.record(self.session, self.view_id, "merge")
            rec.succeed(note="conflicts resolved by the operator and committed")
            self.save_session()
            await self.show_incoming(path)
        await self.recheck()


SCREEN = MergeConfigScreen
