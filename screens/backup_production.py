"""Back up production: the gate. Locked, visibly, with what is missing, until the evidence holds.

The backup and the restore run from here, on the servers, detached (a dropped connection
costs nothing; a run still going when the app restarts is reattached). Running them by hand
stays possible ("It ran outside the app"), journalled and shown as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, RadioSet, Static

from screens.modals.confirm import ConfirmModal, TextPromptModal
from screens.release_parts import (
    ReleasePhaseScreen,
    command_text,
    gate_text,
    plan_text,
    target_version,
)
from screens.step_run import run_remote_in_pane
from screens.widgets.form import AnswerButton, labelled
from screens.widgets.manual_steps import ManualSteps
from screens.widgets.output_pane import OutputPane
from screens.widgets.status_text import StatusText
from tasks.errors import CrvsError
from tasks.release.backup import (
    BACKUP_SCRIPT_NAME,
    DEFAULT_SCRIPTS_DIR,
    BackupTarget,
    backup_argv,
    restore_argv,
    suggest_label,
)
from tasks.release.deploy import settle_backup_phase
from tasks.release.gate import (
    HOW_OUTSIDE,
    PHASE,
    STRATEGIES,
    BackupRecord,
    Confirmation,
    acknowledge_drafts,
    acknowledge_risk,
    backup_finished,
    compute_gate,
    confirm_backup_outside,
    confirm_records_ok,
    confirm_restored_outside,
    open_gate,
    opening_problem,
    plan_backup,
    planned_target,
    qa_health_after_restore,
    record_verification,
    run_in_slot,
    start_backup_run,
    start_restore_run,
    tampered_records,
)
from tasks.servers.environments import (
    backup_vars,
    check_environment,
    environment_nodes,
    manager_node,
    ssh_options,
)
from tasks.units import fmt_bytes

CLEAR_QA = (
    "The restore DROPS EVERY DATABASE AND INDEX on {host} and replaces them with production's "
    "backup {label}: everything QA holds now is lost. Type the QA manager's host ({host}) "
    "exactly to copy the backup there and restore it."
)


def _done(text: str, record: Any = None) -> Text:
    """A ✓ line: what, and who and when (from the record's ``by`` and ``at``)."""
    line = Text("✓ ", style="green")
    line.append(text)
    at = str(getattr(record, "at", "") or "") if record is not None else ""
    if at:
        by = str(getattr(record, "by", "") or "") or "operator"
        line.append(f" — {by}, {at}", style="dim")
    return line


class BackupProductionScreen(ReleasePhaseScreen):
    VIEW_ID = PHASE

    def compose_body(self) -> ComposeResult:
        b = BackupRecord.of(self.session)
        target = planned_target(self.session)
        # Prefill from the production inventory's backup variables when nothing is planned yet.
        inv = {} if target else backup_vars(self.session)
        label = b.label or suggest_label(target_version(self.session))
        with VerticalScroll(id="content"):
            yield StatusText(plan_text(self.session, self.view_id), id="plan-box", classes="hint")
            yield ManualSteps(self.view_id)
            yield StatusText(id="gate-panel")
            yield StatusText(id="tamper-note", classes="hint")
            yield StatusText(
                "Opening the gate records the time: the backup found on the backup server must be "
                "newer than this moment.",
                classes="hint",
                id="gate-open-hint",
            )
            yield Button("Open the gate", id="gate-open", variant="primary")

            yield StatusText("1. Take an emergency backup of production", classes="gate-step")
            yield StatusText(id="backup-where", classes="hint")
            with Horizontal(classes="gate-fields"):
                yield labelled(
                    "Label (lowercase)",
                    Input(label, placeholder="before-v1.3.5", id="backup-label"),
                )
                yield labelled(
                    "Backup user",
                    Input(
                        target.ssh_user if target else inv.get("ssh_user", ""),
                        placeholder="--ssh_user",
                        id="backup-user",
                    ),
                )
                yield labelled(
                    "Backup server",
                    Input(
                        target.ssh_host if target else inv.get("ssh_host", ""),
                        placeholder="--ssh_host",
                        id="backup-host",
                    ),
                )
                yield labelled(
                    "SSH port",
                    Input(
                        str(target.ssh_port) if target else inv.get("ssh_port", "22"),
                        placeholder="--ssh_port",
                        id="backup-port",
                    ),
                )
            with Horizontal(classes="gate-fields"):
                yield labelled(
                    "Remote dir",
                    Input(
                        target.remote_dir if target else inv.get("remote_dir", ""),
                        placeholder="--remote_dir",
                        id="backup-dir",
                    ),
                )
                yield labelled(
                    "Manager IP",
                    Input(
                        target.production_ip if target else inv.get("production_ip", ""),
                        placeholder="--production_ip",
                        id="backup-prod-ip",
                    ),
                )
                yield labelled(
                    "Replicas",
                    Input(
                        str(target.replicas) if target else inv.get("replicas", ""),
                        placeholder="--replicas",
                        id="backup-replicas",
                    ),
                )
                yield labelled(
                    "Scripts dir",
                    Input(
                        b.scripts_dir or DEFAULT_SCRIPTS_DIR,
                        placeholder=DEFAULT_SCRIPTS_DIR,
                        id="backup-scripts",
                    ),
                )
            yield StatusText(id="backup-command", classes="command")
            with Horizontal(classes="gate-buttons"):
                yield Button("Run the backup on production", id="backup-run", variant="warning")
                yield Button("It ran outside the app", id="backup-outside")
            yield OutputPane(id="backup-pane")
            yield StatusText(id="backup-result")

            yield StatusText("2. Stored off the production server", classes="gate-step")
            yield StatusText(
                "Lists <remote dir>/<label> over SSH on the backup server: every part must be "
                "there, non-empty, and newer than the gate. Runs by itself after the backup.",
                classes="hint",
            )
            yield Button("Verify on the backup server", id="backup-verify")
            yield StatusText(id="verify-result")

            yield StatusText("3. Restored on QA, and QA healthy", classes="gate-step")
            yield StatusText(id="restore-where", classes="hint")
            with Horizontal(classes="gate-fields"):
                yield labelled(
                    "QA replicas",
                    Input(self._qa_replicas(), placeholder="1", id="restore-replicas"),
                )
                yield labelled(
                    "Scripts dir on QA",
                    Input(
                        b.qa_scripts_dir or DEFAULT_SCRIPTS_DIR,
                        placeholder=DEFAULT_SCRIPTS_DIR,
                        id="restore-scripts",
                    ),
                )
            yield StatusText(id="restore-command", classes="command")
            with Horizontal(classes="gate-buttons"):
                yield Button("Copy to QA and restore", id="restore-run", variant="warning")
                yield Button("It was restored outside the app", id="restore-outside")
            yield OutputPane(id="restore-pane")
            yield StatusText(id="restore-result")
            with Horizontal(classes="gate-buttons"):
                yield Button("Check QA health", id="qa-health")
                yield Button("Restored records look right", id="records-ok")
            yield StatusText(id="qa-health-result")

            yield StatusText("4. Staff told to submit their drafts", classes="gate-step")
            yield StatusText(
                "Drafts live only in each browser and are lost when OpenCRVS is updated.",
                classes="hint",
            )
            yield Button("Staff were told to submit drafts", id="drafts-ack")
            yield StatusText(id="drafts-result", classes="done-line")

            yield StatusText("5. Migrations can take hours", classes="gate-step")
            with RadioSet(id="strategy"):
                for key, title in STRATEGIES.items():
                    yield AnswerButton(
                        title, value=b.risk is not None and b.risk.strategy == key, name=key
                    )
            yield Button("I understand the risk; use this strategy", id="risk-ack")
            yield StatusText(id="risk-result", classes="done-line")

            yield Button("Go to Deploy to production", id="to-production", variant="success")

    def body_mounted(self) -> None:
        super().body_mounted()
        if planned_target(self.session) is None:
            self._prefill()
        self._reattach()

    def _qa_replicas(self) -> str:
        try:
            nodes = environment_nodes(self.session, "qa")
        except CrvsError:
            return ""
        count = sum(1 for n in nodes if n.in_swarm)
        return str(count) if count else ""

    @work(group="prefill")
    async def _prefill(self) -> None:
        """Fill empty fields from the production inventory (in the demo, once it is written)."""
        try:
            await self.frame.servers_ready()
        except CrvsError:
            return
        if not self.still_shown():
            return
        ids = {
            "ssh_user": "backup-user",
            "ssh_host": "backup-host",
            "ssh_port": "backup-port",
            "remote_dir": "backup-dir",
            "production_ip": "backup-prod-ip",
            "replicas": "backup-replicas",
        }
        for key, value in backup_vars(self.session).items():
            field = self.query_one(f"#{ids[key]}", Input)
            if not field.value.strip() or (key == "ssh_port" and field.value == "22"):
                field.value = value
        replicas = self.query_one("#restore-replicas", Input)
        if not replicas.value.strip():
            replicas.value = self._qa_replicas()

    # -- display ----------------------------------------------------------------

    def refresh_body(self) -> None:
        gate = settle_backup_phase(self.session, self.journal)
        b = BackupRecord.of(self.session)
        self.query_one("#gate-panel", Static).update(gate_text(gate))
        self.query_one("#gate-panel").set_class(gate.open, "-open")
        tampered = tampered_records(self.session)
        self.query_one("#tamper-note", Static).update(
            Text(
                "⚠ Edited outside crvs-migrate, counting for nothing: " + ", ".join(tampered),
                style="bold red",
            )
            if tampered
            else ""
        )
        opened = b.opened is not None and not opening_problem(self.session, self.journal)
        self.query_one("#gate-open", Button).display = not opened
        hint = self.query_one("#gate-open-hint", Static)
        if b.opened is not None and opened:
            hint.update(_done("Gate opened", b.opened))
        conds = {c.id: c for c in gate.conditions}
        backup_running = self._busy_with("backup")
        restore_running = self._busy_with("restore")
        taken_ok = conds["taken"].met
        stored_ok = conds["stored"].met
        restored = b.restore is not None
        healthy, _why = qa_health_after_restore(self.session)
        buttons = {
            "backup-run": opened and not backup_running,
            "backup-outside": opened and not backup_running,
            "backup-verify": opened and b.taken is not None and not backup_running,
            "restore-run": opened and stored_ok and not restore_running,
            "restore-outside": opened and taken_ok and not restore_running,
            "qa-health": opened and restored and not restore_running,
            "records-ok": opened and restored and healthy,
            "drafts-ack": b.drafts is None,
            "risk-ack": True,
            "to-production": gate.open,
        }
        for wid, enabled in buttons.items():
            self.query_one(f"#{wid}", Button).disabled = not enabled
        self._show_where()
        self._show_command()
        self._show_results(conds)
        self._show_verification()
        self._show_qa_health()

    _gate_busy: set[str] | None = None

    def _busy_with(self, kind: str) -> bool:
        return kind in (self._gate_busy or set())

    def _mark(self, kind: str, busy: bool) -> None:
        if self._gate_busy is None:
            self._gate_busy = set()
        if busy:
            self._gate_busy.add(kind)
        else:
            self._gate_busy.discard(kind)
        self.refresh_from_session()

    def _show_where(self) -> None:
        try:
            prod = manager_node(environment_nodes(self.session, "production"))
            qa = manager_node(environment_nodes(self.session, "qa"))
        except CrvsError as exc:
            self.query_one("#backup-where", Static).update(Text(f"✗ {exc.message}", style="red"))
            return
        where = Text(
            "Runs on the production manager "
            + (
                f"{prod.name} ({prod.user + '@' if prod.user else ''}{prod.host})"
                if prod
                else "(none: give production's inventory in Prepare)"
            )
            + ", detached: a dropped connection does not stop it. The label must be lowercase "
            "(Elasticsearch refuses uppercase snapshot names)."
        )
        self.query_one("#backup-where", Static).update(where)
        self.query_one("#restore-where", Static).update(
            Text(
                "Copies the verified backup from the backup server onto the QA manager "
                + (f"{qa.name} ({qa.host})" if qa else "(none: give QA's inventory in Prepare)")
                + ", then runs emergency-restore-metadata.sh there (it asks twice; crvs-migrate "
                "answers yes only after you typed the QA host). After the restore, redeploy QA "
                "(Deploy to QA, --clear_data=no): the restore leaves old database secrets."
            )
        )

    def _target(self) -> BackupTarget:
        def value(wid: str) -> str:
            return self.query_one(f"#{wid}", Input).value.strip()

        try:
            port = int(value("backup-port") or "22")
            replicas = int(value("backup-replicas") or "0")
        except ValueError as exc:
            raise CrvsError("Port and replicas must be numbers.", "Invalid value") from exc
        return BackupTarget(
            value("backup-user"),
            value("backup-host"),
            port,
            value("backup-dir"),
            value("backup-prod-ip"),
            replicas,
        )

    def _label(self) -> str:
        return self.query_one("#backup-label", Input).value.strip()

    def _scripts(self, wid: str = "backup-scripts") -> str:
        return self.query_one(f"#{wid}", Input).value.strip() or DEFAULT_SCRIPTS_DIR

    def _qa_replica_count(self) -> int:
        from tasks.names import validate_replicas

        return validate_replicas(self.query_one("#restore-replicas", Input).value.strip() or "0")

    def _show_command(self) -> None:
        out = self.query_one("#backup-command", Static)
        restore = self.query_one("#restore-command", Static)
        try:
            argv = backup_argv(self._target(), self._label(), self._scripts())
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))
            restore.update("")
            return
        out.update(command_text(argv))
        try:
            restore_cmd = restore_argv(
                self._label(), self._qa_replica_count(), self._scripts("restore-scripts")
            )
        except CrvsError as exc:
            restore.update(Text(f"✗ {exc.message}", style="bold red"))
            return
        text = Text("On the QA manager (it DROPS every QA database first):\n", style="bold")
        text.append_text(command_text(restore_cmd))
        restore.update(text)

    def _show_results(self, conds: dict[str, Any]) -> None:
        b = BackupRecord.of(self.session)
        taken = self.query_one("#backup-result", Static)
        if b.taken is not None and conds["taken"].met:
            run = b.taken.run
            what = (
                f"Backup {b.taken.label} finished on {run.node} (exit 0"
                + (f", {run.duration_s():.0f} s" if run.duration_s() is not None else "")
                + ", run in crvs-migrate)"
                if run is not None
                else f"Backup {b.taken.label} {HOW_OUTSIDE} (your word)"
            )
            line = _done(what, b.taken)
            for note in b.taken.notes:
                line.append(f"\n  {note}", style="italic")
            taken.update(line)
        elif b.backup_run is not None:
            run = b.backup_run
            if run.running:
                taken.update(Text(f"◐ The backup runs on {run.node} since {run.started_at}"))
            else:
                taken.update(Text(f"✗ {conds['taken'].missing}", style="bold red"))
        else:
            taken.update("")
        restore = self.query_one("#restore-result", Static)
        if b.restore is not None and not b.restore.problems:
            copied = f"copied {fmt_bytes(b.copy.bytes)} onto {b.copy.host}, " if b.copy else ""
            how = (
                "run in crvs-migrate" if b.restore.run is not None else f"{HOW_OUTSIDE} (your word)"
            )
            restore.update(
                _done(f"Backup {b.restore.label} restored on QA ({copied}{how})", b.restore)
            )
        elif b.restore is not None:
            text = Text("✗ The restore's log reports:\n", style="bold red")
            for p in b.restore.problems[:6]:
                text.append(f"  {p}\n")
            restore.update(text)
        elif b.restore_run is not None and b.restore_run.running:
            restore.update(Text(f"◐ The restore runs on {b.restore_run.node}"))
        elif b.restore_run is not None:
            restore.update(Text(f"✗ {conds['restored'].missing}", style="bold red"))
        else:
            restore.update("")
        self._done_line("#drafts-result", b.drafts, "Staff were told to submit their drafts")
        risk = b.risk
        self._done_line(
            "#risk-result",
            risk,
            f"Risk acknowledged: {STRATEGIES.get(risk.strategy, '?')}" if risk else "",
        )

    def _done_line(self, selector: str, record: Confirmation | Any | None, what: str) -> None:
        self.query_one(selector, Static).update(_done(what, record) if record is not None else "")

    def _show_verification(self) -> None:
        v = BackupRecord.of(self.session).verification
        out = self.query_one("#verify-result", Static)
        if v is None:
            out.update("")
            return
        text = Text(f"Checked {v.host}:{v.remote_dir}/{v.label} at {v.verified_at}\n")
        if v.error:
            text.append(f"✗ {v.error}\n", style="bold red")
        for p in v.parts:
            if p.ok:
                text.append("  ✓ ", style="green")
                text.append(f"{p.name} ({fmt_bytes(p.size)})\n")
            else:
                text.append("  ✗ ", style="bold red")
                text.append(f"{p.name}: {p.problem}\n")
        text.rstrip()
        out.update(text)

    def _show_qa_health(self) -> None:
        out = self.query_one("#qa-health-result", Static)
        b = BackupRecord.of(self.session)
        if b.restore is None:
            out.update("")
            return
        ok, summary = qa_health_after_restore(self.session)
        glyph, style = ("✓", "green") if ok else ("✗", "bold red")
        text = Text(f"{glyph} ", style=style)
        text.append(summary)
        if b.records_ok is not None:
            text.append("\n")
            text.append_text(_done("The restored records on QA look right", b.records_ok))
        out.update(text)

    # -- actions ----------------------------------------------------------------

    def _save(self) -> None:
        settle_backup_phase(self.session, self.journal)
        self.save_session()
        self.refresh_from_session()

    @on(Input.Changed, ".gate-fields Input")
    def _fields_changed(self) -> None:
        self._show_command()

    @on(Button.Pressed, "#gate-open")
    def _open(self) -> None:
        open_gate(self.session, self.journal)
        self._save()

    # condition 1 -------------------------------------------------------------

    def _checkout_script(self) -> Path | None:
        from tasks.local.upgrade_steps import config_path

        config = config_path(self.session)
        if config is None:
            return None
        path = Path(config) / "infrastructure" / BACKUP_SCRIPT_NAME
        return path if path.is_file() else None

    @on(Button.Pressed, "#backup-run")
    def _backup_pressed(self) -> None:
        target, label, scripts = self._target(), self._label(), self._scripts()
        argv = backup_argv(target, label, scripts)
        plan_backup(self.session, target, label, scripts)
        self.save_session()

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self._run_backup(target, label, scripts)

        self.app.push_screen(
            ConfirmModal(
                "Run the emergency backup on production?",
                command_text(argv),
                "Run the backup",
            ),
            go,
        )

    @work(group="backup", exclusive=True)
    async def _run_backup(self, target: BackupTarget, label: str, scripts: str) -> None:
        self._mark("backup", True)
        try:
            await self._backup(target, label, scripts)
        finally:
            self._mark("backup", False)

    async def _backup(self, target: BackupTarget, label: str, scripts: str) -> None:
        from tasks.release.emergency import plan_backup_run
        from tasks.servers.detached import RemoteRunRecord, ssh_connect
        from tasks.servers.environments import manager_runner

        await self.frame.servers_ready()
        node = manager_node(environment_nodes(self.session, "production"))
        if node is None:
            raise CrvsError(
                "No production manager is known: give production's inventory in Prepare.",
                "No manager",
            )
        pane = self.query_one("#backup-pane", OutputPane)
        pane.set_status("asking the production manager what the backup needs…")
        async with manager_runner(self.session, self.workspace, "production") as run:
            plan = await plan_backup_run(
                run,
                target,
                label,
                scripts_dir=scripts,
                checkout_script=self._checkout_script(),
                manager=node.name,
            )
        if not plan.ok:
            pane.set_status("✗ not run: " + plan.problems[0], "bold red")
            raise CrvsError("\n".join(plan.problems), "Backup not run")
        record = RemoteRunRecord.on(node, "backup", plan.argv, self.workspace.logs_dir, PHASE)
        start_backup_run(self.session, self.journal, record)
        self._save()
        connect = ssh_connect(record, ssh_options(self.workspace))
        done = await run_remote_in_pane(
            self.frame, pane, PHASE, record, connect, start=True, file=plan.file
        )
        backup_finished(self.session, self.journal, done, plan.notes)
        self._save()
        if done.ok:
            await self._verify(target, label)

    def _reattach(self) -> None:
        if self.workspace.read_only:
            return  # the window holding the session follows its runs
        for slot in ("backup_run", "restore_run"):
            run = run_in_slot(self.session, slot)
            if run is not None and run.running:
                self._follow(slot)

    @work(group="reattach")
    async def _follow(self, slot: str) -> None:
        """A run that was going when crvs-migrate stopped: follow it again to its end."""
        kind = "backup" if slot == "backup_run" else "restore"
        self._mark(kind, True)
        try:
            await self._follow_slot(slot)
        finally:
            self._mark(kind, False)

    async def _follow_slot(self, slot: str) -> None:
        from tasks.release.emergency import restore_problems
        from tasks.release.gate import restore_finished
        from tasks.servers.detached import ssh_connect

        await self.frame.servers_ready()
        run = run_in_slot(self.session, slot)
        if run is None or not run.running:
            return
        pane = self.query_one(
            "#backup-pane" if slot == "backup_run" else "#restore-pane", OutputPane
        )
        done = await run_remote_in_pane(
            self.frame, pane, PHASE, run, ssh_connect(run, ssh_options(self.workspace)), start=False
        )
        if slot == "backup_run":
            backup_finished(self.session, self.journal, done)
        else:
            problems = restore_problems(Path(done.log_file).read_text(errors="replace"))
            if done.exit_code not in (0, None) and not problems:
                problems = [f"exit code {done.exit_code}"]
            b = BackupRecord.of(self.session)
            restore_finished(self.session, done, b.restore.replicas if b.restore else 0, problems)
        self._save()

    @on(Button.Pressed, "#backup-outside")
    def _outside(self) -> None:
        target, label, scripts = self._target(), self._label(), self._scripts()
        argv = backup_argv(target, label, scripts)

        def done(confirmed: bool | None) -> None:
            if confirmed:
                confirm_backup_outside(self.session, self.journal, target, label, argv)
                self._save()

        self.app.push_screen(
            ConfirmModal(
                "Did the backup run outside crvs-migrate and finish without errors?",
                command_text(argv),
                "Yes, it ran outside the app and finished",
            ),
            done,
        )

    # condition 2 -------------------------------------------------------------

    @on(Button.Pressed, "#backup-verify")
    def _verify_pressed(self) -> None:
        target, label = self._target(), self._label()
        plan_backup(self.session, target, label, self._scripts())
        self.query_one("#verify-result", Static).update(Text("Connecting to the backup server…"))
        self._run_verification(target, label)

    @work(group="verify", exclusive=True)
    async def _run_verification(self, target: BackupTarget, label: str) -> None:
        await self._verify(target, label)

    async def _verify(self, target: BackupTarget, label: str) -> None:
        from tasks.release.backup import verify_backup
        from tasks.servers.runner import ssh_runner
        from tasks.servers.ssh import FailureKind, SshFailure

        since = BackupRecord.of(self.session).gate_opened_at
        options = ssh_options(self.workspace)
        out = self.query_one("#verify-result", Static)
        out.update(Text("Listing the backup on the backup server…"))
        try:
            await self.frame.servers_ready()
            async with ssh_runner(
                target.ssh_host, target.ssh_port, target.ssh_user, options
            ) as run:
                ver = await verify_backup(run, target.ssh_host, target.remote_dir, label, since)
        except SshFailure as exc:
            if exc.kind is FailureKind.UNKNOWN_HOST_KEY and exc.host_key is not None:
                out.update(Text(f"⚿ {exc.message}", style="bold yellow"))
                self._offer_trust(target, label, exc.host_key, options.known_hosts)
                return
            out.update(Text(f"✗ {exc.message}", style="bold red"))
            return
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))
            return
        record_verification(self.session, ver)
        self._save()

    def _offer_trust(self, target: BackupTarget, label: str, key, known_hosts) -> None:
        """An unknown backup-server key: show its fingerprint; trust only on an explicit yes."""
        from screens.modals import TrustHostKey
        from tasks.servers.inventory import Node, Role
        from tasks.servers.ssh import trust_host_key

        node = Node("backup", target.ssh_host, Role.BACKUP, target.ssh_port, target.ssh_user)

        def decided(trust: bool | None) -> None:
            if not trust:
                self.notify(
                    "Host key not trusted: the backup was not verified.", title="Not trusted"
                )
                return
            try:
                trust_host_key(known_hosts, key)
            except CrvsError as exc:  # a revoked key is refused, whoever asks
                self.notify(exc.message, title=exc.title, severity="error")
                return
            self.journal.confirmation(
                f"trusted the {key.algorithm} host key {key.fingerprint} of "
                f"{key.known_hosts_name} (backup server) into {known_hosts}",
                phase=PHASE,
                step="verify",
            )
            self._run_verification(target, label)

        self.app.push_screen(TrustHostKey(node, key), decided)

    # condition 3 -------------------------------------------------------------

    @on(Button.Pressed, "#restore-run")
    def _restore_pressed(self) -> None:
        b = BackupRecord.of(self.session)
        replicas = self._qa_replica_count()
        scripts = self._scripts("restore-scripts")
        node = manager_node(environment_nodes(self.session, "qa"))
        if node is None:
            raise CrvsError("No QA manager is known: give QA's inventory in Prepare.", "No QA")
        body = Text(CLEAR_QA.format(host=node.host, label=b.label), style="bold red")
        body.append("\n\n")
        body.append_text(command_text(restore_argv(b.label, replicas, scripts)))

        def typed(answer: str | None) -> None:
            from tasks.release.emergency import typed_host_matches

            if answer is None:
                self.notify("Nothing was copied or restored.", title="Restore")
                return
            if not typed_host_matches(answer, node.host, node.name):
                self.notify(
                    f"{answer!r} is not the QA manager's host: nothing was run.",
                    title="Restore",
                    severity="error",
                )
                return
            self.journal.confirmation(
                f"Typed the QA host {answer} to restore backup {b.label} there "
                f"(--replicas={replicas})",
                phase=PHASE,
                step="restore_allowed",
            )
            b.qa_scripts_dir = scripts
            self._run_restore(replicas, scripts)

        self.app.push_screen(
            TextPromptModal(
                "Copy the backup to QA and restore it?", body, node.host, "Restore on QA"
            ),
            typed,
        )

    @work(group="restore", exclusive=True)
    async def _run_restore(self, replicas: int, scripts: str) -> None:
        self._mark("restore", True)
        try:
            await self._restore(replicas, scripts)
        finally:
            self._mark("restore", False)

    async def _restore(self, replicas: int, scripts: str) -> None:
        if self.workspace.read_only:
            from tasks.errors import ReadOnlySession

            raise ReadOnlySession("Copying the backup onto QA")
        from tasks.release.emergency import (
            ES_RESTART,
            RESTORE_ANSWERS,
            copy_backup_onto,
            plan_restore_run,
            restore_problems,
            skipped,
        )
        from tasks.release.gate import CopyRecord, record_copy, restore_finished
        from tasks.servers.detached import RemoteRunRecord, ssh_connect
        from tasks.servers.environments import manager_runner
        from tasks.session.state import now_iso
        from tasks.units import fmt_bytes as size

        await self.frame.servers_ready()
        b = BackupRecord.of(self.session)
        target = b.target
        if target is None:
            raise CrvsError("Plan the backup first (step 1).", "No backup")
        node = manager_node(environment_nodes(self.session, "qa"))
        if node is None:
            raise CrvsError("No QA manager is known.", "No QA")
        pane = self.query_one("#restore-pane", OutputPane)
        options = ssh_options(self.workspace)
        async with manager_runner(self.session, self.workspace, "qa") as qa_run:
            plan = await plan_restore_run(
                qa_run, b.label, replicas, scripts_dir=scripts, server=node.name
            )
        if plan.problems:
            raise CrvsError("\n".join(plan.problems), "Restore not run")
        # 1. the backup onto QA
        source = f"{target.remote_dir.rstrip('/')}/{b.label}"
        pane.start(
            ["tar", "-C", source, "-cf", "-", "."],
            f"{target.ssh_host} → {node.name}:{plan.backups_dir}",
        )
        pane.write_lines(
            [f"Copying {source} from {target.ssh_host} to {node.name}:{plan.backups_dir}"]
        )

        def progress(done_bytes: int, elapsed: float) -> None:
            pane.set_note(f"{size(done_bytes)} copied")

        started = now_iso()
        copied, found = await copy_backup_onto(
            target, b.label, node, plan.backups_dir, b.gate_opened_at, options, on_progress=progress
        )
        record_copy(
            self.session,
            CopyRecord(
                node.name,
                plan.backups_dir,
                started,
                copied.bytes,
                round(copied.duration_s, 1),
                found,
                copied.error,
            ),
        )
        self.journal.event(
            f"Backup {b.label} copied from {target.ssh_host} to {node.name}:{plan.backups_dir} "
            f"({copied.bytes} bytes){': ' + copied.error if copied.error else ''}",
            phase=PHASE,
        )
        self._save()
        pane.finish(0 if copied.ok and found.ok else 1, copied.duration_s)
        if not copied.ok or not found.ok:
            raise CrvsError(
                f"The backup is not complete on {node.name}: "
                + "; ".join((copied.error and [copied.error]) or found.problems[:4]),
                "Copy failed",
            )

        # 2. Elasticsearch picks up the copied snapshots (the docs' step 3), 3. the restore
        def remote(kind: str, argv: list[str]) -> RemoteRunRecord:
            return RemoteRunRecord.on(node, kind, argv, self.workspace.logs_dir, PHASE)

        es = remote("es-restart", list(ES_RESTART))
        es_done = await run_remote_in_pane(
            self.frame, pane, PHASE, es, ssh_connect(es, options), start=True
        )
        if not es_done.ok:
            raise CrvsError(
                f"Restarting Elasticsearch on {node.name} failed (exit {es_done.exit_code}): "
                "see the output; nothing was restored.",
                "Restore not run",
            )
        record = remote("restore", list(plan.argv))
        start_restore_run(self.session, self.journal, record)
        self._save()
        done = await run_remote_in_pane(
            self.frame,
            pane,
            PHASE,
            record,
            ssh_connect(record, options),
            start=True,
            stdin_text=RESTORE_ANSWERS,
        )
        log = Path(done.log_file).read_text(errors="replace") if done.log_file else ""
        problems = restore_problems(log)
        if skipped(log) and "Skipped." not in problems:
            problems.insert(0, "Skipped.")
        if done.exit_code not in (0, None) and not problems:
            problems = [f"exit code {done.exit_code}"]
        restore_finished(self.session, done, replicas, problems)
        self._save()

    @on(Button.Pressed, "#restore-outside")
    def _restored_outside(self) -> None:
        label = self._label()
        replicas = self._qa_replica_count()
        node = manager_node(environment_nodes(self.session, "qa"))

        def done(confirmed: bool | None) -> None:
            if confirmed:
                confirm_restored_outside(
                    self.session, self.journal, label, node.host if node else "", replicas
                )
                self._save()

        self.app.push_screen(
            ConfirmModal(
                "Was the backup restored on QA outside crvs-migrate?",
                Text(
                    f"Backup {label} copied onto the QA manager's /data/backups and restored "
                    f"with emergency-restore-metadata.sh --label={label} --replicas={replicas}."
                ),
                "Yes, it was restored outside the app",
            ),
            done,
        )

    @on(Button.Pressed, "#qa-health")
    def _qa_health(self) -> None:
        self.query_one("#qa-health-result", Static).update(Text("Checking QA…"))
        self._run_qa_health()

    @work(group="qa-health", exclusive=True)
    async def _run_qa_health(self) -> None:
        """Cluster health on QA: saved like any other run, so it counts for the gate from
        whichever route it was made (here, Deploy to QA, or Cluster health on QA)."""
        out = self.query_one("#qa-health-result", Static)
        try:
            await self.frame.servers_ready()
            await check_environment(self.session, self.workspace, "qa")
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))
            raise
        self._save()

    @on(Button.Pressed, "#records-ok")
    def _records_ok(self) -> None:
        confirm_records_ok(self.session, self.journal)
        self._save()

    @on(Button.Pressed, "#drafts-ack")
    def _drafts(self) -> None:
        acknowledge_drafts(self.session, self.journal)
        self._save()

    @on(Button.Pressed, "#risk-ack")
    def _risk(self) -> None:
        pressed = self.query_one("#strategy", RadioSet).pressed_button
        if pressed is None or not pressed.name:
            raise CrvsError(
                "Choose in place, or new servers and a DNS switch.", "Choose a strategy"
            )
        acknowledge_risk(self.session, self.journal, pressed.name)
        self._save()

    @on(Button.Pressed, "#to-production")
    def _to_production(self) -> None:
        if not compute_gate(self.session, self.journal).open:
            raise CrvsError("The gate is not open.", "Production is locked")
        self.frame.action_navigate("deploy_production")


SCREEN = BackupProductionScreen
