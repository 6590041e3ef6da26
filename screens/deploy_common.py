"""What Deploy to QA and Deploy to production share: the command builder, the run, the wait."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

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
    gate_text,
    plan_text,
)
from screens.step_run import run_in_pane
from screens.widgets.form import TickBox
from screens.widgets.manual_steps import ManualSteps
from screens.widgets.output_pane import OutputPane
from tasks.errors import CrvsError
from tasks.local.steps import Step
from tasks.release.deploy import (
    CLEAR_DATA_WARNING,
    DeployRecord,
    DeployRequest,
    StackProbe,
    build_deploy_argv,
    ensure_may_deploy,
    record_deploy,
    record_health,
    record_stack,
    settle_phase,
    wait_for_stack,
)
from tasks.release.gate import compute_gate
from tasks.release.publish import ReleaseRecord
from tasks.servers.environments import (
    check_environment,
    environment_nodes,
    manager_node,
    manager_runner,
)


class DeployScreen(ReleasePhaseScreen):
    ENVIRONMENT: ClassVar[str] = "qa"

    # -- layout -------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        env = self.ENVIRONMENT
        defaults = self._defaults()
        with VerticalScroll(id="content"):
            yield Static(plan_text(self.session, self.view_id), id="plan-box", classes="hint")
            yield ManualSteps(self.view_id)
            if env == "production":
                yield Static(id="gate-lock")
            yield Static(
                f"Deploy the released version to {env}. The command runs in the country config "
                "checkout with the variables of the env file checked in Release.",
                classes="hint",
            )
            with Horizontal(classes="release-fields"):
                yield Input(defaults["host"], placeholder="host (manager)", id="deploy-host")
                yield Input(defaults["version"], placeholder="core version", id="deploy-version")
                yield Input(
                    defaults["config_version"],
                    placeholder="country config version",
                    id="deploy-config-version",
                )
                yield Input(
                    defaults["replicas"], placeholder="replicas 1|3|5", id="deploy-replicas"
                )
            with Horizontal(classes="release-buttons"):
                # The demo has no yarn to rely on: bash runs the same script.
                yield TickBox("yarn deploy", value=self._yarn_default(), id="deploy-yarn")
                if env == "qa":
                    yield TickBox("--clear_data=yes", value=False, id="clear-data")
            if env == "qa":
                yield Static(id="clear-warning")
                yield Input(placeholder="type the host name exactly", id="clear-typed")
            yield Static(id="deploy-command", classes="command")
            with Horizontal(classes="release-buttons"):
                yield Button("Run deploy", id="deploy-run", variant="warning")
                yield Button("It ran through the GitHub deploy workflow", id="deploy-recorded")
            yield OutputPane(id="deploy-pane")
            with Horizontal(classes="release-buttons"):
                yield Button("Wait for services and migrations", id="deploy-wait")
                yield Button(f"Cluster health on {env}", id="deploy-health")
            yield Static(id="stack-progress")

    def _yarn_default(self) -> bool:
        """``yarn deploy`` when yarn is on PATH, else ``bash infrastructure/deploy.sh`` (the
        same script: package.json's deploy script runs it)."""
        import shutil

        return shutil.which("yarn") is not None

    def _defaults(self) -> dict[str, str]:
        env = self.ENVIRONMENT
        rec = DeployRecord.of(self.session).get(env)
        release = ReleaseRecord.of(self.session)
        tag = release.tag.name if release.tag else ""
        image = release.image.tag if release.image else tag
        if rec is not None:
            return {
                "host": rec.host,
                "version": rec.version,
                "config_version": rec.country_config_version,
                "replicas": str(rec.replicas),
            }
        try:
            nodes = environment_nodes(self.session, env)
        except CrvsError:
            nodes = []
        manager = manager_node(nodes)
        return {
            "host": manager.host if manager else "",
            "version": image,
            "config_version": tag,
            "replicas": str(sum(1 for n in nodes if n.in_swarm)) if nodes else "",
        }

    # -- the command ----------------------------------------------------------------

    def _request(self) -> DeployRequest:
        def value(wid: str) -> str:
            return self.query_one(f"#{wid}", Input).value.strip()

        try:
            replicas = int(value("deploy-replicas") or "0")
        except ValueError as exc:
            raise CrvsError("Replicas must be 1, 3 or 5.", "Invalid value") from exc
        clear = False
        if self.ENVIRONMENT == "qa":
            clear = self.query_one("#clear-data", TickBox).value
        return DeployRequest(
            self.ENVIRONMENT,
            value("deploy-host"),
            value("deploy-version"),
            value("deploy-config-version"),
            replicas,
            clear_data=clear,
            use_yarn=self.query_one("#deploy-yarn", TickBox).value,
        )

    def _typed(self) -> str | None:
        if self.ENVIRONMENT != "qa":
            return None
        return self.query_one("#clear-typed", Input).value

    def _argv(self) -> tuple[DeployRequest, list[str]]:
        req = self._request()
        return req, build_deploy_argv(req, self._typed())

    def refresh_body(self) -> None:
        locked = False
        if self.ENVIRONMENT == "production":
            gate = compute_gate(self.session)
            locked = not gate.open
            panel = self.query_one("#gate-lock", Static)
            panel.update(gate_text(gate))
            panel.set_class(gate.open, "-open")
        for wid in ("deploy-run", "deploy-recorded"):
            self.query_one(f"#{wid}", Button).disabled = locked
        # Nothing to wait for or check before a deploy is recorded.
        deployed = DeployRecord.of(self.session).get(self.ENVIRONMENT) is not None
        for wid in ("deploy-wait", "deploy-health"):
            self.query_one(f"#{wid}", Button).disabled = not deployed
        self._show_command()
        self._show_stack()

    def _show_command(self) -> None:
        out = self.query_one("#deploy-command", Static)
        if self.ENVIRONMENT == "qa":
            clear = self.query_one("#clear-data", TickBox).value
            host = self.query_one("#deploy-host", Input).value.strip() or "this host"
            warning = self.query_one("#clear-warning", Static)
            warning.update(Text("⚠ " + CLEAR_DATA_WARNING.format(host=host)))
            warning.set_class(clear, "-shown")
            self.query_one("#clear-typed", Input).set_class(clear, "-shown")
        try:
            _req, argv = self._argv()
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))
            return
        try:
            cwd: Path | None = config_path(self.session)
        except CrvsError:
            cwd = None
        out.update(command_text(argv, cwd))

    def _show_stack(self) -> None:
        rec = DeployRecord.of(self.session).get(self.ENVIRONMENT)
        if rec is not None and rec.stack is not None:
            glyph, style = ("✓", "green") if rec.stack.up else ("✗", "bold red")
            text = Text(f"{glyph} ", style=style)
            text.append(f"{rec.stack.checked_at}: {rec.stack.summary}")
            self.query_one("#stack-progress", Static).update(text)

    @on(Input.Changed)
    @on(TickBox.Changed)
    def _changed(self) -> None:
        self._show_command()

    # -- running ---------------------------------------------------------------------

    @on(Button.Pressed, "#deploy-run")
    def _run_pressed(self) -> None:
        ensure_may_deploy(self.session, self.ENVIRONMENT)
        req, argv = self._argv()
        cwd = config_path(self.session)
        body = command_text(argv, cwd)
        if req.clear_data:
            body.append("\n\n" + CLEAR_DATA_WARNING.format(host=req.host), style="bold red")

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self._run_deploy(req, argv, cwd)

        self.app.push_screen(
            ConfirmModal(
                f"Deploy to {self.ENVIRONMENT}?",
                body,
                f"Deploy to {req.host}",
                danger=req.clear_data or self.ENVIRONMENT == "production",
            ),
            go,
        )

    @work(group="deploy", exclusive=True)
    async def _run_deploy(self, req: DeployRequest, argv: list[str], cwd: Path) -> None:
        from tasks.release.env_check import read_env_files

        check = ReleaseRecord.of(self.session).env_check
        files = [Path(f) for f in check.files] if check is not None else []
        env = read_env_files(files) if files else {}
        ensure_may_deploy(self.session, self.ENVIRONMENT)
        step = Step("deploy", f"Deploy to {self.ENVIRONMENT}", tuple(argv), cwd)
        result = await run_in_pane(
            self.frame, self.query_one("#deploy-pane", OutputPane), self.view_id, step, env=env
        )
        record_deploy(
            self.session,
            req,
            argv,
            how="run in crvs-migrate",
            exit_code=result.exit_code,
            duration_s=result.duration_s,
        )
        self.save_session()
        self.refresh_from_session()
        if result.ok:
            # The deploy script does not check that services came up: look now.
            self._wait_pressed()

    @on(Button.Pressed, "#deploy-recorded")
    def _recorded(self) -> None:
        req, argv = self._argv()
        ensure_may_deploy(self.session, self.ENVIRONMENT)
        self.journal.confirmation(
            f"Deployed to {self.ENVIRONMENT} through the GitHub deploy workflow: {' '.join(argv)}",
            phase=self.view_id,
            step="deploy",
        )
        record_deploy(self.session, req, argv, how="GitHub deploy workflow (operator)")
        self.save_session()
        self.refresh_from_session()

    def on_manual_steps_changed(self, event: ManualSteps.Changed) -> None:
        """A by-hand step confirmed: the phase may be done now (settle_phase's rule)."""
        event.stop()
        settle_phase(self.session, self.ENVIRONMENT)
        self.save_session()
        self.refresh_from_session()

    @on(Button.Pressed, "#deploy-wait")
    def _wait_pressed(self) -> None:
        self.query_one("#stack-progress", Static).update(Text("Connecting to the manager…"))
        self._wait()

    @work(group="wait", exclusive=True)
    async def _wait(self) -> None:
        progress = self.query_one("#stack-progress", Static)

        def show(probe: StackProbe, elapsed: float) -> None:
            minutes, seconds = divmod(int(elapsed), 60)
            text = Text(f"◐ {minutes} min {seconds:02d} s: ", style="bold")
            text.append(probe.summary())
            if probe.migration_log_tail:
                text.append("\n  migration log: " + probe.migration_log_tail[-1], style="dim")
            progress.update(text)

        try:
            await self.frame.servers_ready()
            async with manager_runner(self.session, self.workspace, self.ENVIRONMENT) as run:
                probe = await wait_for_stack(run, on_progress=show)
        except CrvsError as exc:
            progress.update(Text(f"✗ {exc.message}", style="bold red"))
            return
        record_stack(self.session, self.ENVIRONMENT, probe)
        settle_phase(self.session, self.ENVIRONMENT)
        self.save_session()
        self.refresh_from_session()

    @on(Button.Pressed, "#deploy-health")
    def _health_pressed(self) -> None:
        self.query_one("#stack-progress", Static).update(Text("Checking every node…"))
        self._health()

    @work(group="health", exclusive=True)
    async def _health(self) -> None:
        await self.frame.servers_ready()
        snapshot = await check_environment(self.session, self.workspace, self.ENVIRONMENT)
        self.save_session()
        record_health(self.session, self.ENVIRONMENT, snapshot.checked_at, snapshot.status.value)
        settle_phase(self.session, self.ENVIRONMENT)
        self.save_session()
        self.refresh_from_session()
        self.notify(f"Cluster health on {self.ENVIRONMENT}: {snapshot.status.label}")
