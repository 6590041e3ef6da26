"""What "Update opencrvs-core" and "Merge the country config" share: a list of steps,
the checks before each runs, the live output pane, cancel, and the phase status.

Steps run in a Textual worker in this screen's own group; each phase is a mode, so
a running step keeps going while the operator looks at another phase. The app's
``running_steps`` registry knows every running step (quitting asks first).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.base import PhaseScreen
from screens.modals.confirm import ChoiceModal, ConfirmModal
from screens.step_run import run_in_pane
from screens.widgets.output_pane import OutputPane
from tasks.errors import CrvsError
from tasks.local import steps as step_tasks
from tasks.local.checkout import RepoState, inspect_repo, stash_argv
from tasks.local.process import Command, ProcessResult, ProcessRun
from tasks.local.steps import Step
from tasks.local.upgrade_steps import blockers, step_target
from tasks.local.yarn import EXPECTED_NODE_MAJOR, IGNORE_ENGINES, Tools, find_tools
from tasks.session.phases import PhaseStatus, StepStatus
from tasks.session.state import now_iso
from tasks.text import strip_control

# Colour is a second channel: the glyph (``StepStatus.glyph``) and the word carry the status.
STEP_STYLES = {
    StepStatus.NOT_STARTED: "",
    StepStatus.RUNNING: "bold yellow",
    StepStatus.SUCCEEDED: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.CANCELLED: "yellow",
    StepStatus.INTERRUPTED: "bold yellow",
    StepStatus.SKIPPED: "dim",
}


class StepPhaseScreen(PhaseScreen):
    # As on every phase screen the sidebar has the focus first; Tab reaches the steps.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "cancel_step", "Cancel step"),
        Binding("c", "check", "Re-check"),
    ]

    def __init__(self, view_id: str | None = None, **kwargs) -> None:
        super().__init__(view_id, **kwargs)
        self.steps: list[Step] = []
        self.repo: RepoState | None = None
        self.repo_error: CrvsError | None = None
        self.tools: Tools | None = None
        self.tools_error: CrvsError | None = None
        self.current_run: ProcessRun | None = None
        self.current_step: Step | None = None
        self._checks_done = asyncio.Event()

    # -- to fill in by each phase ---------------------------------------------

    def repo_path(self) -> Path | None:
        raise NotImplementedError

    def build_steps(self, path: Path) -> list[Step]:
        raise NotImplementedError

    def check_lines(self) -> Text:
        """Phase-specific checks, appended to the common ones."""
        return Text()

    async def phase_checks(self, path: Path) -> None:
        """Phase-specific checks (run with the common ones)."""

    async def prepare_step(self, step: Step) -> Step | None:
        """Last checks and confirmations before ``step`` runs; None to stop."""
        return step

    async def after_step(self, step: Step, result: ProcessResult) -> None:
        """Called after a step ran (whatever the outcome)."""

    def done_blocker(self) -> str | None:
        """Why the phase cannot be done although every step succeeded, or None."""
        return None

    def missing_path_hint(self) -> str:
        return "No repository path yet: answer it in Prepare (phase 1)."

    # -- layout -------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Vertical(id="steps-frame"):
            yield OptionList(id="steps")
            with VerticalScroll(id="step-checks"):
                yield Static("Checking…", id="step-checks-text")
            yield from self.compose_extra()
            yield OutputPane(id="step-output")

    def compose_extra(self) -> ComposeResult:
        yield from ()

    @property
    def pane(self) -> OutputPane:
        return self.query_one("#step-output", OutputPane)

    def on_mount(self) -> None:
        super().on_mount()
        interrupted = step_tasks.recover_interrupted(self.session, self.view_id)
        if interrupted:
            for step_id in interrupted:
                self.journal.event(step_tasks.INTERRUPTED_EVENT + step_id, phase=self.view_id)
            self.save_session()
        self.query_one("#steps", OptionList).border_title = "Steps · Tab here, Enter runs"
        self.query_one("#step-checks").border_title = "Checks"
        self.pane.border_title = "Output"
        path = self.repo_path()
        if path is None:
            self.query_one("#step-checks-text", Static).update(Text(self.missing_path_hint()))
            self._checks_done.set()
            return
        self.steps = self.build_steps(path)
        self.refresh_steps()
        self.action_check()

    def refresh_steps(self) -> None:
        if not self.is_attached:
            return
        steps_list = self.query_one("#steps", OptionList)
        highlighted = steps_list.highlighted
        options = []
        for n, step in enumerate(self.steps, 1):
            rec = step_tasks.record(self.session, self.view_id, step.id)
            glyph, style = rec.status.glyph, STEP_STYLES[rec.status]
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{glyph} ", style=style)
            text.append(f"{n}. {step.title}")
            text.append(f"  {rec.status.label}", style=style or "dim")
            if rec.duration_s is not None and rec.status is not StepStatus.RUNNING:
                text.append(f" · {rec.duration_s:.1f} s", style="dim")
            options.append(Option(text, id=step.id))
        current_ids = [steps_list.get_option_at_index(i).id for i in range(steps_list.option_count)]
        if current_ids == [o.id for o in options]:
            # In place: rebuilding would move the highlight and count as navigation.
            for option in options:
                if option.id is not None:
                    steps_list.replace_option_prompt(option.id, option.prompt)
            return
        steps_list.clear_options()
        steps_list.add_options(options)
        if options:
            steps_list.highlighted = highlighted if highlighted is not None else 0

    def selected_step(self) -> Step | None:
        index = self.query_one("#steps", OptionList).highlighted
        if index is None or not (0 <= index < len(self.steps)):
            return None
        return self.steps[index]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id != "steps":
            return
        event.stop()
        step = self.selected_step()
        if step is not None and self.current_run is None:
            # The operator moved on: show what Enter would run (the last run's full
            # output stays in its log file).
            self.pane.clear()
            self.preview(step)

    def preview(self, step: Step) -> None:
        """The exact command and directory, before anything runs."""
        self.pane.show_command(step.argv, step.cwd, step.why)
        self.pane.set_status("Enter on this step runs it (Tab moves to the steps).", "dim")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "steps":
            return
        event.stop()
        self.action_run_step()

    # -- checks -------------------------------------------------------------------

    def action_check(self) -> None:
        self.start_checks(tools=True)

    def start_checks(self, *, tools: bool) -> None:
        self._checks_done.clear()
        self._checks_worker(tools)

    @work(group="checks", exclusive=True)
    async def _checks_worker(self, tools: bool) -> None:
        await self.run_checks(tools=tools)

    async def run_checks(self, *, tools: bool = False) -> None:
        with contextlib.suppress(CrvsError):  # then the checks say what is missing
            await self.frame.files_ready()
        path = self.repo_path()
        if path is None:
            self._checks_done.set()
            return
        try:
            self.repo = await inspect_repo(path)
            self.repo_error = None
        except CrvsError as exc:
            self.repo, self.repo_error = None, exc
        if tools or (self.tools is None and self.tools_error is None):
            # yarn takes most of a second to say its version: only on demand.
            try:
                self.tools = await find_tools(demo=self.workspace.demo is not None, cwd=path)
                self.tools_error = None
            except CrvsError as exc:
                self.tools, self.tools_error = None, exc
        try:
            if self.repo is not None:
                await self.phase_checks(path)
            self.steps = self.build_steps(path)
            self.refresh_steps()
            self.show_checks()
            step = self.selected_step()
            if step is not None and self.current_run is None and not self.pane.has_output:
                self.preview(step)
        except NoMatches:
            # The app closed while the checks ran: the widgets are gone, nothing to show.
            return
        finally:
            self._checks_done.set()

    def show_checks(self) -> None:
        text = Text()
        path = self.repo_path()
        text.append(f"{path}\n", style="bold")
        if self.repo_error is not None:
            text.append(f"✗ {self.repo_error.message}\n", style="bold red")
        elif self.repo is not None:
            repo = self.repo
            glyph = "!" if repo.detached else "✓"
            text.append(f"{glyph} {repo.summary()}\n")
            if repo.changed or repo.untracked:
                text.append(
                    f"! local changes: {len(repo.changed)} changed, "
                    f"{len(repo.untracked)} untracked file(s)",
                    style="yellow",
                )
                text.append(" (checkout, pull and merge refuse to run)\n" if repo.changed else "\n")
                for name in [*repo.changed, *repo.untracked][:8]:
                    # File names are untrusted too: no escape sequences reach the screen.
                    text.append(f"    {strip_control(name)}\n", style="dim")
            else:
                text.append("✓ working tree clean\n")
            if repo.merge_in_progress:
                text.append("! a merge is in progress\n", style="bold yellow")
        text.append_text(self.check_lines())
        if self.tools_error is not None:
            text.append(f"✗ {self.tools_error.message}\n", style="bold red")
        elif self.tools is not None:
            text.append(f"✓ {self.tools.summary()}\n")
            for warning in self.tools.warnings:
                text.append(f"! {warning}\n", style="yellow")
        self.query_one("#step-checks-text", Static).update(text)

    # -- running a step ---------------------------------------------------------------

    def action_run_step(self) -> None:
        if self.current_run is not None:
            self.notify("A step is already running: wait for it or cancel it (x).")
            return
        step = self.selected_step()
        if step is None:
            return
        self._attempt_worker(step)

    @work(group="steps")
    async def _attempt_worker(self, step: Step) -> None:
        await self.attempt(step)

    async def attempt(self, step: Step) -> ProcessResult | None:
        """Check, confirm, run. Returns the result, or None if it did not run."""
        if self.current_run is not None:
            return None
        self.current_step = step  # reserve: one step at a time per phase
        try:
            return await self._attempt(step)
        finally:
            self.current_step = None
            self.current_run = None
            with contextlib.suppress(NoMatches):  # the app may be closing
                self.refresh_steps()

    async def _attempt(self, step: Step) -> ProcessResult | None:
        if not step_tasks.needs_run(self.session, self.view_id, step):
            rec = step_tasks.record(self.session, self.view_id, step.id)
            again = await self.confirm(
                "Run this step again?",
                Text(
                    f"“{step.title}” already succeeded ({rec.finished_at}). "
                    f"Run `{step.command.display}` again?"
                ),
                "Run again",
            )
            if not again:
                return None
            self.journal.confirmation(
                f"run again: {step.command.display}", phase=self.view_id, step=step.id
            )
        if "git" in step.needs or "clean" in step.needs:
            self.repo = await inspect_repo(step.cwd, step_target(step))
            if "clean" in step.needs and self.repo.dirty:
                if not await self.offer_stash(step, self.repo):
                    return None
            problems = blockers(step, self.repo, **self.blocker_args())
            if problems:
                raise CrvsError("\n".join(problems), title=f"“{step.title}” cannot run yet")
        if "yarn" in step.needs:
            self.tools = await find_tools(demo=self.workspace.demo is not None, cwd=step.cwd)
            self.tools_error = None
            chosen = await self.confirm_node_mismatch(step, self.tools)
            if chosen is None:
                return None
            step = chosen
        prepared = await self.prepare_step(step)
        if prepared is None:
            return None
        result = await self.run_command(prepared, prepared.id)
        await self.after_step(prepared, result)
        self.update_phase_status()
        self.start_checks(tools=False)
        return result

    async def confirm_node_mismatch(self, step: Step, tools: Tools) -> Step | None:
        """node is not 16: say so before yarn runs; the operator picks how to go on."""
        if tools.standin or not tools.node_mismatch:
            return step
        plain = Command(step.argv, step.cwd).display
        ignoring = Command((*step.argv, IGNORE_ENGINES), step.cwd).display
        body = Text()
        body.append("\n".join(tools.warnings) + "\n\n", style="bold")
        body.append(
            "yarn refuses packages whose `engines` field asks for another node version. "
            f"Best: switch to node {EXPECTED_NODE_MAJOR} (for example `nvm use "
            f"{EXPECTED_NODE_MAJOR}`) and re-check. Or run anyway:\n\n"
        )
        body.append(f"  {plain}\n  {ignoring}\n")
        choice = await self.app.push_screen_wait(
            ChoiceModal(
                f"node {tools.node_version} is not node {EXPECTED_NODE_MAJOR}",
                body,
                [("plain", "Run yarn --force"), ("ignore", f"Run with {IGNORE_ENGINES}")],
            )
        )
        if choice is None:
            return None
        self.journal.confirmation(
            f"yarn with node {tools.node_version}: {plain if choice == 'plain' else ignoring}",
            phase=self.view_id,
            step=step.id,
        )
        if choice == "plain":
            return step
        return Step(step.id, step.title, (*step.argv, IGNORE_ENGINES), step.cwd, step.needs)

    def blocker_args(self) -> dict[str, str | None]:
        return {}

    async def confirm(self, title: str, body: Text, label: str, *, danger: bool = False) -> bool:
        answer: bool = await self.app.push_screen_wait(
            ConfirmModal(title, body, label, danger=danger)
        )
        return bool(answer)

    async def offer_stash(self, step: Step, repo: RepoState) -> bool:
        """A dirty tree: refuse, list the files, offer a stash as an explicit choice."""
        message = f"crvs-migrate: before {step.title.lower()} ({now_iso()})"
        argv = stash_argv(message)
        body = Text()
        body.append(f"“{step.title}” does not run over local changes. In {step.cwd}:\n\n")
        for name in repo.dirty_files[:40]:
            body.append(f"  {strip_control(name)}\n")
        if len(repo.dirty_files) > 40:
            body.append(f"  … and {len(repo.dirty_files) - 40} more\n")
        body.append("\nYou can commit or move them yourself, or stash them now with:\n\n")
        body.append(f"  {Command(tuple(argv), step.cwd).display}\n", style="bold")
        body.append("\n(`git stash pop` brings them back later.)")
        if not await self.confirm("Local changes", body, "Stash the changes"):
            self.notify("Nothing was changed. The step did not run.")
            return False
        self.journal.confirmation(
            f"stash local changes: {' '.join(argv)}", phase=self.view_id, step=step.id
        )
        result = await self.run_command(
            Step("stash", "Stash local changes", tuple(argv), step.cwd),
            f"{step.id}-stash",
            record_step=False,
        )
        if not result.ok:
            raise CrvsError("git stash did not succeed: see the output pane.", title="Stash failed")
        self.repo = await inspect_repo(step.cwd, step_target(step))
        if self.repo.dirty:
            raise CrvsError(
                "The working tree still has changes after the stash:\n"
                + "\n".join(self.repo.dirty_files[:20]),
                title="Still not clean",
            )
        return True

    async def run_command(self, step: Step, key: str, *, record_step: bool = True) -> ProcessResult:
        """Stream ``step``'s command into the pane; record it as a step unless told not to."""

        def started(run: ProcessRun) -> None:
            self.current_run = run

        if record_step:
            self.refresh_steps_soon()
        try:
            result = await run_in_pane(
                self.frame,
                self.pane,
                self.view_id,
                step,
                key=key,
                record_step=record_step,
                on_start=started,
            )
        finally:
            self.current_run = None
        self.refresh_steps()
        return result

    def refresh_steps_soon(self) -> None:
        self.call_after_refresh(self.refresh_steps)

    def action_cancel_step(self) -> None:
        run = self.current_run
        if run is None or not run.running:
            self.notify("No step is running.")
            return
        self.journal.event(f"cancel requested: {run.command.display}", phase=self.view_id)
        run.cancel()
        self.notify("Cancelling: the step's processes are being stopped.")

    # -- phase status ---------------------------------------------------------------

    def update_phase_status(self) -> None:
        phase = self.session.phase(self.view_id)
        done = step_tasks.all_succeeded(self.session, self.view_id, self.steps)
        blocker = self.done_blocker() if done else "not every step has succeeded"
        if blocker is None and phase.status is not PhaseStatus.DONE:
            phase.finish()
            self.notify("Every step succeeded: phase done.", title="Phase done")
        elif blocker is not None:
            phase.reopen()
        self.save_session()
        self.refresh_from_session()

    async def wait_checks(self, timeout: float = 30.0) -> None:
        """For callers (and tests) that need the checks finished."""
        await asyncio.wait_for(self._checks_done.wait(), timeout)
