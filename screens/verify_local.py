"""Verify locally: start OpenCRVS on this machine (optional); the operator confirms it came up."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static

from screens.release_parts import ReleasePhaseScreen, command_text, config_path, plan_text
from tasks.errors import CrvsError
from tasks.local.start import PHASE, confirm_local_ok, skip_local, start_command


class VerifyLocalScreen(ReleasePhaseScreen):
    VIEW_ID = PHASE

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.current_run = None

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
            yield self.app.kit.output_pane(id="local-pane")  # type: ignore[attr-defined]
            yield Checkbox("The local stack came up", id="local-up")
            yield Checkbox("Migrations finished", id="local-migrated")
            with Horizontal(classes="release-buttons"):
                yield Button("Confirm", id="local-confirm", variant="success", disabled=True)
                yield Input(placeholder="or: why you skip this (optional)", id="local-skip-reason")
                yield Button("Skip", id="local-skip")

    def refresh_body(self) -> None:
        out = self.query_one("#start-command", Static)
        try:
            path = self._cfg()
            out.update(command_text(start_command(path), path))
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))

    def _cfg(self):
        path = config_path(self.session, self.workspace)
        if path is None:
            raise CrvsError("Give the country config path in Prepare first.", "No country config")
        return path

    @on(Checkbox.Changed)
    def _checked(self) -> None:
        both = all(self.query_one(f"#{w}", Checkbox).value for w in ("local-up", "local-migrated"))
        self.query_one("#local-confirm", Button).disabled = not both

    @on(Button.Pressed, "#local-start")
    def _start(self) -> None:
        try:
            path = self._cfg()
            argv = start_command(path)
        except CrvsError as exc:
            self.app.show_error(exc)  # type: ignore[attr-defined]
            return
        self._run(argv, path)

    @work(group="local-start", exclusive=True)
    async def _run(self, argv: list[str], cwd) -> None:
        from tasks.local.process import Command, ProcessRun, log_path_for

        pane = self.query_one("#local-pane")
        run = ProcessRun(
            Command(tuple(argv), cwd),
            log_file=log_path_for(self.workspace.logs_dir, PHASE, "start"),
            journal=self.journal,
            phase=PHASE,
            step="start",
            on_lines=pane.write_lines,  # type: ignore[attr-defined]
        )
        self.current_run = run
        running = getattr(self.app, "running_steps", None)
        if running is not None:
            running.add(PHASE, "start", run)
        pane.start(argv, cwd)  # type: ignore[attr-defined]
        self.query_one("#local-stop", Button).disabled = False
        try:
            result = await run.run()
        except CrvsError as exc:
            pane.finish(None, 0.0)  # type: ignore[attr-defined]
            self.app.show_error(exc)  # type: ignore[attr-defined]
            return
        except asyncio.CancelledError:
            if run.result is not None:
                pane.finish(run.result.exit_code, run.result.duration_s, cancelled=True)  # type: ignore[attr-defined]
            raise
        finally:
            if running is not None:
                running.remove(PHASE, "start")
            self.current_run = None
            self.query_one("#local-stop", Button).disabled = True
        pane.finish(result.exit_code, result.duration_s, cancelled=result.cancelled)  # type: ignore[attr-defined]

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
