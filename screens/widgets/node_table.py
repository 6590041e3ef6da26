"""The node table: one row per server with its health, shared by every screen that shows nodes.

Rows are keyed by node name; ``show_pending`` lists nodes before a run, ``show_checking``
marks them as being checked, ``show_result`` fills a row as its result arrives. Status
reads without colour (glyph + word); remote text is shown as ``Text`` after
``strip_control``, never markup.

The columns fit the width the table has: a wide set (full texts, address and reason; a
200-column terminal), a medium one (a 120-column terminal: compact texts, no address or
reason) and a narrow one (80 columns: node, status, disk, memory). Every cell is cut with
an ellipsis at its column's width, never wrapped; ``row_summary`` gives a row's whole text
(the screen shows it for the highlighted row) and Enter opens the details.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from tasks.lean import dataclass
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
SHORT_LABELS = {Health.UNTRUSTED: "untrusted", Health.WARN: "warning"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


# The widest set: the table is at least this wide (cell padding included).
WIDE = (
    Column("node", "node", 16),
    Column("status", "status", 15),
    Column("disk", "disk", 17),
    Column("memory", "memory", 16),
    Column("cpus", "CPUs", 13),
    Column("swarm", "swarm", 20),
    Column("address", "address", 22),
    Column("reason", "reason", 24),
)
# An 120-column terminal: compact texts (41% 73%, 45% 15.6G, 8 · 0.52, 3/3 · 2/2).
MEDIUM = (
    Column("node", "node", 14),
    Column("status", "status", 11),
    Column("disk", "disk", 11),
    Column("memory", "memory", 10),
    Column("cpus", "CPUs", 9),
    Column("swarm", "swarm", 10),
)
# An 80-column terminal.
NARROW = (
    Column("node", "node", 12),
    Column("status", "status", 11),
    Column("disk", "disk", 11),
    Column("memory", "memory", 10),
)
PADDING = 2  # DataTable's cell padding, both sides
SCROLLBAR = 2


def layout_width(columns: tuple[Column, ...]) -> int:
    return sum(c.width + PADDING for c in columns) + SCROLLBAR


def columns_for(width: int) -> tuple[Column, ...]:
    """The column set that fits ``width``; the wide set's reason takes what is left."""
    if width >= layout_width(WIDE):
        extra = width - layout_width(WIDE)
        return (*WIDE[:-1], Column("reason", "reason", WIDE[-1].width + extra))
    chosen = MEDIUM if width >= layout_width(MEDIUM) else NARROW
    # Room to spare goes to the node name (up to 10 more characters).
    extra = max(0, min(10, width - layout_width(chosen)))
    return (Column("node", "node", chosen[0].width + extra), *chosen[1:])


def status_text(status: Health, short: bool = False) -> Text:
    label = SHORT_LABELS.get(status, status.label) if short else status.label
    return Text(f"{status.glyph} {label}", style=STATUS_STYLE.get(status, ""))


def cell(value: str, width: int | None = None) -> Text:
    text = Text(strip_control(value), no_wrap=True, overflow="ellipsis")
    if width is not None:
        text.truncate(width, overflow="ellipsis")
    return text


def compact(key: str, summary: str) -> str:
    """A check's summary in a few characters (the details have it whole)."""
    if key == "disk":  # "/ 41% /data 73%" -> "41% 73%"
        parts = [p for p in summary.split() if "%" in p or p == "?"]
        return " ".join(parts) or summary
    if key == "memory":  # "45% of 15.6 GiB" -> "45% 15.6G"
        m = re.match(r"^(\S+) of ([\d.]+) (\w)iB$", summary)
        return f"{m[1]} {m[2]}{m[3]}" if m else summary
    if key == "cpus":  # "8 · load 0.52" -> "8 · 0.52"
        return summary.replace("load ", "")
    if key == "swarm":  # "3/3 nodes · 1/1 svc" -> "3/3 · 1/1"
        return summary.replace(" nodes", "").replace(" svc", "")
    return summary


def check_text(result: NodeHealth, key: str, short: bool = False) -> Text:
    check = result.check(key)
    if check is None:
        return Text("")
    style = STATUS_STYLE.get(check.status, "") if check.status is not Health.PASS else ""
    mark = "" if check.status is Health.PASS else f"{check.status.glyph} "
    summary = strip_control(check.summary)
    return Text(mark + (compact(key, summary) if short else summary), style=style, no_wrap=True)


def short_time(iso: str) -> str:
    # 2026-11-25T00:10:05+00:00 -> 00:10:05 (the date is in the details)
    return iso[11:19] if len(iso) >= 19 else iso


def row_summary(node: Node, result: NodeHealth | None) -> Text:
    """Everything a row holds, on one line: what a narrow table cannot show."""
    text = Text()
    text.append(strip_control(node.name), style="bold")
    text.append(f" · {node.role.value}")
    if node.host:
        text.append(f" · {strip_control(node.address)}")
    if result is None:
        return text
    text.append(" · ")
    text.append_text(status_text(result.status))
    if result.reason:
        text.append(": " + strip_control(result.reason))
    else:
        for c in result.checks:
            text.append(f" · {c.key} {strip_control(c.summary)}")
    return text


class NodeTable(DataTable):
    """DataTable of nodes; Enter posts ``DataTable.RowSelected`` with the node name as row key."""

    def __init__(self, *, id: str | None = "node-table", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.results: dict[str, NodeHealth] = {}
        self.node_by_name: dict[str, Node] = {}
        self.columns_shown: tuple[Column, ...] = ()

    def on_mount(self) -> None:
        self._set_columns(columns_for(self.size.width or self.app.size.width))

    def on_resize(self, event: events.Resize) -> None:
        wanted = columns_for(event.size.width)
        if wanted != self.columns_shown:
            self._set_columns(wanted)

    def _set_columns(self, columns: tuple[Column, ...]) -> None:
        cursor = self.cursor_row
        self.clear(columns=True)
        self.columns_shown = columns
        for c in columns:
            self.add_column(c.label, key=c.key, width=c.width)
        for name, node in self.node_by_name.items():
            self.add_row(*self._cells(node, self.results.get(name)), key=name)
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    # -- filling rows ---------------------------------------------------------------

    def show_pending(self, nodes: Iterable[Node], results: Iterable[NodeHealth] = ()) -> None:
        """Replace the rows with ``nodes``, showing any earlier result for them."""
        self.clear()
        self.results = {}
        self.node_by_name = {}
        previous = {r.node.name: r for r in results}
        for node in nodes:
            self.node_by_name[node.name] = node
            if node.name in previous:
                self.results[node.name] = previous[node.name]
            self.add_row(*self._cells(node, previous.get(node.name)), key=node.name)

    def show_checking(self, names: Iterable[str] | None = None) -> None:
        column = self._column("status")
        for name in list(names if names is not None else self.node_by_name):
            if name in self.node_by_name and column is not None:
                self.update_cell(
                    name, "status", self._fit(status_text(Health.CHECKING, self._short), column)
                )

    def show_result(self, result: NodeHealth) -> None:
        name = result.node.name
        self.results[name] = result
        if name not in self.node_by_name:
            self.node_by_name[name] = result.node
            self.add_row(*self._cells(result.node, result), key=name)
            return
        for column, value in zip(self.columns_shown, self._cells(result.node, result), strict=True):
            self.update_cell(name, column.key, value)

    @property
    def _short(self) -> bool:
        return self._column("address") is None  # medium and narrow sets: compact texts

    def _column(self, key: str) -> Column | None:
        return next((c for c in self.columns_shown if c.key == key), None)

    @staticmethod
    def _fit(text: Text, column: Column) -> Text:
        text.no_wrap = True
        text.overflow = "ellipsis"
        text.truncate(column.width, overflow="ellipsis")
        return text

    def _cells(self, node: Node, result: NodeHealth | None) -> list[Text]:
        short = self._short
        values: dict[str, Text] = {
            "node": cell(node.name),
            "role": cell(node.role.value),
            "address": cell(node.address),
        }
        if result is None:
            values["status"] = status_text(Health.PENDING, short)
        else:
            values["status"] = status_text(result.status, short)
            for key in ("disk", "memory", "cpus", "swarm"):
                values[key] = check_text(result, key, short)
            values["checked"] = cell(short_time(result.checked_at))
            values["reason"] = cell(result.reason)
        return [self._fit(values.get(c.key, Text("")), c) for c in self.columns_shown]

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

    def selected_summary(self) -> Text | None:
        name = self.selected_name
        if name is None or name not in self.node_by_name:
            return None
        return row_summary(self.node_by_name[name], self.results.get(name))
