"""Verify locally: start OpenCRVS on this machine (optional); the operator confirms it came up.

The start runs detached like every step (it goes on if the terminal goes away, and is
shown again after a restart). Before yarn runs with a node that is not 16 the operator
chooses how (as in phases 3-4). A start that failed here can be confirmed as "came up"
only with a typed reason.
"""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Button, Input, Static

from screens.modals.confirm import TextPromptModal
from screens.node_choice import choose_node_engine
from screens.release_parts import ReleasePhaseScreen, command_text, config_path, plan_text
from screens.step_run import follow_in_pane, run_in_pane
from screens.widgets.form import TickBox
from screens.widgets.manual_steps import ManualSteps
from screens.widgets.output_pane import OutputPane
from screens.widgets.status_text import StatusText
from tasks.errors import CrvsError
from tasks.local.process import ProcessRun
from tasks.local.start import (
    PHASE,
    START_STEP,
    confirm_local_ok,
    skip_local,
    start_command,
    start_failed,
)
from tasks.local.steps import Step
from tasks.local.yarn import find_tools


class VerifyLocalScreen(ReleasePhaseScreen):
    VIEW_ID = PHASE

    def __init__(self, view_id: str | None = None) -> None:
        super().__init__(view_id)
        self.current_run: ProcessRun | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="content"):
            yield StatusText(plan_text(self.session, self.view_id), id="plan-box", classes="hint")
            yield StatusText(
                "If you run OpenCRVS on this machine, start it now: its migrations run "
                "automatically on your local data. Start opencrvs-core as you usually do, then the "
                "country config with the command below (here, when you choose, or in your own "
                "terminal). Wait until every service is up and the migration logs say they "
                "finished.",
                classes="hint",
            )
            yield StatusText(id="start-command", classes="command")
            with Horizontal(classes="release-buttons"):
                yield Button("Start it here", id="local-start")
                yield Button("Stop", id="local-stop", disabled=True)
            yield OutputPane(id="local-pane")
            yield ManualSteps(self.view_id)
            yield TickBox("The local stack came up", id="local-up")
            yield TickBox("Migrations finished", id="local-migrated")
            with Horizontal(classes="release-buttons"):
                yield Button("Confirm", id="local-confirm", variant="success", disabled=True)
                yield Input(placeholder="or: why you skip this (optional)", id="local-skip-reason")
                yield Button("Skip", id="local-skip")

    def body_mounted(self) -> None:
        super().body_mounted()
        run = self.frame.running_steps.get(PHASE, START_STEP)
        if run is not None:  # still running after a restart: show it again
            self._follow(run)

    def refresh_body(self) -> None:
        out = self.query_one("#start-command", Static)
        try:
            path = config_path(self.session)
            out.update(command_text(start_command(path), path))
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))

    @property
    def pane(self) -> OutputPane:
        return self.query_one("#local-pane", OutputPane)

    @on(TickBox.Changed)
    def _checked(self) -> None:
        both = all(self.query_one(f"#{w}", TickBox).value for w in ("local-up", "local-migrated"))
        self.query_one("#local-confirm", Button).disabled = not both

    @on(Button.Pressed, "#local-start")
    def _start(self) -> None:
        if self.current_run is not None:
            self.notify("It is running already: Stop ends it.")
            return
        path = config_path(self.session)
        self._run(Step(START_STEP, "Start OpenCRVS locally", tuple(start_command(path)), path))

    def _show_running(self, run: ProcessRun | None) -> None:
        self.current_run = run
        with contextlib.suppress(NoMatches):  # the app may be closing
            self.query_one("#local-stop", Button).disabled = run is None
            self.query_one("#local-start", Button).disabled = run is not None

    @work(group="local-start", exclusive=True)
    async def _run(self, step: Step) -> None:
        tools = await find_tools(demo=self.workspace.demo is not None, cwd=step.cwd)
        chosen = await choose_node_engine(self.app, self.journal, PHASE, step, tools)
        if chosen is None:
            return
        try:
            await run_in_pane(self.frame, self.pane, PHASE, chosen, on_start=self._show_running)
        finally:
            self._show_running(None)
        with contextlib.suppress(NoMatches):
            self.refresh_from_session()

    @work(group="local-start", exclusive=True)
    async def _follow(self, run: ProcessRun) -> None:
        self._show_running(run)
        try:
            await follow_in_pane(self.frame, self.pane, run)
        finally:
            self._show_running(None)
        self.refresh_from_session()

    @on(Button.Pressed, "#local-stop")
    def _stop(self) -> None:
        if self.current_run is not None:
            self.journal.event("stop the local start", phase=PHASE)
            self.current_run.cancel()
            self.notify("Stopping: its processes are being ended.")

    @on(Button.Pressed, "#local-confirm")
    def _confirm(self) -> None:
        failed = start_failed(self.session)
        if failed is None:
            self._record(reason="")
            return
        body = Text()
        body.append(f"The start run here {failed}.\n\n", style="bold")
        body.append(
            "If OpenCRVS did come up (you started it in another terminal, say), type why. It "
            "is journalled with your name and the time. Escape records nothing."
        )

        def chosen(reason: str | None) -> None:
            if not reason:
                self.notify("Nothing was recorded: the phase is not confirmed.")
                return
            self._record(reason)

        self.app.push_screen(
            TextPromptModal(
                "It came up although the start failed?",
                body,
                "why it came up all the same",
                "Confirm it came up",
            ),
            chosen,
        )

    def _record(self, reason: str) -> None:
        confirm_local_ok(self.session, self.journal, reason)
        self.save_session()
        self.refresh_from_session()
        self.query_one(ManualSteps).refresh_steps()
        if self.session.phase(PHASE).status.value == "done":
            self.notify("Verified locally.", title="Phase done")
        else:
            self.notify("Confirmed; the by-hand steps above are still to confirm.")

    def on_manual_steps_changed(self, event: ManualSteps.Changed) -> None:
        event.stop()
        phase = self.session.phase(PHASE)
        rec = phase.step(START_STEP)
        if rec.status.value == "succeeded" and rec.by and phase.status.value != "done":
            from tasks.upgrade.manual import missing_text

            if missing_text(self.session, PHASE) is None:
                phase.finish()
                self.save_session()
                self.refresh_from_session()

    @on(Button.Pressed, "#local-skip")
    def _skip(self) -> None:
        skip_local(self.session, self.journal, self.query_one("#local-skip-reason", Input).value)
        self.save_session()
        self.refresh_from_session()


SCREEN = VerifyLocalScreen
