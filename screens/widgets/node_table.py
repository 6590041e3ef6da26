"""The node table: one row per server with its health, shared by every screen that
shows nodes (Cluster health; the deploy phases' post-deploy checks).

Reached from screens through ``self.app.kit.node_table()``. Rows are keyed by node
name; ``show_pending`` lists nodes before a run, ``show_checking`` marks them as being
checked, ``show_result`` fills a row as its result arrives. Status reads without colour
(glyph + word); remote text is shown as ``Text`` after ``strip_control``, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable

from tasks.servers.health import Health, NodeHealth
from tasks.servers.inventory import Node
from tasks.text import strip_control

STATUS_STYLE = {
    Health.PASS: "green",
    Health.WARN: "yellow",
    Health.FAIL: "bold red",
    Health.UNTRUSTED: "bold red",
    Health.UNKNOWN: "yellow",
    Health.CHECKING: "cyan",
    Health.PENDING: "dim",
    Health.SKIPPED: "dim",
}

COLUMNS = (
    ("node", "node", 12),
    ("status", "status", 15),
    ("disk", "disk", 17),
    ("memory", "memory", 16),
    ("cpus", "CPUs", 12),
    ("swarm", "swarm", 20),
    ("role", "role", 8),
    ("address", "address", 24),
    ("checked", "last checked", 12),
    ("reason", "reason", 60),
)


def status_text(status: Health) -> Text:
    return Text(f"{status.glyph} {status.label}", style=STATUS_STYLE.get(status, ""))


def cell(value: str, width: int | None = None) -> Text:
    text = Text(strip_control(value), no_wrap=True, overflow="ellipsis")
    if width is not None:
        text.truncate(width, overflow="ellipsis")
    return text


def check_text(result: NodeHealth, key: str) -> Text:
    check = result.check(key)
    if check is None:
        return Text("")
    style = STATUS_STYLE.get(check.status, "") if check.status is not Health.PASS else ""
    mark = "" if check.status is Health.PASS else f"{check.status.glyph} "
    return Text(mark + strip_control(check.summary), style=style, no_wrap=True)


def short_time(iso: str) -> str:
    # 2026-11-25T00:10:05+00:00 -> 00:10:05 (the date is in the details)
    return iso[11:19] if len(iso) >= 19 else iso


class NodeTable(DataTable):
    """DataTable of nodes; Enter posts ``DataTable.RowSelected`` with the node name as row key."""

    def __init__(self, *, id: str | None = "node-table", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.results: dict[str, NodeHealth] = {}
        self.node_by_name: dict[str, Node] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    # -- filling rows ---------------------------------------------------------------

    def show_pending(self, nodes: Iterable[Node], results: Iterable[NodeHealth] = ()) -> None:
        """Replace the rows with ``nodes``, showing any earlier result for them."""
        self.clear()
        self.results = {}
        self.node_by_name = {}
        previous = {r.node.name: r for r in results}
        for node in nodes:
            self.node_by_name[node.name] = node
            self.add_row(*self._cells(node, previous.get(node.name)), key=node.name)
            if node.name in previous:
                self.results[node.name] = previous[node.name]

    def show_checking(self, names: Iterable[str] | None = None) -> None:
        for name in list(names if names is not None else self.node_by_name):
            if name in self.node_by_name:
                self.update_cell(name, "status", status_text(Health.CHECKING))

    def show_result(self, result: NodeHealth) -> None:
        name = result.node.name
        self.results[name] = result
        if name not in self.node_by_name:
            self.node_by_name[name] = result.node
            self.add_row(*self._cells(result.node, result), key=name)
            return
        for (key, _label, _w), value in zip(COLUMNS, self._cells(result.node, result), strict=True):
            self.update_cell(name, key, value)

    def _cells(self, node: Node, result: NodeHealth | None) -> list[Text]:
        if result is None:
            return [
                cell(node.name),
                status_text(Health.PENDING),
                *(Text("") for _ in range(4)),
                cell(node.role.value),
                cell(node.address),
                Text(""),
                Text(""),
            ]
        return [
            cell(node.name),
            status_text(result.status),
            check_text(result, "disk"),
            check_text(result, "memory"),
            check_text(result, "cpus"),
            check_text(result, "swarm"),
            cell(node.role.value),
            cell(node.address),
            cell(short_time(result.checked_at)),
            cell(result.reason, 400),
        ]

    # -- reading ----------------------------------------------------------------------

    @property
    def selected_name(self) -> str | None:
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # noqa: BLE001 - no rows
            return None
        return str(row_key.value) if row_key.value is not None else None

    @property
    def selected_result(self) -> NodeHealth | None:
        name = self.selected_name
        return self.results.get(name) if name else None
