"""Cluster health: disk, memory and swarm state of every node, checked over SSH.

Thin: where nodes come from (``tasks.servers.environments``, ``tasks.servers.inventory``),
how they are checked (``tasks.servers.health``, ``tasks.servers.ssh``) and what is saved
(``tasks.servers.health.save_snapshot``) all live in ``tasks``. This screen picks the
environment (each offered once; in the demo, QA and production are the demo cluster's),
shows results as they arrive, opens a node's raw outputs, and asks the operator about
unknown host keys. A host whose inventory values are not usable is one red row naming
it and the line, and is never connected to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, DataTable, Input, Select, Static

from screens.base import PhaseScreen
from screens.modals.host_key import TrustHostKey
from screens.modals.node_details import NodeDetails
from screens.widgets.node_table import NodeTable
from tasks.errors import CrvsError
from tasks.servers import environments
from tasks.servers.health import (
    Health,
    HealthPolicy,
    HealthRecord,
    HealthSnapshot,
    NodeHealth,
    cluster_size_of,
    iter_cluster,
    load_snapshot,
    overall,
    save_snapshot,
)
from tasks.servers.inventory import (
    Finding,
    InventoryError,
    Node,
    NodeEntry,
    Role,
    make_typed_node,
)
from tasks.servers.ssh import SshOptions, trust_host_key
from tasks.session.state import now_iso
from tasks.text import strip_control
from tasks.upgrade.answers import INVENTORY_ENVIRONMENTS, EnvironmentId

# The environments whose servers crvs-migrate reaches (each offered once).
ENVIRONMENTS = tuple(INVENTORY_ENVIRONMENTS)
DEADLINE_S = 60.0
FINDINGS_SHOWN = 3


class HealthScreen(PhaseScreen):
    DEFAULT_CSS = """
    HealthScreen #health-body {
        height: 1fr;
    }
    HealthScreen #health-controls {
        height: auto;
    }
    HealthScreen #health-env {
        width: 24;
    }
    HealthScreen #health-refresh {
        width: 18;
    }
    HealthScreen #health-source {
        height: auto;
    }
    HealthScreen #node-table {
        height: 1fr;
        min-height: 5;
    }
    HealthScreen #health-row {
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    HealthScreen #health-summary {
        height: auto;
        padding: 0 1;
    }
    HealthScreen #health-add {
        height: auto;
        display: none;
    }
    HealthScreen #health-add.-shown {
        display: block;
    }
    HealthScreen #health-add Input {
        width: 1fr;
    }
    HealthScreen #health-add #add-port {
        width: 10;
    }
    HealthScreen #health-add #add-role {
        width: 16;
    }
    """

    VIEW_ID = "health"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recheck", "Re-check"),
        Binding("t", "trust", "Trust key"),
        Binding("a", "toggle_add", "Add node"),
        Binding("delete", "remove_node", "Remove typed node", show=False),
    ]

    def __init__(self, view_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(view_id, **kwargs)
        self._refresh_timer: Timer | None = None
        self._checking = False
        self._node_results: dict[str, NodeHealth] = {}
        self._check_nodes: list[Node] = []
        # Hosts whose values were refused: shown as red rows, never checked.
        self._refused: list[NodeHealth] = []
        self._source = ""
        # The inventory file the nodes of the last collect came from ("" if none).
        self._inventory = ""

    def compose_body(self) -> ComposeResult:
        with Vertical(id="health-body"):
            with Horizontal(id="health-controls"):
                yield Select(
                    [(e.label, e.value) for e in ENVIRONMENTS],
                    value=self._environment(),
                    allow_blank=False,
                    id="health-env",
                )
                yield Input(
                    value=str(self.record.auto_refresh_s or ""),
                    placeholder="auto-refresh s",
                    type="integer",
                    id="health-refresh",
                    tooltip="Re-check every N seconds (empty or 0: off)",
                )
                yield Button("Check now", id="health-run", variant="primary")
            yield Static(id="health-source", classes="hint")
            yield NodeTable()
            # The highlighted row whole: what a narrow table cuts off.
            yield Static(id="health-row", classes="hint")
            yield Static(id="health-summary")
            with Horizontal(id="health-add"):
                yield Input(placeholder="host", id="add-host")
                yield Input(placeholder="port", type="integer", id="add-port")
                yield Input(placeholder="user", id="add-user")
                yield Select(
                    [(r.value, r.value) for r in Role],
                    value=Role.NODE.value,
                    allow_blank=False,
                    id="add-role",
                )
                yield Button("Add node", id="add-node")

    def body_mounted(self) -> None:
        super().body_mounted()
        self._apply_refresh(self.record.auto_refresh_s)
        self._load_when_ready()
        # Arrows, Enter, r and t work at once: the table is what this view is about.
        self.query_one("#node-table").focus()

    # -- environment and nodes ------------------------------------------------------

    @property
    def record(self) -> HealthRecord:
        return HealthRecord.of(self.session)

    def _environment(self) -> str:
        """The environment last shown; else production once it has servers, else QA."""
        env = self.record.environment
        if env in {e.value for e in ENVIRONMENTS}:
            return env
        if environments.inventory_path(self.session, EnvironmentId.PRODUCTION) is not None:
            return EnvironmentId.PRODUCTION.value
        return ENVIRONMENTS[0].value

    @property
    def environment(self) -> str:
        value = self.query_one("#health-env", Select).value
        return str(value) if value is not Select.NULL else self._environment()

    def inventory_path(self, environment: str) -> Path | None:
        path = environments.inventory_path(self.session, environment)
        # A served demo reads no inventory outside its sandbox: OutsideSandbox.
        return self.workspace.check_path(path) if path is not None else None

    def ssh_options(self) -> SshOptions:
        return environments.ssh_options(self.workspace)

    def collect_nodes(
        self, environment: str
    ) -> tuple[list[Node], list[NodeEntry], str, str | None, list[Finding]]:
        """(nodes to check, refused hosts, where they came from, problem, findings).

        A bad inventory is a message, a bad host a red row: never a crash, never a
        connection to a refused value.
        """
        entries: list[NodeEntry] = []
        source: list[str] = []
        problem = None
        findings: list[Finding] = []
        self._inventory = ""
        try:
            path = self.inventory_path(environment)
        except CrvsError as exc:
            path, problem = None, exc.message
        if path is not None:
            try:
                inventory = environments.load_environment_inventory(self.session, environment)
            except InventoryError as exc:
                problem = exc.message
            else:
                if inventory is not None:
                    entries = inventory.entries()
                    findings = inventory.findings
                    source.append(str(path))
                    self._inventory = str(path)
        typed = self.record.typed_node_entries(environment)
        names = {e.name for e in entries}
        entries += [e for e in typed if e.name not in names]
        if typed:
            source.append(f"{len(typed)} typed node(s)")
        nodes = [e.node for e in entries if e.node is not None]
        refused = [e for e in entries if e.node is None]
        return nodes, refused, " + ".join(source), problem, findings

    @work(group="health-load", exclusive=True)
    async def _load_when_ready(self) -> None:
        """First load once the servers can answer (at once for real ones; the demo's
        inventories exist once its cluster listens)."""
        await self.frame.servers_ready()
        self.load_environment()

    def load_environment(self) -> None:
        env = self.environment
        self._check_nodes, refused, self._source, problem, findings = self.collect_nodes(env)
        self._refused = [_refused_row(e) for e in refused]
        snapshot = load_snapshot(self.session, env)
        if snapshot is None and env == "production" and self.workspace.demo is not None:
            snapshot = load_snapshot(self.session, "demo")  # saved before, under "demo"
        previous = snapshot.results if snapshot else []
        self._node_results = {r.node.name: r for r in previous}
        self._node_results.update({r.node.name: r for r in self._refused})
        table = self.query_one(NodeTable)
        table.show_pending(self._check_nodes, previous)
        for row in self._refused:
            table.show_result(row)
        self._show_row()
        source = self.query_one("#health-source", Static)
        text = Text()
        if problem:
            text.append("✗ ", style="bold red")
            text.append(strip_control(problem))
        elif not self._check_nodes and not self._refused:
            text.append(
                "No nodes yet: give the inventory path in Prepare, or press a to add "
                "nodes (host, port, user, role)."
            )
        else:
            text.append(f"Nodes from {strip_control(self._source)}. ")
            text.append("Enter: a node's details", style="dim")
        if self._refused:
            text.append(
                f"\n✗ {len(self._refused)} host(s) refused for their values, never connected "
                "to (Enter: why)",
                style="bold red",
            )
        for f in findings[:FINDINGS_SHOWN]:
            text.append("\n▲ ", style="bold yellow")
            text.append(strip_control(str(f)))
        if len(findings) > FINDINGS_SHOWN:
            text.append(
                f"\n▲ {len(findings) - FINDINGS_SHOWN} more note(s): "
                "crvs-migrate health --list -i <inventory> prints them all",
                style="dim",
            )
        source.update(text)
        self._update_summary(snapshot.checked_at if snapshot else None)
        if self._check_nodes and snapshot is None:
            self.run_checks()

    @on(Select.Changed, "#health-env")
    def _env_changed(self, event: Select.Changed) -> None:
        if self.record.environment != event.value:
            self.record.environment = str(event.value)
            self.save_session()
        self.load_environment()

    # -- running ---------------------------------------------------------------------

    def action_recheck(self) -> None:
        self.run_checks()

    @on(Button.Pressed, "#health-run")
    def _run_pressed(self) -> None:
        self.run_checks()

    def run_checks(self, only: list[str] | None = None) -> None:
        if not self._check_nodes:
            self.notify("No nodes to check.", severity="warning")
            return
        nodes = [n for n in self._check_nodes if only is None or n.name in only]
        self.query_one(NodeTable).show_checking([n.name for n in nodes])
        self.query_one("#health-summary", Static).update(Text(f"◐ Checking {len(nodes)} node(s)…"))
        self._check(nodes, self.environment)

    @work(exclusive=True, group="health-check")
    async def _check(self, nodes: list[Node], environment: str) -> None:
        await self.frame.servers_ready()
        table = self.query_one(NodeTable)
        options = self.ssh_options()
        size = cluster_size_of(self._check_nodes)
        self._checking = True
        try:
            async for result in iter_cluster(nodes, options, HealthPolicy(), DEADLINE_S, size):
                self._node_results[result.node.name] = result
                table.show_result(result)
                if result.node.name == table.selected_name:
                    self._show_row()
        finally:
            self._checking = False
        if environment != self.environment:
            return
        snapshot = HealthSnapshot(
            environment,
            now_iso(),
            [self._node_results[n.name] for n in self._check_nodes if n.name in self._node_results]
            + self._refused,
            self._source,
            inventory=self._inventory,
        )
        save_snapshot(self.session, snapshot)
        self.save_session()
        self._update_summary(snapshot.checked_at)

    def _update_summary(self, checked_at: str | None) -> None:
        results = [
            self._node_results[n.name] for n in self._check_nodes if n.name in self._node_results
        ] + self._refused
        summary = self.query_one("#health-summary", Static)
        if not results:
            summary.update(Text("Not checked yet.", style="dim"))
            return
        status = overall(results)
        counts: dict[Health, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        text = Text()
        text.append(f"{status.glyph} Overall: {status.label}", style="bold")
        text.append("  " + ", ".join(f"{n} {s.label}" for s, n in counts.items()))
        if checked_at:
            text.append(f"  · checked {checked_at}", style="dim")
        if any(r.status is Health.UNTRUSTED for r in results):
            text.append(
                "\n⚿ A host key is not trusted yet: select the node and press t.", style="bold"
            )
        summary.update(text)

    # -- auto-refresh -------------------------------------------------------------------

    @on(Input.Submitted, "#health-refresh")
    @on(Input.Changed, "#health-refresh")
    def _refresh_changed(self, event: Input.Changed | Input.Submitted) -> None:
        try:
            seconds = int(event.value) if event.value.strip() else 0
        except ValueError:
            return
        seconds = max(0, seconds)
        if seconds and seconds < 5:
            return  # still typing, or too eager for real servers
        if self.record.auto_refresh_s != seconds:
            self.record.auto_refresh_s = seconds
            self.save_session()
        self._apply_refresh(seconds)

    def _apply_refresh(self, seconds: Any) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        try:
            seconds = int(seconds or 0)
        except (TypeError, ValueError):
            seconds = 0
        if seconds >= 5:
            self._refresh_timer = self.set_interval(seconds, self._auto_recheck)

    def _auto_recheck(self) -> None:
        # A slow run is left to finish: restarting it would never let results land.
        if not self._checking:
            self.run_checks()

    # -- details, trust, typed nodes ----------------------------------------------------

    @on(DataTable.RowHighlighted, "#node-table")
    def _row_highlighted(self) -> None:
        self._show_row()

    def _show_row(self) -> None:
        summary = self.query_one(NodeTable).selected_summary()
        self.query_one("#health-row", Static).update(summary or Text(""))

    @on(DataTable.RowSelected, "#node-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        name = str(event.row_key.value)
        result = self._node_results.get(name)
        if result is None:
            self.notify(f"{name} has not been checked yet.")
            return
        if result.status is Health.UNTRUSTED and result.host_key is not None:
            self.action_trust()
            return
        self.app.push_screen(NodeDetails(result))

    def action_trust(self) -> None:
        name = self.query_one(NodeTable).selected_name
        result = self._node_results.get(name or "")
        if result is None or result.host_key is None or result.status is not Health.UNTRUSTED:
            self.notify("Select a node whose host key is unknown (⚿) to trust it.")
            return
        key = result.host_key

        def decided(trust: bool | None) -> None:
            if not trust:
                self.notify("Host key not trusted: the node stays unchecked.")
                return
            options = self.ssh_options()
            try:
                trust_host_key(options.known_hosts, key)
            except CrvsError as exc:  # revoked meanwhile: refused, whoever asks
                self.notify(exc.message, title=exc.title, severity="error")
                return
            whose = (
                f"jump host on the way to {result.node.name}"
                if key.jump_for
                else f"node {result.node.name}"
            )
            self.journal.confirmation(
                f"trusted the {key.algorithm} host key {key.fingerprint} of "
                f"{key.known_hosts_name} ({whose}) into {options.known_hosts}",
                phase="health",
            )
            self.notify(f"Added {key.known_hosts_name} to {options.known_hosts}.")
            self.run_checks()

        self.app.push_screen(TrustHostKey(result.node, key), decided)

    @on(Button.Pressed, "#add-node")
    def _add_node(self) -> None:
        try:
            port = self.query_one("#add-port", Input).value
            node = make_typed_node(
                self.query_one("#add-host", Input).value,
                port,
                self.query_one("#add-user", Input).value,
                str(self.query_one("#add-role", Select).value),
            )
        except CrvsError as exc:
            self.notify(exc.message, title=exc.title, severity="error")
            return
        env = self.environment
        nodes = [n for n in self.record.typed_nodes(env) if n.name != node.name]
        self.record.set_typed_nodes(env, [*nodes, node])
        self.save_session()
        for widget_id in ("#add-host", "#add-port", "#add-user"):
            self.query_one(widget_id, Input).value = ""
        self.load_environment()

    def action_toggle_add(self) -> None:
        form = self.query_one("#health-add")
        form.toggle_class("-shown")
        if form.has_class("-shown"):
            self.query_one("#add-host", Input).focus()

    def action_remove_node(self) -> None:
        name = self.query_one(NodeTable).selected_name
        env = self.environment
        entries = self.record.typed_node_entries(env)
        if not any(e.name == name for e in entries):
            self.notify("Only nodes typed here can be removed; edit the inventory for the others.")
            return
        # A refused (hand-edited) typed row goes too: removing it is how it is fixed.
        self.record.set_typed_nodes(env, [e.node for e in entries if e.node and e.name != name])
        self.save_session()
        self.load_environment()


def _refused_row(entry: NodeEntry) -> NodeHealth:
    """One red row for a host whose values were refused (never connected to)."""
    reason = entry.error.message if entry.error is not None else "not usable"
    return NodeHealth(
        entry.display_node,
        Health.FAIL,
        reason=f"Invalid node: {reason} Not connected.",
        checked_at=now_iso(),
        failure="invalid",
    )


SCREEN = HealthScreen
