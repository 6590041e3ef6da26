"""Phase 4 · Merge the country config: fetch --all, the upgrade branch, merge upstream's
release (``v<target>`` or ``release-v<target>``, never master), yarn --force; then the
conflicts, until none is left. The phase is done once package.json says the target."""

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
    merged_commits,
    scan_conflicts,
    switch_branch_argv,
    target_version,
    upgrade_branch,
)
from tasks.local.process import ProcessResult
from tasks.local.steps import Step
from tasks.local.upgrade_steps import (
    CONFIG_PHASE,
    OutsideWork,
    ReleaseRef,
    config_outside_work,
    config_path,
    config_steps,
    merge_blocker,
    release_ref,
    version_problem,
)
from tasks.session.phases import StepStatus
from tasks.text import strip_control

RESOLVE_STEP = "resolve_conflicts"

COMMIT_MERGE_ARGV = ("git", "commit", "--no-edit")


class MergeConfigScreen(StepPhaseScreen):
    DEFAULT_CSS = """
    MergeConfigScreen #conflicts {
        height: auto;
        max-height: 8;
        border: round $warning;
        border-title-color: $warning;
        padding: 0 1;
    }
    """

    VIEW_ID = CONFIG_PHASE
    BINDINGS: ClassVar[list[BindingType]] = [
        *StepPhaseScreen.BINDINGS,
        # c (Re-check) also re-checks the conflicts here.
        Binding("c", "recheck_conflicts", "Check"),
        Binding("a", "abort_merge", "Abort"),
        Binding("m", "commit_merge", "Commit"),
    ]

    def __init__(self, view_id: str | None = None, **kwargs) -> None:
        super().__init__(view_id, **kwargs)
        self.version: str | None = None
        self.version_error: CrvsError | None = None
        self.conflicts: ConflictReport | None = None
        self.conflicted_before: list[str] = []
        # Upstream's release as this checkout knows it (after the fetch).
        self.ref: ReleaseRef | None = None
        # The commits the merge of the release brought in (counted from its parents).
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
        try:
            self.version, self.version_error = target_version(self.session), None
        except CrvsError as exc:
            self.version, self.version_error = None, exc
        version = self.version or "1.3.x"
        ref = self.ref.name if self.ref is not None else f"v{version}"
        return config_steps(path, version, ref, yarn)

    @property
    def remote(self) -> str | None:
        return self.repo.upstream_remote if self.repo is not None else None

    @property
    def branch_name(self) -> str | None:
        return upgrade_branch(self.version) if self.version else None

    def blocker_args(self) -> dict:
        return {"upgrade_branch_name": self.branch_name}

    def compose_extra(self) -> ComposeResult:
        with VerticalScroll(id="conflicts"):
            yield Static("", id="conflicts-text")

    def body_mounted(self) -> None:
        super().body_mounted()
        self.query_one(
            "#conflicts"
        ).border_title = "Merge conflicts · c re-check · a abort · m commit"
        self.query_one("#conflicts").display = False

    async def phase_checks(self, path: Path) -> None:
        import asyncio

        self.conflicts = await scan_conflicts(path, self.conflicted_before)
        if self.version:
            self.ref = await asyncio.to_thread(release_ref, path, self.version, self.remote)
            if self.ref.found:
                self.incoming = await merged_commits(path, self.ref.name) or []
        self.record_resolved_conflicts()
        self.show_conflicts()

    def outside_work(self, path: Path) -> list[OutsideWork]:
        if self.repo is None or self.ref is None:
            return []
        return config_outside_work(path, self.ref, self.repo, self.branch_name)

    async def recognise_outside_work(self, path: Path) -> None:
        await super().recognise_outside_work(path)
        self.record_resolved_conflicts()  # a merge concluded in the shell resolved them too

    def record_resolved_conflicts(self) -> None:
        """Resolving conflicts is the operator's; the evidence says when it is done: the
        release merged, the merge concluded, no conflict or marker left."""
        rec = step_tasks.record(self.session, self.view_id, RESOLVE_STEP)
        merged = step_tasks.record(self.session, self.view_id, "merge_upstream")
        report = self.conflicts
        if rec.status is StepStatus.SUCCEEDED or report is None or report.blocking:
            return
        if merged.status is not StepStatus.SUCCEEDED or self.workspace.read_only:
            return
        rec.succeed(note="no conflict left: the merge is concluded, no conflict markers")
        self.save_session()

    def manual_guard(self, step_id: str) -> str | None:
        if step_id != RESOLVE_STEP:
            return None
        if self.conflicts is not None and self.conflicts.blocking:
            return self.conflicts.blocking
        if (
            step_tasks.record(self.session, self.view_id, "merge_upstream").status
            is not StepStatus.SUCCEEDED
        ):
            return "merge the release first"
        return None

    def check_lines(self) -> Text:
        text = Text()
        if self.repo is None:
            return text
        remote = self.repo.upstream_remote
        if remote:
            url = strip_control(self.repo.remote_urls.get(remote, ""))
            text.append(f"✓ upstream remote: {remote}" + (f" ({url})\n" if url else "\n"))
        else:
            text.append(
                f"! no upstream remote ({', '.join(UPSTREAM_REMOTES)}, or a remote whose URL is "
                "opencrvs-countryconfig or opencrvs-farajaland): you will be asked for its URL\n",
                style="yellow",
            )
        if self.ref is not None:
            if self.ref.found:
                text.append(f"✓ upstream's release: {self.ref.name} (never master)\n")
            else:
                text.append(
                    f"○ upstream's release ({' or '.join(self.ref.tried)}) is not here yet: "
                    "the fetch step brings it\n"
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
            text.append(f"✓ {len(self.incoming)} upstream commit(s) came in with the merge:\n")
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
            text.append("Then `git add` them and press c to re-check; a aborts the merge.")
        else:
            text.append("✓ No conflicts or markers left. ", style="green")
            text.append("Press m to commit the merge (git commit --no-edit).")
        self.query_one("#conflicts-text", Static).update(text)

    def done_blocker(self) -> str | None:
        path = self.repo_path()
        blocker = merge_blocker(self.session, self.conflicts)
        if blocker is not None or path is None or not self.version:
            return blocker
        return version_problem(path, self.version, "The country config")

    # -- before and after each step ------------------------------------------------------

    async def prepare_step(self, step: Step) -> Step | None:
        if self.version_error is not None:
            raise self.version_error
        if "remote" in step.needs and self.repo is not None and not self.repo.upstream_remote:
            if not await self.offer_add_remote(step.cwd):
                return None
            self.steps = self.build_steps(step.cwd)
            step = next(s for s in self.steps if s.id == step.id)
        if step.id == "upgrade_branch":
            return await self.prepare_branch(step)
        if step.id == "merge_upstream":
            if self.ref is None or not self.ref.found:
                await self.run_checks()
            if self.ref is None or not self.ref.found:
                tried = " or ".join(self.ref.tried) if self.ref else f"v{self.version}"
                raise CrvsError(
                    f"Upstream's release ({tried}) is not in this checkout: run “Fetch all "
                    "remotes” first, and check that the upstream remote is OpenCRVS's country "
                    "config.",
                    title="The release is not here",
                )
            self.steps = self.build_steps(step.cwd)
            step = next(s for s in self.steps if s.id == step.id)
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
                self.notify("Nothing was changed: you are still on the same branch.")
                return None
            self.journal.confirmation(f"switch branch: {' '.join(argv)}", phase=self.view_id)
            return Step(step.id, f"Switch to {name}", tuple(argv), step.cwd, step.needs)
        return step

    async def after_step(self, step: Step, result: ProcessResult) -> None:
        if step.id != "merge_upstream":
            return
        path = step.cwd
        self.conflicts = await scan_conflicts(path, self.conflicted_before)
        self.conflicted_before = [f.path for f in self.conflicts.files]
        if self.conflicts.files:
            rec = step_tasks.record(self.session, self.view_id, "merge_upstream")
            rec.note = f"stopped with conflicts in {len(self.conflicts.files)} file(s)"
            self.save_session()
            self.notify(
                f"The merge stopped with conflicts in {len(self.conflicts.files)} file(s).",
                severity="warning",
            )
        elif result.ok:
            self.record_resolved_conflicts()
            await self.show_incoming(path)
        self.show_conflicts()

    async def show_incoming(self, path: Path) -> None:
        """What the merge brought in, counted from the merge commit's parents."""
        ref = self.ref.name if self.ref is not None else None
        self.incoming = (await merged_commits(path, ref) or []) if ref else []
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
            self.notify("Nothing was changed: the merge is still in progress.")
            return
        self.journal.confirmation(f"abort merge: {' '.join(MERGE_ABORT_ARGV)}", phase=self.view_id)
        self.current_step = Step("merge_abort", "Abort merge", tuple(MERGE_ABORT_ARGV), path)
        try:
            result = await self.run_command(self.current_step, "merge_abort", record_step=False)
        finally:
            self.current_step = None
        if result.ok:
            rec = step_tasks.record(self.session, self.view_id, "merge_upstream")
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
        entry = self.journal.confirmation(
            f"conflicts resolved, commit merge: {' '.join(COMMIT_MERGE_ARGV)}",
            phase=self.view_id,
            step=RESOLVE_STEP,
        )
        step = Step("merge_commit", "Commit the merge", COMMIT_MERGE_ARGV, path)
        self.current_step = step
        try:
            result = await self.run_command(step, "merge_commit", record_step=False)
        finally:
            self.current_step = None
        if result.ok:
            rec = step_tasks.record(self.session, self.view_id, "merge_upstream")
            rec.succeed(note="conflicts resolved by the operator and committed")
            resolved = step_tasks.record(self.session, self.view_id, RESOLVE_STEP)
            resolved.done_by_hand(
                f"conflicts in {len(self.conflicted_before)} file(s) resolved; merge committed",
                entry.by or "",
                at=entry.at,
            )
            self.save_session()
            await self.show_incoming(path)
        await self.recheck()


SCREEN = MergeConfigScreen
