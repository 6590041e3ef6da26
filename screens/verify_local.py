"""Verify locally: start OpenCRVS on this machine (optional); the operator confirms it came up."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from screens.release_parts import ReleasePhaseScreen, command_text, config_path, plan_text
from screens.step_run import run_in_pane
from screens.widgets.form import TickBox
from screens.widgets.output_pane import OutputPane
from tasks.errors import CrvsError
from tasks.local.process import ProcessRun
from tasks.local.start import PHASE, START_STEP, confirm_local_ok, skip_local, start_command
from tasks.local.steps import Step


class VerifyLocalScreen(ReleasePhaseScreen):
    VIEW_ID = PHASE

    def __init__(self, view_id: str | None = None) -> None:
        super().__init__(view_id)
        self.current_run: ProcessRun | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="content"):
            yield Static(plan_text(self.session, self.view_id), id="plan-box", classes="hint")
            yield Static(
                "If you run OpenCRVS on this machine, start it now: its migrations run "
                "automatically on your local data. Start opencrvs-core as you usually do, then the "
                "country config with the command below (here, when you choose, or in your own "
                "terminal). Wait until every service is up and the migration logs say they "
                "finished.",
                classes="hint",
            )
            yield Static(id="start-command", classes="command")
            with Horizontal(classes="release-buttons"):
                yield Button("Start it here", id="local-start")
                yield Button("Stop", id="local-stop", disabled=True)
            yield OutputPane(id="local-pane")
            yield TickBox("The local stack came up", id="local-up")
            yield TickBox("Migrations finished", id="local-migrated")
            with Horizontal(classes="release-buttons"):
                yield Button("Confirm", id="local-confirm", variant="success", disabled=True)
                yield Input(placeholder="or: why you skip this (optional)", id="local-skip-reason")
                yield Button("Skip", id="local-skip")

    def refresh_body(self) -> None:
        out = self.query_one("#start-command", Static)
        try:
            path = config_path(self.session)
            out.update(command_text(start_command(path), path))
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))

    @on(TickBox.Changed)
    def _checked(self) -> None:
        both = all(self.query_one(f"#{w}", TickBox).value for w in ("local-up", "local-migrated"))
        self.query_one("#local-confirm", Button).disabled = not both

    @on(Button.Pressed, "#local-start")
    def _start(self) -> None:
        path = config_path(self.session)
        self._run(Step(START_STEP, "Start OpenCRVS locally", tuple(start_command(path)), path))

    @work(group="local-start", exclusive=True)
    async def _run(self, step: Step) -> None:
        def started(run: ProcessRun) -> None:
            self.current_run = run
            self.query_one("#local-stop", Button).disabled = False

        try:
            await run_in_pane(
                self.frame,
                self.query_one("#local-pane", OutputPane),
                PHASE,
                step,
                on_start=started,
            )
        finally:
            self.current_run = None
            self.query_one("#local-stop", Button).disabled = True
        self.refresh_from_session()

    @on(Button.Pressed, "#local-stop")
    def _stop(self) -> None:
        if self.current_run is not None:
            self.current_run.cancel()

    @on(Button.Pressed, "#local-confirm")
    def _confirm(self) -> None:
        confirm_local_ok(self.session, self.journal)
        self.save_session()
        self.refresh_from_session()
        self.notify("Verified locally.", title="Phase done")

    @on(Button.Pressed, "#local-skip")
    def _skip(self) -> None:
        skip_local(self.session, self.journal, self.query_one("#local-skip-reason", Input).value)
        self.save_session()
        self.refresh_from_session()


SCREEN = VerifyLocalScreen
