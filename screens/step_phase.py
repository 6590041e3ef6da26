"""What "Update opencrvs-core" and "Merge the country config" share: a list of steps,
the checks before each runs, the live output pane, cancel, and the phase status.

Steps run in a Textual worker in this screen's own group; each phase is a mode, so
a running step keeps going while the operator looks at another phase. The app's
``running_steps`` registry knows every running step (quitting asks first). Steps run
detached from the app: one still running after a restart is shown here again, live.

The step list is the plan's (its ids); a step the plan does not apply shows why. Work
done in the operator's own shell counts: the checks recognise it from the checkout
(journalled as done outside the app). After a step succeeds the next one is
highlighted, so Enter runs it.
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
from screens.modals.confirm import ConfirmModal, TextPromptModal
from screens.node_choice import choose_node_engine
from screens.step_run import finish_pane, follow_in_pane, run_in_pane
from screens.widgets.manual_steps import ManualSteps
from screens.widgets.output_pane import OutputPane, _duration
from tasks.errors import CrvsError
from tasks.local import steps as step_tasks
from tasks.local.checkout import RepoState, inspect_repo, stash_argv
from tasks.local.process import Command, ProcessResult, ProcessRun
from tasks.local.steps import Step
from tasks.local.upgrade_steps import BY_HAND_ALLOWED, OutsideWork, blockers, step_target
from tasks.local.yarn import Tools, failure_cause_in_log, find_tools
from tasks.session.phases import PhaseStatus, StepStatus
from tasks.session.state import now_iso
from tasks.text import strip_control
from tasks.upgrade.manual import missing_text
from tasks.upgrade.plan import current_plan

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
# Why a failed step may be recorded as done by hand (a git step: the checkout shows it).
BY_HAND_HINT = "Fixed it outside crvs-migrate? Press d to record the step as done by hand."


class StepList(OptionList):
    """The phase's steps; Enter runs the highlighted one (shown in the footer)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Run")]


class StepPhaseScreen(PhaseScreen):
    DEFAULT_CSS = """
    StepPhaseScreen #steps-frame {
        height: 1fr;
    }
    StepPhaseScreen #steps {
        height: auto;
        max-height: 6;
        border: round $primary-darken-2;
        border-title-color: $text-muted;
    }
    StepPhaseScreen #steps:focus {
        border: round $accent;
    }
    StepPhaseScreen #step-checks {
        height: auto;
        max-height: 7;
        border: round $primary-darken-2;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    """

    # As on every phase screen the sidebar has the focus first; Tab reaches the steps.
    BINDINGS: ClassVar[list[BindingType]] = [
        # Short words: every key of the screen fits the footer at 80 columns (Enter, "Run",
        # is the step list's own).
        Binding("x", "cancel_step", "Cancel"),
        Binding("c", "check", "Check"),
        Binding("d", "done_by_hand", "By hand"),
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
        self.phase_blocker: str | None = None
        # A highlight this screen made (after a success), not the operator's move.
        self._moved_by_us: int | None = None
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

    def outside_work(self, path: Path) -> list[OutsideWork]:
        """Steps the checkout shows done although crvs-migrate did not run them (sync git)."""
        return []

    async def prepare_step(self, step: Step) -> Step | None:
        """Last checks and confirmations before ``step`` runs; None to stop."""
        return step

    async def after_step(self, step: Step, result: ProcessResult) -> None:
        """Called after a step ran (whatever the outcome)."""

    def done_blocker(self) -> str | None:
        """Why the phase cannot be done although every step succeeded, or None."""
        return None

    def manual_guard(self, step_id: str) -> str | None:
        """Why a by-hand step cannot be confirmed yet (the evidence says no), or None."""
        return None

    def detached_expected(self) -> bool:
        """Whether a detached HEAD is where this phase means the checkout to be."""
        return False

    def missing_path_hint(self) -> str:
        return "No repository path yet: answer it in Prepare (phase 1)."

    # -- layout -------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Vertical(id="steps-frame"):
            yield StepList(id="steps")
            with VerticalScroll(id="step-checks"):
                yield Static("Checking…", id="step-checks-text")
            yield ManualSteps(self.view_id, guard=self.manual_guard)
            yield from self.compose_extra()
            yield OutputPane(id="step-output")

    def compose_extra(self) -> ComposeResult:
        yield from ()

    @property
    def pane(self) -> OutputPane:
        return self.query_one("#step-output", OutputPane)

    def body_mounted(self) -> None:
        super().body_mounted()
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
        self._pick_up_running()
        self.action_check()

    # -- the step list ----------------------------------------------------------------

    def applies(self, step_id: str) -> bool:
        """Whether the plan applies this step (a step the plan does not know applies)."""
        step = current_plan(self.session).step(self.view_id, step_id)
        return step is None or step.applies

    def not_applying_reason(self, step_id: str) -> str:
        step = current_plan(self.session).step(self.view_id, step_id)
        return step.reason if step is not None else ""

    def shown_status(self, step: Step) -> StepStatus:
        rec = step_tasks.record(self.session, self.view_id, step.id)
        if rec.status in (StepStatus.NOT_STARTED, StepStatus.SKIPPED) and not self.applies(step.id):
            return StepStatus.SKIPPED
        return rec.status

    def refresh_steps(self) -> None:
        if not self.is_attached:
            return
        steps_list = self.query_one("#steps", OptionList)
        highlighted = steps_list.highlighted
        options = []
        for n, step in enumerate(self.steps, 1):
            rec = step_tasks.record(self.session, self.view_id, step.id)
            status = self.shown_status(step)
            glyph, style = status.glyph, STEP_STYLES[status]
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{glyph} ", style=style)
            text.append(f"{n}. {step.title}", style="dim" if status is StepStatus.SKIPPED else "")
            label = "does not apply" if status is StepStatus.SKIPPED else status.label
            if rec.by and status is StepStatus.SUCCEEDED:
                label = "done outside" if rec.by == step_tasks.OUTSIDE else "done by hand"
            text.append(f"  {label}", style=style or "dim")
            if rec.duration_s is not None and status not in (
                StepStatus.RUNNING,
                StepStatus.SKIPPED,
            ):
                text.append(f" · {_duration(rec.duration_s)}", style="dim")
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

    def next_step_after(self, step: Step) -> int | None:
        """The index of the next step to run after ``step`` (applies, not done yet)."""
        ids = [s.id for s in self.steps]
        start = ids.index(step.id) + 1 if step.id in ids else 0
        for index in range(start, len(self.steps)):
            candidate = self.steps[index]
            if self.applies(candidate.id) and self.shown_status(candidate) not in (
                StepStatus.SUCCEEDED,
                StepStatus.SKIPPED,
            ):
                return index
        return None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id != "steps":
            return
        event.stop()
        if self._moved_by_us == event.option_index:
            # The next step highlighted after a success: the output just shown stays.
            self._moved_by_us = None
            return
        step = self.selected_step()
        if step is not None and self.current_run is None:
            # The operator moved on: show what Enter would run (the last run's full
            # output stays in its log file).
            self.pane.clear()
            self.preview(step)

    def preview(self, step: Step) -> None:
        """The exact command and directory, before anything runs."""
        if not self.applies(step.id):
            self.pane.show_command(
                step.argv, step.cwd, "Does not apply: " + self.not_applying_reason(step.id)
            )
            self.pane.set_status("This step does not apply to this installation.", "dim")
            return
        self.pane.show_command(step.argv, step.cwd, step.why)
        rec = step_tasks.record(self.session, self.view_id, step.id)
        if rec.status is StepStatus.SUCCEEDED and rec.by:
            self.pane.set_status(f"Done: {rec.note}", "green")
        elif rec.status in (StepStatus.FAILED, StepStatus.INTERRUPTED) and rec.note:
            detail = f"Full output: {rec.log_file}" if rec.log_file else ""
            self.pane.set_status(
                f"{rec.status.glyph} {rec.status.label}: {rec.note}", "bold", detail
            )
        else:
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
            if self.repo is not None and self.current_run is None:
                await self.recognise_outside_work(path)
            self.refresh_steps()
            self.update_phase_status(quiet=True)
            self.show_checks()
            step = self.selected_step()
            if step is not None and self.current_run is None and not self.pane.has_output:
                self.preview(step)
        except NoMatches:
            # The app closed while the checks ran: the widgets are gone, nothing to show.
            return
        finally:
            self._checks_done.set()

    async def recognise_outside_work(self, path: Path) -> None:
        """Steps done in the operator's shell: the checkout shows them (journalled)."""
        if self.workspace.read_only:
            return
        found = await asyncio.to_thread(self.outside_work, path)
        recorded = []
        for work_done in found:
            rec = step_tasks.record(self.session, self.view_id, work_done.step_id)
            if rec.status is StepStatus.SUCCEEDED or not self.applies(work_done.step_id):
                continue
            step_tasks.mark_done_outside(
                self.session, self.journal, self.view_id, work_done.step_id, work_done.evidence
            )
            recorded.append(work_done)
        if recorded:
            self.save_session()
            names = "; ".join(f"{w.step_id}: {w.evidence}" for w in recorded)
            self.notify(f"Done outside crvs-migrate: {names}.", title="Recognised", markup=False)

    def show_checks(self) -> None:
        text = Text()
        path = self.repo_path()
        text.append(f"{path}\n", style="bold")
        if self.repo_error is not None:
            text.append(f"✗ {self.repo_error.message}\n", style="bold red")
        elif self.repo is not None:
            repo = self.repo
            glyph = "!" if repo.detached and not self.detached_expected() else "✓"
            text.append(f"{glyph} {repo.summary()}\n")
            if repo.merge_in_progress:
                text.append(
                    f"! a merge is in progress: {len(repo.merge_changes)} file(s) of the merge's "
                    "result (not local changes)\n",
                    style="bold yellow",
                )
            elif repo.changed or repo.untracked:
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
        text.append_text(self.check_lines())
        if self.tools_error is not None:
            text.append(f"✗ {self.tools_error.message}\n", style="bold red")
        elif self.tools is not None:
            text.append(f"✓ {self.tools.summary()}\n")
            for warning in self.tools.warnings:
                text.append(f"! {warning}\n", style="yellow")
        phase = self.session.phase(self.view_id)
        if phase.status is PhaseStatus.DONE:
            text.append("✓ phase done\n", style="green")
        elif self.phase_blocker:
            text.append(f"○ not done yet: {self.phase_blocker}\n", style="dim")
        self.query_one("#step-checks-text", Static).update(text)

    # -- a step still running after a restart -------------------------------------

    def _pick_up_running(self) -> None:
        """A step of this phase that runs detached (reattached after a restart): show it."""
        for step_id, run in self.frame.running_steps.of_phase(self.view_id).items():
            step = next((s for s in self.steps if s.id == step_id), None)
            if step is None or self.current_run is not None:
                continue
            self.current_step, self.current_run = step, run
            index = self.steps.index(step)
            steps_list = self.query_one("#steps", OptionList)
            if steps_list.highlighted != index:
                self._moved_by_us = index
            steps_list.highlighted = index
            self._follow_worker(step, run)

    @work(group="steps")
    async def _follow_worker(self, step: Step, run: ProcessRun) -> None:
        try:
            result = await follow_in_pane(self.frame, self.pane, run)
        finally:
            self.current_step = None
            self.current_run = None
        self.refresh_steps()
        await self.after_step(step, result)
        self.explain(step, result)
        self.update_phase_status()
        self.start_checks(tools=False)

    # -- running a step ---------------------------------------------------------------

    def action_run_step(self) -> None:
        if self.current_run is not None or self.current_step is not None:
            self.notify("A step is already running: wait for it or cancel it (x).")
            return
        step = self.selected_step()
        if step is None:
            return
        if not self.applies(step.id):
            self.notify(
                f"“{step.title}” does not apply: {self.not_applying_reason(step.id)}",
                title="Does not apply",
                markup=False,
            )
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
                self.notify("Nothing ran: the step stays as it was.")
                return None
            self.journal.confirmation(
                f"run again: {step.command.display}", phase=self.view_id, step=step.id
            )
        if "git" in step.needs or "clean" in step.needs:
            self.repo = await inspect_repo(step.cwd, step_target(step))
            if "clean" in step.needs and self.repo.dirty:
                if not await self.offer_stash(step, self.repo):
                    return None
            problems = await asyncio.to_thread(blockers, step, self.repo, **self.blocker_args())
            if problems:
                raise CrvsError("\n".join(problems), title=f"“{step.title}” cannot run yet")
        if "yarn" in step.needs:
            self.tools = await find_tools(demo=self.workspace.demo is not None, cwd=step.cwd)
            self.tools_error = None
            chosen = await choose_node_engine(
                self.app, self.journal, self.view_id, step, self.tools
            )
            if chosen is None:
                return None
            step = chosen
        prepared = await self.prepare_step(step)
        if prepared is None:
            return None
        result = await self.run_command(prepared, prepared.id)
        await self.after_step(prepared, result)
        self.explain(prepared, result)
        self.update_phase_status()
        if result.ok:
            self.advance(prepared)
        self.start_checks(tools=False)
        return result

    def explain(self, step: Step, result: ProcessResult) -> None:
        """A failed step: its cause (wrapped, found in its output), the log, a way forward."""
        if result.ok or result.cancelled:
            return
        parts = []
        cause = failure_cause_in_log(result.log_file)
        if cause:
            parts.append(f"Cause: {cause}")
        if result.log_file is not None:
            parts.append(f"Full output: {result.log_file}")
        if step.id in BY_HAND_ALLOWED:
            parts.append(BY_HAND_HINT)
        finish_pane(self.pane, result, "\n".join(parts))

    def advance(self, step: Step) -> None:
        """After a success: highlight the next step and give the list the focus (Enter runs it)."""
        index = self.next_step_after(step)
        steps_list = self.query_one("#steps", OptionList)
        if index is None:
            return
        self.refresh_steps()
        if steps_list.highlighted != index:
            self._moved_by_us = index
        steps_list.highlighted = index
        steps_list.focus()
        self.notify(f"Next: {self.steps[index].title} (Enter runs it).", timeout=4)

    def blocker_args(self) -> dict[str, str | None]:
        return {}

    async def confirm(self, title: str, body: Text, label: str, *, danger: bool = False) -> bool:
        answer: bool = await self.app.push_screen_wait(
            # Every caller says what a cancel left as it was.
            ConfirmModal(title, body, label, danger=danger, cancelled=None)
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

    # -- a failed step fixed outside the app ---------------------------------------

    def action_done_by_hand(self) -> None:
        step = self.selected_step()
        if step is None:
            return
        rec = step_tasks.record(self.session, self.view_id, step.id)
        if self.current_run is not None:
            self.notify("A step is running: wait for it or cancel it (x).")
            return
        if step.id not in BY_HAND_ALLOWED:
            self.notify(
                f"“{step.title}” is a git step: do it in your shell if you prefer, and "
                "crvs-migrate recognises the result from the checkout (c re-checks).",
                markup=False,
            )
            return
        if rec.status is StepStatus.SUCCEEDED:
            self.notify("This step is done already.")
            return
        body = Text()
        body.append(f"Record “{step.title}” as done by hand?\n\n", style="bold")
        if rec.status in (StepStatus.FAILED, StepStatus.INTERRUPTED) and rec.note:
            body.append(f"Here it {rec.status.label}: {rec.note}.\n")
        if rec.log_file:
            body.append(f"Its output: {rec.log_file}\n")
        body.append(
            "\nType what you did to make it succeed (for example the command you ran and "
            "where). It is journalled with your name and the time, and the report shows it. "
            "Escape records nothing."
        )

        def chosen(reason: str | None) -> None:
            if not reason:
                self.notify("Nothing was recorded: the step stays as it was.")
                return
            step_tasks.mark_done_by_hand(self.session, self.journal, self.view_id, step.id, reason)
            self.save_session()
            self.refresh_steps()
            self.update_phase_status()
            self.preview(step)

        self.app.push_screen(
            TextPromptModal("Done by hand", body, "what you did, and where", "Record as done"),
            chosen,
        )

    # -- phase status ---------------------------------------------------------------

    def on_manual_steps_changed(self, event: ManualSteps.Changed) -> None:
        event.stop()
        self.update_phase_status()

    def phase_done_blocker(self) -> str | None:
        """Why the phase is not done (None: it is): steps, the phase's own rule, by hand."""
        pending = [
            s.title
            for s in self.steps
            if self.applies(s.id) and self.shown_status(s) is not StepStatus.SUCCEEDED
        ]
        if pending:
            return "still to run: " + "; ".join(pending)
        return self.done_blocker() or missing_text(self.session, self.view_id)

    def update_phase_status(self, *, quiet: bool = False) -> None:
        if not self.steps:
            return
        phase = self.session.phase(self.view_id)
        blocker = self.phase_blocker = self.phase_done_blocker()
        changed = False
        if blocker is None and phase.status is not PhaseStatus.DONE:
            phase.finish()
            changed = True
            self.notify("Every step is done: phase done.", title="Phase done")
        elif blocker is not None and phase.status is PhaseStatus.DONE:
            phase.reopen()
            changed = True
        if changed or not quiet:
            self.save_session()
        with contextlib.suppress(NoMatches):  # the app may be closing
            self.refresh_from_session()
            self.query_one(ManualSteps).refresh_steps()
            if not quiet:
                self.show_checks()

    async def wait_checks(self, timeout: float = 30.0) -> None:
        """For callers (and tests) that need the checks finished."""
        await asyncio.wait_for(self._checks_done.wait(), timeout)
