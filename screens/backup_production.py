"""Back up production: the gate. Locked, visibly, with what is missing, until the evidence holds."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, RadioSet, Static

from screens.modals.confirm import ConfirmModal
from screens.release_parts import (
    ReleasePhaseScreen,
    command_text,
    gate_text,
    plan_text,
    target_version,
)
from screens.widgets.form import AnswerButton
from screens.widgets.manual_steps import ManualSteps
from tasks.errors import CrvsError
from tasks.release.backup import BackupTarget, restore_argv, suggest_label, verify_backup
from tasks.release.gate import (
    PHASE,
    STRATEGIES,
    BackupRecord,
    acknowledge_drafts,
    acknowledge_risk,
    confirm_backup_taken,
    confirm_records_ok,
    confirm_restored,
    open_gate,
    plan_backup,
    planned_target,
    qa_health_after_restore,
    record_verification,
    refresh_gate,
)
from tasks.servers.environments import backup_vars, check_environment
from tasks.units import fmt_bytes


class BackupProductionScreen(ReleasePhaseScreen):
    VIEW_ID = PHASE

    def compose_body(self) -> ComposeResult:
        b = BackupRecord.of(self.session)
        target = planned_target(self.session)
        # Prefill from the production inventory's backup variables when nothing is planned yet.
        inv = {} if target else backup_vars(self.session)
        label = b.label or suggest_label(target_version(self.session))
        with VerticalScroll(id="content"):
            yield Static(plan_text(self.session, self.view_id), id="plan-box", classes="hint")
            yield ManualSteps(self.view_id)
            yield Static(id="gate-panel")
            yield Static(
                "Opening the gate records the time: the backup found on the backup server must be "
                "newer than this moment.",
                classes="hint",
                id="gate-open-hint",
            )
            yield Button("Open the gate", id="gate-open", variant="primary")

            yield Static("1. Take an emergency backup of production", classes="gate-step")
            yield Static(
                "Run this as root on the production manager. The label must be lowercase "
                "(Elasticsearch refuses uppercase snapshot names).",
                classes="hint",
            )
            with Horizontal(classes="gate-fields"):
                yield Input(label, placeholder="label (lowercase)", id="backup-label")
                yield Input(
                    target.ssh_user if target else inv.get("ssh_user", ""),
                    placeholder="backup ssh user",
                    id="backup-user",
                )
                yield Input(
                    target.ssh_host if target else inv.get("ssh_host", ""),
                    placeholder="backup server",
                    id="backup-host",
                )
                yield Input(
                    str(target.ssh_port) if target else inv.get("ssh_port", "22"),
                    placeholder="port",
                    id="backup-port",
                )
            with Horizontal(classes="gate-fields"):
                yield Input(
                    target.remote_dir if target else inv.get("remote_dir", ""),
                    placeholder="remote directory on the backup server",
                    id="backup-dir",
                )
                yield Input(
                    target.production_ip if target else inv.get("production_ip", ""),
                    placeholder="production manager IP",
                    id="backup-prod-ip",
                )
                yield Input(
                    str(target.replicas) if target else inv.get("replicas", ""),
                    placeholder="replicas",
                    id="backup-replicas",
                )
            yield Static(id="backup-command", classes="command")
            yield Button("It ran on production and finished", id="backup-taken")

            yield Static("2. Stored off the production server", classes="gate-step")
            yield Static(
                "Lists <remote dir>/<label> over SSH on the backup server: every part must be "
                "there, non-empty, and newer than the gate.",
                classes="hint",
            )
            yield Button("Verify on the backup server", id="backup-verify")
            yield Static(id="verify-result")

            yield Static("3. Restored on QA, and QA healthy", classes="gate-step")
            yield Static(id="restore-command", classes="command")
            with Horizontal(classes="gate-buttons"):
                yield Button("Restored on QA", id="restore-done")
                yield Button("Check QA health", id="qa-health")
                yield Button("Restored records look right", id="records-ok")
            yield Static(id="qa-health-result")

            yield Static("4. Staff told to submit their drafts", classes="gate-step")
            yield Static(
                "Drafts live only in each browser and are lost when OpenCRVS is updated.",
                classes="hint",
            )
            yield Button("Staff were told to submit drafts", id="drafts-ack")

            yield Static("5. Migrations can take hours", classes="gate-step")
            with RadioSet(id="strategy"):
                for key, title in STRATEGIES.items():
                    yield AnswerButton(
                        title, value=b.risk is not None and b.risk.strategy == key, name=key
                    )
            yield Button("I understand the risk; use this strategy", id="risk-ack")

            yield Button("Go to Deploy to production", id="to-production", variant="success")

    def on_mount(self) -> None:
        super().on_mount()
        if planned_target(self.session) is None:
            self._prefill()

    @work(group="prefill")
    async def _prefill(self) -> None:
        """Fill empty fields from the production inventory (in the demo, once it is written)."""
        try:
            await self.frame.servers_ready()
        except CrvsError:
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

    def refresh_body(self) -> None:
        gate = refresh_gate(self.session)
        self.query_one("#gate-panel", Static).update(gate_text(gate))
        self.query_one("#gate-panel").set_class(gate.open, "-open")
        opened_at = BackupRecord.of(self.session).gate_opened_at
        opened = bool(opened_at)
        self.query_one("#gate-open", Button).display = not opened
        hint = self.query_one("#gate-open-hint", Static)
        if opened:
            hint.update(Text(f"Gate opened at {opened_at}."))
        self.query_one("#to-production", Button).disabled = not gate.open
        for wid in ("backup-taken", "backup-verify", "restore-done", "qa-health", "records-ok"):
            self.query_one(f"#{wid}", Button).disabled = not opened
        self._show_command()
        self._show_verification()
        self._show_qa_health()

    # -- display ----------------------------------------------------------------

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
        return self.query_one("#backup-label", Input).value

    def _show_command(self) -> None:
        out = self.query_one("#backup-command", Static)
        restore = self.query_one("#restore-command", Static)
        try:
            from tasks.release.backup import backup_argv

            argv = backup_argv(self._target(), self._label())
        except CrvsError as exc:
            out.update(Text(f"✗ {exc.message}", style="bold red"))
            restore.update("")
            return
        out.update(command_text(argv))
        replicas = self._target().replicas
        text = Text("Run on the QA manager (it DROPS every QA database first):\n", style="bold")
        text.append_text(command_text(restore_argv(self._label(), replicas)))
        restore.update(text)

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
        if BackupRecord.of(self.session).restore is None:
            out.update("")
            return
        ok, summary = qa_health_after_restore(self.session)
        glyph, style = ("✓", "green") if ok else ("✗", "bold red")
        text = Text(f"{glyph} ", style=style)
        text.append(summary)
        out.update(text)

    # -- actions ----------------------------------------------------------------

    def _save(self) -> None:
        refresh_gate(self.session)
        self.save_session()
        self.refresh_from_session()

    @on(Input.Changed, ".gate-fields Input")
    def _fields_changed(self) -> None:
        self._show_command()

    @on(Button.Pressed, "#gate-open")
    def _open(self) -> None:
        open_gate(self.session, self.journal)
        self._save()

    @on(Button.Pressed, "#backup-taken")
    def _taken(self) -> None:
        target, label = self._target(), self._label()
        argv = plan_backup(self.session, target, label)

        def done(confirmed: bool | None) -> None:
            if confirmed:
                confirm_backup_taken(self.session, self.journal, target, label)
                self._demo_backup(target, label)
                self._save()

        self.app.push_screen(
            ConfirmModal(
                "Did the backup finish without errors?",
                command_text(argv),
                "Yes, it finished without errors",
            ),
            done,
        )

    def _demo_backup(self, target: BackupTarget, label: str) -> None:
        """Demo only: nothing ran on a real production server, so put the backup the script
        would have rsynced onto the demo backup server."""
        cluster = getattr(self.app, "demo_cluster", None)
        if self.workspace.demo is None or cluster is None:
            return
        from tasks.demo.cluster import BACKUP_REMOTE_DIR, build_backup_tree

        if target.remote_dir.rstrip("/") == BACKUP_REMOTE_DIR:
            build_backup_tree(cluster.files.backup_fs, label)
            self.notify("Demo: the backup server now holds this backup.", title="Demo")

    @on(Button.Pressed, "#backup-verify")
    def _verify(self) -> None:
        target, label = self._target(), self._label()
        plan_backup(self.session, target, label)
        self.query_one("#verify-result", Static).update(Text("Connecting to the backup server…"))
        self._run_verification(target, label)

    @work(group="verify", exclusive=True)
    async def _run_verification(self, target: BackupTarget, label: str) -> None:
        from tasks.servers.environments import ssh_options
        from tasks.servers.runner import ssh_runner
        from tasks.servers.ssh import FailureKind, SshFailure

        since = BackupRecord.of(self.session).gate_opened_at
        options = ssh_options(self.workspace)
        out = self.query_one("#verify-result", Static)
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
        from screens.health import TrustHostKey
        from tasks.servers.inventory import Node, Role
        from tasks.servers.ssh import trust_host_key

        node = Node("backup", target.ssh_host, Role.BACKUP, target.ssh_port, target.ssh_user)

        def decided(trust: bool | None) -> None:
            if not trust:
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

    @on(Button.Pressed, "#restore-done")
    def _restored(self) -> None:
        label = self._label()

        def done(confirmed: bool | None) -> None:
            if confirmed:
                confirm_restored(self.session, self.journal, label)
                self._save()

        self.app.push_screen(
            ConfirmModal(
                "Was the backup restored on QA?",
                Text(
                    f"Backup {label} restored on the QA server with emergency-restore-metadata.sh."
                ),
                "Yes, it is restored on QA",
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
        self.frame.action_navigate("deploy_production")


SCREEN = BackupProductionScreen
