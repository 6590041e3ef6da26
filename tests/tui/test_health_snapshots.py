"""Snapshots of Cluster health at 120x40 and 80x24 (pytest-textual-snapshot; --snapshot-update).

The results are a saved snapshot (no SSH in these tests): a passing manager, a warning, an
untrusted key, an unreachable node with a long reason, and a host refused for its values,
so every column and status appears with fixed text.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tasks.servers.health import (
    HealthRecord,
    HealthSnapshot,
    evaluate_node,
    failed,
    save_snapshot,
)
from tasks.servers.inventory import make_typed_node
from tasks.servers.ssh import CommandResult, FailureKind, HostKeyInfo, SshFailure
from tasks.session.state import Session, save_session
from tests.support.app import make_app
from tests.support.pilot import started
from tui.app import CrvsMigrateApp

AT = "2026-11-25T00:10:05+00:00"
DF = (
    "Filesystem 1-blocks Used Available Capacity Mounted on\n"
    "/dev/sda1 84278861824 34234560512 50027524096 41% /\n"
    "/dev/mapper/cryptfs 429496729600 {used} {free} {pct}% /data\n"
)
MEM = "MemTotal: 16393212 kB\nMemAvailable: 9000000 kB\n"
NODES = "manager1\tReady\tActive\tLeader\nworker1\tReady\tActive\t\nworker2\tReady\tActive\t\n"
SERVICES = "opencrvs_gateway\treplicated\t3/3\nopencrvs_migration\treplicated-job\t0/1\n"


def _outputs(pct: int, manager: bool = False) -> dict[str, CommandResult]:
    total = 429496729600
    used = total * pct // 100
    out = {
        "disk": DF.format(used=used, free=total - used, pct=pct),
        "memory": MEM,
        "cpus": "8\n",
        "load": "0.52 0.40 0.31 1/200 4242\n",
        "uptime": "1234567.89 2345678.90\n",
    }
    if manager:
        out |= {"swarm_nodes": NODES, "swarm_services": SERVICES}
    return {k: CommandResult((k,), 0, v, "", 0.05) for k, v in out.items()}


def health_app(tmp_path: Path) -> CrvsMigrateApp:
    s = Session(session_id="snapshot", created_at="2026-01-01T00:00:00+00:00")
    manager = make_typed_node("10.20.0.10", "", "root", "manager")
    worker1 = make_typed_node("worker1.prod.gov.example", "2201", "opencrvs-admin", "worker")
    worker2 = make_typed_node("10.20.0.12", "", "root", "worker")
    backup = make_typed_node("backup.prod.gov.example", "2222", "backup", "backup")
    record = HealthRecord.of(s)
    record.set_typed_nodes("production", [manager, worker1, worker2, backup])
    # a hand-edited session: this host is refused, one red row, never connected to
    record.nodes["production"].append(
        {"host": "10.20.0.13 -oProxyCommand=x", "name": "worker3", "role": "worker"}
    )
    key = HostKeyInfo(
        "backup.prod.gov.example",
        2222,
        "ssh-ed25519",
        "SHA256:Q2Fy0Zb7Nb2J3x4w1nO5yZkW6mC8eVqT0b1c2d3e4f5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTheSnapshotOnly",
    )
    results = [
        evaluate_node(manager, _outputs(41, manager=True), cluster_size=3, checked_at=AT),
        evaluate_node(worker1, _outputs(73), checked_at=AT),
        failed(
            worker2,
            SshFailure(
                FailureKind.REFUSED,
                "10.20.0.12 refused the connection: nothing listens on that port (is sshd "
                "running, is the port right?)",
            ),
        ),
        failed(
            backup,
            SshFailure(
                FailureKind.UNKNOWN_HOST_KEY,
                "[backup.prod.gov.example]:2222 is not in ~/.ssh/known_hosts.",
                host_key=key,
            ),
        ),
    ]
    results = [replace(r, checked_at=AT) for r in results]
    save_snapshot(s, HealthSnapshot("production", AT, results, "4 typed node(s)"))
    record.environment = "production"
    s.current_view = "health"
    path = tmp_path / "s.toml"
    save_session(path, s)
    return make_app(path, load=True)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_cluster_health(snap_compare, tmp_path, size) -> None:
    async def settle(pilot) -> None:
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(health_app(tmp_path), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", [(200, 40), (120, 40), (80, 24)])
async def test_columns_fit_and_enter_shows_the_rest(tmp_path, size) -> None:
    from screens.modals import NodeDetails
    from screens.widgets.node_table import NodeTable

    app = health_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await started(pilot)
        table = app.screen.query_one(NodeTable)
        await pilot.pause()
        # no horizontal scrolling: every column is inside the table
        assert table.virtual_size.width <= table.size.width, (table.virtual_size, table.size)
        keys = [c.key for c in table.columns_shown]
        assert keys[:4] == ["node", "status", "disk", "memory"]
        assert ("reason" in keys) is (size[0] >= 200)
        # the highlighted row whole, below the table
        table.focus()
        table.move_cursor(row=2)
        await pilot.pause()
        row = str(app.screen.query_one("#health-row").render())
        assert row.startswith("10.20.0.12") and "refused the connection" in row
        await pilot.press("enter")
        for _ in range(100):
            if isinstance(app.screen, NodeDetails) and app.screen.query("#node-details-close"):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, NodeDetails)
        assert "is the port right?" in str(
            app.screen.query_one("#node-details-head Static").render()
        )
