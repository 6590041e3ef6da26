"""Deploy to production: locked until the gate's evidence holds (re-verified over SSH at the
moment of the deploy); always --clear_data=no; the way back when its checks fail."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from screens.deploy_common import DeployScreen, checks_text
from screens.modals.confirm import TextPromptModal
from screens.release_parts import command_text, config_path
from screens.step_run import run_in_pane, run_remote_in_pane
from screens.widgets.output_pane import OutputPane
from screens.widgets.status_text import StatusText
from tasks.errors import CrvsError
from tasks.local.steps import Step
from tasks.release.checks import PostDeployChecks
from tasks.release.deploy import DeployRecord, build_deploy_argv
from tasks.release.rollback import (
    current_rollback,
    next_step,
    rollback_problem,
    rollback_request,
    start_rollback,
    step_finished,
    step_started,
)
from tasks.servers.environments import environment_nodes, manager_node, ssh_options

GLYPHS = {"succeeded": "✓", "failed": "✗", "running": "◐", "skipped": "»", "not started": "○"}


class DeployProductionScreen(DeployScreen):
    VIEW_ID = "deploy_production"
    ENVIRONMENT = "production"

    def compose_after(self) -> ComposeResult:
        yield StatusText("The way back", classes="gate-step", id="rollback-title")
        yield StatusText(id="rollback-status")
        with Horizontal(classes="release-buttons"):
            yield Button("Roll back production", id="rollback-start", variant="error")
            yield Button("Run the next rollback step", id="rollback-next", variant="warning")
        yield OutputPane(id="rollback-pane")

    def refresh_body(self) -> None:
        super().refresh_body()
        self._show_rollback()

    _rollback_busy = False

    def _show_rollback(self) -> None:
        production = DeployRecord.of(self.session).production
        rollback = current_rollback(self.session)
        out = self.query_one("#rollback-status", Static)
        start = self.query_one("#rollback-start", Button)
        nxt = self.query_one("#rollback-next", Button)
        problem = rollback_problem(self.session)
        if production is None:
            out.update(Text("Nothing is deployed to production yet.", style="dim"))
            start.disabled = nxt.disabled = True
            return
        failed = production.checks is not None and not production.checks.ok
        if rollback is None:
            text = Text()
            if problem:
                text.append(f"⚠ {problem}\n", style="bold red")
            if failed:
                text.append(
                    "The checks after the production deploy failed. If the known fixes do not "
                    "help, roll back: redeploy the previous version",
                    style="bold",
                )
                previous = production.previous
                if previous is not None and (previous.core or previous.country_config):
                    text.append(f" ({previous.core} / {previous.country_config})")
                text.append(" and, where data was migrated, restore the verified backup.")
            else:
                text.append(
                    "If production misbehaves after the upgrade, roll back from here (the "
                    "previous version tags, and the verified backup where data was migrated).",
                    style="dim",
                )
            out.update(text)
            start.disabled = self._rollback_busy
            nxt.disabled = True
            return
        text = Text(
            f"Rollback to {rollback.core} / {rollback.country_config} "
            f"(started by {rollback.by} at {rollback.started_at}: {rollback.why})\n",
            style="bold",
        )
        if rollback.restore_data:
            text.append(
                f"Data was migrated: the backup {rollback.label} is restored. Registrations "
                "made after that backup are lost.\n",
                style="bold red",
            )
        for step in rollback.steps:
            glyph = GLYPHS.get(step.state, "?")
            text.append(f"  {glyph} {step.title}")
            if step.exit_code is not None:
                text.append(f" (exit {step.exit_code})")
            if step.note:
                text.append(f": {step.note}", style="dim")
            text.append("\n")
        if rollback.outcome:
            text.append(f"✓ {rollback.outcome} at {rollback.finished_at}", style="green")
        text.rstrip()
        out.update(text)
        start.disabled = True
        nxt.disabled = self._rollback_busy or next_step(rollback) is None

    def checks_done(self, checks: PostDeployChecks) -> None:
        if not checks.ok:
            self.notify(
                "The checks after the production deploy failed: see the known fixes, or roll "
                "back from “The way back”.",
                title="Production checks",
                severity="error",
                timeout=15,
            )

    @on(Button.Pressed, "#rollback-start")
    def _rollback_pressed(self) -> None:
        production = DeployRecord.of(self.session).production
        reason = (
            "checks failed: " + ", ".join(r.title for r in production.checks.failed)
            if production is not None and production.checks is not None and production.checks.failed
            else ""
        )

        def typed(answer: str | None) -> None:
            if answer is None:
                return
            start_rollback(self.session, self.journal, answer)
            self.save_session()
            self.refresh_from_session()

        self.app.push_screen(
            TextPromptModal(
                "Roll back production?",
                Text(
                    "Say why (it goes into the journal and the report). The steps then run one "
                    "by one from here, each confirmed."
                ),
                reason or "why",
                "Start the rollback",
                cancelled="No rollback was started.",
            ),
            typed,
        )

    @on(Button.Pressed, "#rollback-next")
    def _next_pressed(self) -> None:
        rollback = current_rollback(self.session)
        if rollback is None:
            raise CrvsError("No rollback was started.", "Rollback")
        step = next_step(rollback)
        if step is None:
            return
        manager = manager_node(environment_nodes(self.session, "production"))
        if manager is None:
            raise CrvsError("No production manager is known.", "No manager")
        body = Text(f"{step.title}.\n\n")
        if step.id in ("redeploy", "redeploy_after_restore"):
            req = rollback_request(self.session, *self._rollback_target())
            body.append_text(command_text(build_deploy_argv(req), config_path(self.session)))
        if step.id == "restore":
            body.append(
                f"This DROPS every production database and restores the backup "
                f"{rollback.label}: registrations made after it are LOST.",
                style="bold red",
            )
        body.append(f"\n\nType the production manager's host ({manager.host}) to go on.")

        def typed(answer: str | None) -> None:
            if answer is None:
                return
            if answer not in (manager.host, manager.name):
                self.notify(
                    f"{answer!r} is not the production manager: nothing was run.",
                    title="Rollback",
                    severity="error",
                )
                return
            self.journal.confirmation(
                f"Rollback step “{step.title}” allowed (typed {answer})",
                phase=self.view_id,
                step=f"rollback_{step.id}",
            )
            self._run_step(step.id)

        self.app.push_screen(
            TextPromptModal("Next rollback step", body, manager.host, "Run it"), typed
        )

    def _rollback_target(self) -> tuple[str, int, bool]:
        production = DeployRecord.of(self.session).production
        if production is None:
            raise CrvsError("Nothing is deployed to production.", "Rollback")
        from tasks.servers.environments import environment_nodes as nodes

        from_inventory = sum(1 for n in nodes(self.session, "production") if n.in_swarm)
        from screens.widgets.form import TickBox

        use_yarn = self.query_one("#deploy-yarn", TickBox).value
        return production.host, production.replicas or from_inventory, use_yarn

    @work(group="rollback", exclusive=True)
    async def _run_step(self, step_id: str) -> None:
        self._rollback_busy = True
        try:
            await self._step(step_id)
        finally:
            self._rollback_busy = False
            self.save_session()
            self.refresh_from_session()

    async def _step(self, step_id: str) -> None:
        if self.workspace.read_only:
            from tasks.errors import ReadOnlySession

            raise ReadOnlySession("A rollback step")
        await self.frame.servers_ready()
        pane = self.query_one("#rollback-pane", OutputPane)
        if step_id in ("redeploy", "redeploy_after_restore"):
            await self._redeploy(step_id, pane)
        elif step_id == "copy":
            await self._copy(pane)
        elif step_id == "restore":
            await self._restore(pane)
        elif step_id == "checks":
            await self._rollback_checks()

    async def _redeploy(self, step_id: str, pane: OutputPane) -> None:
        from tasks.release.env_check import read_env_files
        from tasks.release.publish import ReleaseRecord

        req = rollback_request(self.session, *self._rollback_target())
        argv = build_deploy_argv(req)
        cwd = config_path(self.session)
        check = ReleaseRecord.of(self.session).env_check
        files = [Path(f) for f in check.files] if check is not None else []
        env = read_env_files(files) if files else {}
        step_started(self.session, step_id, argv)
        self.save_session()
        result = await run_in_pane(
            self.frame,
            pane,
            self.view_id,
            Step(f"rollback_{step_id}", "Rollback: redeploy", tuple(argv), cwd),
            key=f"rollback_{step_id}",
            record_step=False,
            env=env,
        )
        entry = self.journal.event(
            f"Rollback: redeployed {req.version} / {req.country_config_version}, exit "
            f"{result.exit_code}",
            phase=self.view_id,
        )
        step_finished(
            self.session,
            step_id,
            result.ok,
            exit_code=result.exit_code,
            note="" if result.ok else f"deploy.sh ended with exit code {result.exit_code}",
            journal_id=entry.id,
        )

    async def _copy(self, pane: OutputPane) -> None:
        from tasks.release.emergency import DATA_ROOT, copy_backup_onto
        from tasks.release.gate import BackupRecord
        from tasks.servers.environments import manager_runner
        from tasks.units import fmt_bytes

        b = BackupRecord.of(self.session)
        target = b.target
        manager = manager_node(environment_nodes(self.session, "production"))
        if target is None or manager is None:
            raise CrvsError("The backup server or the production manager is not known.", "Rollback")
        step_started(self.session, "copy")
        self.save_session()
        options = ssh_options(self.workspace)
        async with manager_runner(self.session, self.workspace, "production") as run:
            root = (await run(DATA_ROOT)).stdout.strip() or "/data"
        dest = f"{root.rstrip('/')}/backups"
        source = f"{target.remote_dir.rstrip('/')}/{b.label}"
        pane.start(
            ["tar", "-C", source, "-cf", "-", "."], f"{target.ssh_host} → {manager.name}:{dest}"
        )

        def progress(done: int, elapsed: float) -> None:
            pane.set_note(f"{fmt_bytes(done)} copied")

        copied, found = await copy_backup_onto(
            target, b.label, manager, dest, b.gate_opened_at, options, on_progress=progress
        )
        ok = copied.ok and found.ok
        pane.finish(0 if ok else 1, copied.duration_s)
        entry = self.journal.event(
            f"Rollback: backup {b.label} copied to {manager.name}:{dest} ({copied.bytes} bytes)"
            + ("" if ok else f": {copied.error or '; '.join(found.problems[:3])}"),
            phase=self.view_id,
        )
        step_finished(
            self.session,
            "copy",
            ok,
            note=f"{fmt_bytes(copied.bytes)} to {dest}"
            + ("" if ok else f"; {copied.error or '; '.join(found.problems[:3])}"),
            journal_id=entry.id,
        )

    async def _restore(self, pane: OutputPane) -> None:
        from tasks.release.emergency import RESTORE_ANSWERS, plan_restore_run, restore_problems
        from tasks.release.gate import BackupRecord
        from tasks.servers.detached import RemoteRunRecord, ssh_connect
        from tasks.servers.environments import manager_runner

        b = BackupRecord.of(self.session)
        manager = manager_node(environment_nodes(self.session, "production"))
        if manager is None:
            raise CrvsError("No production manager is known.", "Rollback")
        _host, replicas, _yarn = self._rollback_target()
        async with manager_runner(self.session, self.workspace, "production") as run:
            plan = await plan_restore_run(
                run, b.label, replicas, scripts_dir=b.scripts_dir or "", server=manager.name
            )
        if plan.problems:
            raise CrvsError("\n".join(plan.problems), "Restore not run")
        record = RemoteRunRecord.on(
            manager, "rollback-restore", plan.argv, self.workspace.logs_dir, self.view_id
        )
        step_started(self.session, "restore", plan.argv)
        self.save_session()
        done = await run_remote_in_pane(
            self.frame,
            pane,
            self.view_id,
            record,
            ssh_connect(record, ssh_options(self.workspace)),
            start=True,
            stdin_text=RESTORE_ANSWERS,
        )
        problems = restore_problems(Path(done.log_file).read_text(errors="replace"))
        ok = done.ok and not problems
        step_finished(
            self.session,
            "restore",
            ok,
            exit_code=done.exit_code,
            note="; ".join(problems[:3]),
            journal_id=done.journal_id,
            run=done,
        )

    async def _rollback_checks(self) -> None:
        from tasks.release.checks import run_post_deploy_checks
        from tasks.release.deploy import wait_for_stack
        from tasks.servers.environments import manager_runner

        manager = manager_node(environment_nodes(self.session, "production"))
        production = DeployRecord.of(self.session).production
        if manager is None or production is None:
            raise CrvsError("Nothing to check.", "Rollback")
        step_started(self.session, "checks")
        self.save_session()
        async with manager_runner(self.session, self.workspace, "production") as run:
            probe = await wait_for_stack(run, node=manager.name, interval_s=self._wait_interval())
            checks = await run_post_deploy_checks(run, "production", manager.name, production.host)
        failed = [r.title for r in checks.failed]
        shown = Text("After the rollback:\n", style="bold")
        shown.append_text(checks_text(checks))
        self.query_one("#checks-result", Static).update(shown)
        entry = self.journal.event(
            "Rollback checks: " + ("all passed" if checks.ok else "failed: " + ", ".join(failed)),
            phase=self.view_id,
        )
        step_finished(
            self.session,
            "checks",
            checks.ok and probe.up,
            note=probe.summary() if checks.ok else "failed: " + ", ".join(failed),
            journal_id=entry.id,
        )


SCREEN = DeployProductionScreen
