"""What Deploy to QA and Deploy to production share: the command, the run, the checks after.

After every deploy: the wait for services and migrations (progress with elapsed time), the
checks (``tasks.release.checks``) with the known fixes of a failed one, and Cluster health;
the phase is done only when all of it passed on the manager. Production adds the gate
(re-verified over SSH at the moment of the deploy), the typed environment name or host, and
the way back when its checks fail (``screens.rollback``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from screens.modals.confirm import ConfirmModal, TextPromptModal
from screens.release_parts import (
    ReleasePhaseScreen,
    command_text,
    config_path,
    gate_text,
    plan_text,
    target_version,
)
from screens.step_run import run_in_pane
from screens.widgets.form import TickBox, labelled
from screens.widgets.manual_steps import ManualSteps
from screens.widgets.output_pane import OutputPane
from screens.widgets.status_text import StatusText
from tasks.errors import CrvsError
from tasks.local.steps import Step
from tasks.release.checks import PostDeployChecks
from tasks.release.deploy import (
    CLEAR_DATA_WARNING,
    DeployRecord,
    DeployRequest,
    GateLocked,
    LiveGateCheck,
    PreviousVersions,
    StackProbe,
    build_deploy_argv,
    ensure_may_deploy,
    record_checks,
    record_deploy,
    record_health,
    record_stack,
    settle_phase,
    settle_problems,
    wait_on_manager,
)
from tasks.release.gate import compute_gate
from tasks.release.publish import ReleaseRecord
from tasks.servers.environments import (
    check_environment,
    environment_nodes,
    manager_node,
    manager_runner,
)
from tasks.units import fmt_elapsed


def checks_text(checks: PostDeployChecks) -> Text:
    """The checks as a list: glyphs carry the verdict; a failed one says its known fixes."""
    text = Text(f"Checks on {checks.manager} at {checks.checked_at}\n", style="bold")
    glyphs = {"pass": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "bold red")}
    for r in checks.results:
        glyph, style = glyphs.get(r.status, ("?", "bold yellow"))
        text.append(f"  {glyph} ", style=style)
        text.append(f"{r.title}: ", style="bold" if not r.passed else "")
        text.append(f"{r.summary}\n")
        if not r.passed:
            for d in r.details[:6]:
                text.append(f"      {d}\n", style="dim")
        for fix in r.fixes:
            text.append("    known fix: ", style="italic")
            text.append(f"{fix}\n")
    text.rstrip()
    return text


class DeployScreen(ReleasePhaseScreen):
    ENVIRONMENT: ClassVar[str] = "qa"

    # -- layout -------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        env = self.ENVIRONMENT
        defaults = self._defaults()
        with VerticalScroll(id="content"):
            yield StatusText(plan_text(self.session, self.view_id), id="plan-box", classes="hint")
            yield ManualSteps(self.view_id)
            if env == "production":
                yield StatusText(id="gate-lock")
            yield StatusText(
                f"Deploy the released version to {env}. The command runs in the country config "
                "checkout with the variables of the env file checked in Release.",
                classes="hint",
            )
            with Horizontal(classes="release-fields"):
                yield labelled(
                    "--host (the domain; deploy.sh ssh-es to it)",
                    Input(defaults["host"], placeholder="farajaland.example.org", id="deploy-host"),
                )
                yield labelled(
                    "--version (opencrvs-core)",
                    Input(defaults["version"], placeholder="v1.3.5", id="deploy-version"),
                )
            with Horizontal(classes="release-fields"):
                yield labelled(
                    "--country_config_version (image tag)",
                    Input(
                        defaults["config_version"],
                        placeholder="the tag published in Release",
                        id="deploy-config-version",
                    ),
                )
                yield labelled(
                    f"--replicas ({env}'s servers)",
                    Input(defaults["replicas"], placeholder="1, 3 or 5", id="deploy-replicas"),
                )
            with Horizontal(classes="release-buttons"):
                yield TickBox("yarn deploy", value=self._yarn_default(), id="deploy-yarn")
                if env == "qa":
                    yield TickBox("--clear_data=yes", value=False, id="clear-data")
            if env == "qa":
                yield StatusText(id="clear-warning")
                yield Input(placeholder="type the host name exactly", id="clear-typed")
            yield StatusText(id="deploy-command", classes="command")
            with Horizontal(classes="release-buttons"):
                yield Button("Run deploy", id="deploy-run", variant="warning")
                yield Button("It ran in GitHub Actions", id="deploy-recorded")
            yield StatusText(id="live-gate", classes="hint")
            yield OutputPane(id="deploy-pane")
            with Horizontal(classes="release-buttons"):
                yield Button("Wait for services and migrations", id="deploy-wait")
                yield Button("Run the checks", id="deploy-checks")
                yield Button(f"Cluster health on {env}", id="deploy-health")
            yield StatusText(id="stack-progress")
            yield StatusText(id="checks-result")
            yield StatusText(id="settle-status", classes="done-line")
            yield from self.compose_after()

    def body_mounted(self) -> None:
        super().body_mounted()
        self._prefill()

    @work(group="prefill")
    async def _prefill(self) -> None:
        """Fill empty fields from the inventory once the servers can answer (the demo
        cluster writes its inventories when it starts)."""
        try:
            await self.frame.servers_ready()
        except CrvsError:
            return
        if not self.still_shown():
            return
        defaults = self._defaults()
        for wid, key in (("deploy-host", "host"), ("deploy-replicas", "replicas")):
            field = self.query_one(f"#{wid}", Input)
            if not field.value.strip() and defaults[key]:
                field.value = defaults[key]

    def compose_after(self) -> ComposeResult:
        """What a subclass shows below the checks (production: the way back)."""
        yield from ()

    def _yarn_default(self) -> bool:
        """``bash infrastructure/deploy.sh`` by default: it is what ``yarn deploy`` runs
        (package.json's deploy script), without yarn's Node engine check (the country config
        wants Node 16; a jump host often has another). Tick the box to run ``yarn deploy``."""
        return False

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
        # --version is opencrvs-core's image tag (v1.3.5); --country_config_version the
        # country config image published in Release.
        return {
            "host": manager.host if manager else "",
            "version": f"v{target_version(self.session).lstrip('v')}",
            "config_version": image,
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

    _deploy_busy = False

    def refresh_body(self) -> None:
        locked = False
        if self.ENVIRONMENT == "production":
            gate = compute_gate(self.session, self.journal)
            locked = not gate.open
            panel = self.query_one("#gate-lock", Static)
            panel.update(gate_text(gate))
            panel.set_class(gate.open, "-open")
        for wid in ("deploy-run", "deploy-recorded"):
            self.query_one(f"#{wid}", Button).disabled = locked or self._deploy_busy
        # Nothing to wait for or check before a deploy is recorded.
        deployed = DeployRecord.of(self.session).get(self.ENVIRONMENT) is not None
        for wid in ("deploy-wait", "deploy-checks", "deploy-health"):
            self.query_one(f"#{wid}", Button).disabled = not deployed or self._deploy_busy
        self._show_command()
        self._show_stack()
        self._show_checks()
        self._show_settle()

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

    def _show_checks(self) -> None:
        rec = DeployRecord.of(self.session).get(self.ENVIRONMENT)
        out = self.query_one("#checks-result", Static)
        out.update(checks_text(rec.checks) if rec is not None and rec.checks else "")

    def _show_settle(self) -> None:
        out = self.query_one("#settle-status", Static)
        rec = DeployRecord.of(self.session).get(self.ENVIRONMENT)
        if rec is None:
            out.update("")
            return
        problems = settle_problems(self.session, self.ENVIRONMENT)
        if not problems:
            text = Text("✓ ", style="green")
            text.append(f"{self.ENVIRONMENT} deployed and checked: {rec.version} / ")
            text.append(f"{rec.country_config_version} ({rec.how})")
            text.append(f" — {rec.by or 'operator'}, {rec.at}", style="dim")
            out.update(text)
            return
        text = Text("Not done yet:\n", style="bold")
        for p in problems:
            text.append(f"  ✗ {p}\n")
        text.rstrip()
        out.update(text)

    @on(Input.Changed)
    @on(TickBox.Changed)
    def _changed(self) -> None:
        self._show_command()

    # -- running ---------------------------------------------------------------------

    @on(Button.Pressed, "#deploy-run")
    def _run_pressed(self) -> None:
        ensure_may_deploy(self.session, self.journal, self.ENVIRONMENT)
        req, argv = self._argv()
        cwd = config_path(self.session)
        body = command_text(argv, cwd)
        if req.clear_data:
            body.append("\n\n" + CLEAR_DATA_WARNING.format(host=req.host), style="bold red")
        if self.ENVIRONMENT == "production":
            self._ask_production(req, body, lambda: self._run_deploy(req, argv, cwd))
            return

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self._run_deploy(req, argv, cwd)

        self.app.push_screen(
            ConfirmModal(
                f"Deploy to {self.ENVIRONMENT}?",
                body,
                f"Deploy to {req.host}",
                danger=req.clear_data,
            ),
            go,
        )

    def _ask_production(self, req: DeployRequest, body: Text, then) -> None:
        """Production: the operator types "production" or the manager's host first."""
        manager = manager_node(environment_nodes(self.session, "production"))
        names = {"production", req.host} | ({manager.host, manager.name} if manager else set())
        body = body.copy()
        body.append(
            "\n\nThe gate is verified again over SSH first (the backup on the backup server, "
            "QA's health); the deploy runs only if it still holds. Type ",
            style="bold",
        )
        body.append("production", style="bold")
        body.append(" or the manager's host to deploy.", style="bold")

        def typed(answer: str | None) -> None:
            if answer is None:
                self.notify("Nothing was deployed.", title="Deploy to production")
                return
            if answer not in names:
                self.notify(
                    f"{answer!r} is neither “production” nor the manager's host: nothing was "
                    "deployed.",
                    title="Deploy to production",
                    severity="error",
                )
                return
            self.journal.confirmation(
                f"Typed {answer!r} to deploy {req.version} / {req.country_config_version} to "
                f"production ({req.host})",
                phase=self.view_id,
                step="deploy_allowed",
            )
            then()

        self.app.push_screen(
            TextPromptModal("Deploy to production?", body, "production", f"Deploy to {req.host}"),
            typed,
        )

    async def _live_gate(self) -> tuple[LiveGateCheck | None, PreviousVersions | None]:
        """Production: the gate re-verified now over SSH, and what production runs now."""
        if self.ENVIRONMENT != "production":
            return None, None
        from tasks.release.live_gate import production_before_deploy, verify_gate_live

        out = self.query_one("#live-gate", Static)
        out.update(Text("Verifying the gate again: the backup server, then QA…"))
        check = await verify_gate_live(self.session, self.journal, self.workspace)
        self.save_session()
        if not check.ok:
            text = Text("✗ The gate no longer holds; production was not deployed:\n", "bold red")
            for m in check.missing:
                text.append(f"  {m}\n")
            out.update(text)
            self.refresh_from_session()
            raise GateLocked("The gate no longer holds:\n- " + "\n- ".join(check.missing))
        previous = await production_before_deploy(self.session, self.workspace)
        text = Text("✓ ", style="green")
        text.append(f"Gate verified again at {check.at}: backup on the backup server, QA ")
        text.append(f"{check.qa_status} at {check.qa_checked_at}.")
        if previous.core or previous.country_config:
            text.append(
                f" Production ran {previous.core or '?'} / {previous.country_config or '?'} "
                "before (the way back)."
            )
        out.update(text)
        return check, previous

    @work(group="deploy", exclusive=True)
    async def _run_deploy(self, req: DeployRequest, argv: list[str], cwd: Path) -> None:
        from tasks.release.env_check import read_env_files

        self._deploy_busy = True
        try:
            check = ReleaseRecord.of(self.session).env_check
            files = [Path(f) for f in check.files] if check is not None else []
            env = read_env_files(files) if files else {}
            ensure_may_deploy(self.session, self.journal, self.ENVIRONMENT)
            await self.frame.servers_ready()
            gate_check, previous = await self._live_gate()
            step = Step("deploy", f"Deploy to {self.ENVIRONMENT}", tuple(argv), cwd)
            result = await run_in_pane(
                self.frame,
                self.query_one("#deploy-pane", OutputPane),
                self.view_id,
                step,
                env=env,
            )
            record_deploy(
                self.session,
                self.journal,
                req,
                argv,
                how="run in crvs-migrate",
                exit_code=result.exit_code,
                duration_s=result.duration_s,
                gate_check=gate_check,
                previous=previous,
            )
            self.save_session()
        finally:
            self._deploy_busy = False
            self.refresh_from_session()
        if result.ok:
            # The deploy script does not check that services came up: look now.
            await self._after_deploy()

    @on(Button.Pressed, "#deploy-recorded")
    def _recorded(self) -> None:
        req, argv = self._argv()
        ensure_may_deploy(self.session, self.journal, self.ENVIRONMENT)
        body = Text(
            f"The GitHub deploy workflow deployed {req.version} / {req.country_config_version} "
            f"to {self.ENVIRONMENT} ({req.host})."
        )
        if self.ENVIRONMENT == "production":
            self._ask_production(req, body, lambda: self._record_workflow(req, argv))
            return
        self._record_workflow(req, argv)

    @work(group="deploy", exclusive=True)
    async def _record_workflow(self, req: DeployRequest, argv: list[str]) -> None:
        await self.frame.servers_ready()
        gate_check, previous = await self._live_gate()
        entry = self.journal.confirmation(
            f"Deployed to {self.ENVIRONMENT} through the GitHub deploy workflow: {' '.join(argv)}",
            phase=self.view_id,
            step="deploy",
        )
        record_deploy(
            self.session,
            self.journal,
            req,
            argv,
            how="GitHub deploy workflow (operator)",
            gate_check=gate_check,
            previous=previous,
            journal_id=entry.id,
        )
        self.save_session()
        self.refresh_from_session()

    def on_manual_steps_changed(self, event: ManualSteps.Changed) -> None:
        """A by-hand step confirmed: the phase may be done now (settle_phase's rule)."""
        event.stop()
        settle_phase(self.session, self.ENVIRONMENT)
        self.save_session()
        self.refresh_from_session()

    # -- after the deploy ---------------------------------------------------------------

    @on(Button.Pressed, "#deploy-wait")
    def _wait_pressed(self) -> None:
        self.query_one("#stack-progress", Static).update(Text("Connecting to the manager…"))
        self._wait_and_check()

    @work(group="wait", exclusive=True)
    async def _wait_and_check(self) -> None:
        await self._after_deploy()

    async def _after_deploy(self) -> None:
        """Wait until the stack is up, run the checks, then Cluster health; settle."""
        up = await self._wait()
        await self._checks()
        if up:
            await self._health()

    async def _wait(self) -> bool:
        progress = self.query_one("#stack-progress", Static)
        node = manager_node(environment_nodes(self.session, self.ENVIRONMENT))

        def show(probe: StackProbe, elapsed: float) -> None:
            text = Text(f"◐ {fmt_elapsed(elapsed)}: ", style="bold")
            if probe.lost:
                text.append("the connection to the manager dropped; reconnecting (the stack ")
                text.append("and its migrations go on meanwhile)")
                progress.update(text)
                return
            text.append(probe.summary())
            p = probe.progress
            if p is not None and p.state == "running":
                text.append(
                    f"\n  migrations running for {fmt_elapsed(elapsed)}, "
                    f"{len(p.applied)} applied so far"
                    + (f" (last: {p.applied[-1]})" if p.applied else ""),
                    style="italic",
                )
            if probe.migration_log_tail:
                text.append("\n  migration log: " + probe.migration_log_tail[-1], style="dim")
            progress.update(text)

        try:
            await self.frame.servers_ready()
            probe = await wait_on_manager(
                lambda: manager_runner(self.session, self.workspace, self.ENVIRONMENT),
                on_progress=show,
                node=node.name if node else "",
                interval_s=self._wait_interval(),
            )
        except CrvsError as exc:
            progress.update(Text(f"✗ {exc.message}", style="bold red"))
            return False
        record_stack(self.session, self.ENVIRONMENT, probe)
        settle_phase(self.session, self.ENVIRONMENT)
        self.save_session()
        self.refresh_from_session()
        return probe.up

    def _wait_interval(self) -> float:
        # The demo's stack answers at once: no need to wait ten seconds between looks.
        return 1.0 if self.workspace.demo is not None else 10.0

    @on(Button.Pressed, "#deploy-checks")
    def _checks_pressed(self) -> None:
        self.query_one("#checks-result", Static).update(Text("Checking on the manager…"))
        self._run_checks()

    @work(group="checks", exclusive=True)
    async def _run_checks(self) -> None:
        await self._checks()

    async def _checks(self) -> None:
        from tasks.release.checks import run_post_deploy_checks

        rec = DeployRecord.of(self.session).get(self.ENVIRONMENT)
        if rec is None:
            return
        node = manager_node(environment_nodes(self.session, self.ENVIRONMENT))
        out = self.query_one("#checks-result", Static)
        try:
            await self.frame.servers_ready()
            async with manager_runner(self.session, self.workspace, self.ENVIRONMENT) as run:
                checks = await run_post_deploy_checks(
                    run, self.ENVIRONMENT, node.name if node else "", rec.host
                )
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))
            return
        record_checks(self.session, self.ENVIRONMENT, checks)
        settle_phase(self.session, self.ENVIRONMENT)
        self.save_session()
        self.refresh_from_session()
        self.checks_done(checks)

    def checks_done(self, checks: PostDeployChecks) -> None:
        """Called after the checks ran (production offers the way back when they failed)."""

    @on(Button.Pressed, "#deploy-health")
    def _health_pressed(self) -> None:
        self.query_one("#stack-progress", Static).update(Text("Checking every node…"))
        self._run_health()

    @work(group="health", exclusive=True)
    async def _run_health(self) -> None:
        await self._health()

    async def _health(self) -> None:
        await self.frame.servers_ready()
        snapshot = await check_environment(self.session, self.workspace, self.ENVIRONMENT)
        self.save_session()
        record_health(self.session, self.ENVIRONMENT, snapshot)
        settle_phase(self.session, self.ENVIRONMENT)
        self.save_session()
        self.refresh_from_session()
        self.notify(f"Cluster health on {self.ENVIRONMENT}: {snapshot.status.label}")
