"""Cluster health end to end over a real OpenSSH sshd: concurrent checks, hostile output, the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.servers.health import Health, HealthPolicy, check_cluster, iter_cluster
from tasks.servers.inventory import Node, Role, load_inventory
from tasks.servers.ssh import MAX_OUTPUT, SshOptions

pytestmark = pytest.mark.sshd

# This machine is not an OpenCRVS server: no /data, any RAM size, any load.
LENIENT = HealthPolicy(
    needed_free_bytes=1024**2,
    disk_warn_percent=99.9,
    min_memory_bytes=0,
    memory_warn_percent=99.9,
    load_warn_per_cpu=None,
    data_mount="/tmp",
)
HOSTILE = r"""#!/bin/sh
printf '[bold red]PWNED[/bold red] \033[2J\033]0;owned\007\033[31mred\033[0m \233 \r\n'
head -c 2000000 /dev/zero | tr '\0' 'X'
"""


def inventory_text(sshd_nodes, user: str, extra: str = "") -> str:
    m, w1, w2 = sshd_nodes

    def line(name, s):
        return f"{name} ansible_host={s.address} ansible_port={s.port} ansible_user={user}\n"  # noqa: E731

    return (
        "[docker-manager-first]\n"
        + line("manager1", m)
        + "\n[docker-workers]\n"
        + line("worker1", w1)
        + line("worker2", w2)
        + extra
        + "\n[all:vars]\ndata1_hostname=manager1\n"
    )


async def test_all_nodes_checked(sshd_nodes, ssh_user, ssh_options, tmp_path: Path) -> None:
    inv = tmp_path / "qa.ini"
    inv.write_text(inventory_text(sshd_nodes, ssh_user))
    nodes = load_inventory(inv).nodes()
    results = await check_cluster(nodes, ssh_options, LENIENT, deadline_s=30)
    by = {r.node.name: r for r in results}
    assert set(by) == {"manager1", "worker1", "worker2"}
    for r in results:
        assert r.failure is None, r.reason
        assert {c.key for c in r.checks if c.status is Health.PASS} >= {
            "disk",
            "memory",
            "cpus",
            "uptime",
        }
        assert r.resources.ram_total_bytes > 0 and r.resources.disk_free_bytes > 0
    assert by["worker1"].status is Health.PASS and by["worker2"].status is Health.PASS
    swarm = by["manager1"].check("swarm")  # docker is not installed here
    assert swarm.status is Health.UNKNOWN and "docker not available" in swarm.detail
    # with the real policy the missing /data is named, not a crash
    strict = await check_cluster(nodes[1:2], ssh_options, HealthPolicy(), deadline_s=30)
    assert "/data not found" in strict[0].reason


async def test_slow_node_does_not_delay_others(sshd_nodes, ssh_user, ssh_options) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.5", 0))
        silent.listen(8)
        nodes = [
            Node("silent", "127.0.0.5", Role.WORKER, silent.getsockname()[1], ssh_user),
            *(
                Node(f"n{i}", s.address, Role.WORKER, s.port, ssh_user)
                for i, s in enumerate(sshd_nodes)
            ),
        ]
        options = SshOptions(**{**ssh_options.__dict__, "connect_timeout": 20, "login_timeout": 20})
        started = time.monotonic()
        arrivals = []
        async for r in iter_cluster(nodes, options, LENIENT, deadline_s=2.0):
            arrivals.append((r.node.name, time.monotonic() - started, r))
    names = [a[0] for a in arrivals]
    assert names[-1] == "silent" and sorted(names[:-1]) == ["n0", "n1", "n2"]
    assert all(t < 1.9 for _n, t, _r in arrivals[:-1])  # in before the deadline, not after it
    silent_result = arrivals[-1][2]
    assert silent_result.status is Health.FAIL and "overall deadline" in silent_result.reason
    assert 1.9 < arrivals[-1][1] < 4


async def test_hostile_node_output(
    sshd_factory, ssh_user, ssh_options, ssh_workdir, tmp_path: Path
) -> None:
    script = ssh_workdir / "hostile.sh"
    script.write_text(HOSTILE)
    script.chmod(0o755)
    s = sshd_factory("127.0.0.7", extra=[f"ForceCommand {script}"])
    kh = tmp_path / "kh"
    kh.write_text(s.known_hosts_line() + "\n")
    options = SshOptions(**{**ssh_options.__dict__, "known_hosts": kh})
    [r] = await check_cluster(
        [Node("evil", s.address, Role.MANAGER, s.port, ssh_user)], options, LENIENT
    )
    assert r.failure is None
    # nothing could be read: unknown, which fails (no data is not healthy), not a crash
    assert all(c.status is Health.UNKNOWN for c in r.checks)
    assert r.status is Health.UNKNOWN and "reported nothing readable" in r.reason
    disk = r.check("disk")
    assert "[bold red]PWNED[/bold red]" in disk.raw
    assert not any(ch in disk.raw for ch in ("\x1b", "\x07", "\x9b", "\r"))
    assert "[output too long: cut]" in disk.raw and len(disk.raw) < MAX_OUTPUT + 1000
    stored = r.to_state()["checks"][0]["raw"]
    assert len(stored) <= 8 * 1024


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "health", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120"},
        stdin=subprocess.DEVNULL,
    )


def test_cli_json_and_exit_codes(
    sshd_nodes, ssh_user, known_hosts, ssh_client_key, tmp_path: Path
) -> None:
    inv = tmp_path / "production.ini"
    inv.write_text(inventory_text(sshd_nodes, ssh_user))
    base = [
        "--inventory",
        str(inv),
        "--known-hosts",
        str(known_hosts),
        "--identity",
        str(ssh_client_key.private),
        "--ssh-config",
        str(tmp_path / "none"),
    ]
    out = run_cli(*base, "--json")
    data = json.loads(out.stdout)
    # /data is missing on this machine: a warning, exit 1
    assert out.returncode == 1 == data["exit_code"], out.stderr
    assert [n["node"]["name"] for n in data["nodes"]] == ["manager1", "worker1", "worker2"]
    with socket.socket() as closed:
        closed.bind(("127.0.0.2", 0))
        out = run_cli(*base, "--node", f"{ssh_user}@127.0.0.2:{closed.getsockname()[1]}=worker")
    assert out.returncode == 2
    assert "Connection refused" in out.stdout and "worker2" in out.stdout
    bad = tmp_path / "bad.ini"
    bad.write_text("[docker-workers]\nworker1 ansible_host='10.0.0.1\n")
    out = run_cli("--inventory", str(bad))
    assert out.returncode == 3 and "bad.ini, line 2" in out.stderr


def test_cli_does_not_import_textual(tmp_path: Path) -> None:
    code = (
        "import sys; from tui.cli import main\n"
        "try:\n    main(['health', '--node', '127.0.0.2:1', '--json', '--connect-timeout', '1'])\n"
        "except SystemExit: pass\n"
        "print('textual' in sys.modules, 'asyncssh' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "False True"
