"""``crvs-migrate health`` as cron and CI run it: --list, hostile values, pipes (the real CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.inventories import example_ini, write_server_setup

pytestmark = pytest.mark.sshd


def run_cli(*args: str, env: dict | None = None, timeout: float = 60):
    base = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [sys.executable, "-m", "tui", "health", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def cluster_inventory(tmp_path: Path, sshd_nodes, user: str) -> Path:
    m, w1, w2 = sshd_nodes
    text = (
        "[docker-manager-first]\n"
        f"manager1 ansible_host={m.address} ansible_port={m.port}\n"
        "[docker-workers]\n"
        f"worker[1:2].node ansible_host=127.0.0.3\n"
        f"worker1.node ansible_port={w1.port}\n"
        f"worker2.node ansible_host={w2.address} ansible_port={w2.port}\n"
    )
    return write_server_setup(tmp_path, text, group_vars=f"ansible_user: {user}\n")


def ssh_args(known_hosts: Path, key, config: Path) -> list[str]:
    return [
        "--known-hosts",
        str(known_hosts),
        "--identity",
        str(key.private),
        "--ssh-config",
        str(config),
    ]


def test_list_prints_the_nodes_health_json_checks(
    sshd_nodes, ssh_user, known_hosts, ssh_client_key, tmp_path: Path
) -> None:
    inv = cluster_inventory(tmp_path, sshd_nodes, ssh_user)
    listed = run_cli("--inventory", str(inv), "--list", "--json")
    assert listed.returncode == 0, listed.stderr
    nodes = json.loads(listed.stdout)["nodes"]
    assert [n["name"] for n in nodes] == ["manager1", "worker1.node", "worker2.node"]
    assert nodes[1] == {
        "name": "worker1.node",
        "host": "127.0.0.3",
        "role": "worker",
        "port": sshd_nodes[1].port,
        "user": ssh_user,  # from group_vars/all.yml beside the inventory
    }
    checked = run_cli(
        "--inventory", str(inv), "--json", *ssh_args(known_hosts, ssh_client_key, tmp_path / "no")
    )
    data = json.loads(checked.stdout)
    assert [r["node"] for r in data["nodes"]] == nodes  # one serialiser
    text = run_cli("--inventory", str(inv), "--list")
    assert text.returncode == 0
    assert "worker2.node" in text.stdout and f"{sshd_nodes[2].port}" in text.stdout


def test_list_flags_placeholders_and_a_missing_manager(tmp_path: Path) -> None:
    inv = write_server_setup(
        tmp_path, example_ini(3, {"worker1": "10.0.0.2", "worker2": "10.0.0.3"})
    )
    out = run_cli("--inventory", str(inv), "--list", "--json")
    assert out.returncode == 0
    assert "line 9: [docker-manager-first] lists no host" in out.stderr
    assert any(f["line"] == 9 for f in json.loads(out.stdout)["findings"])
    inv.write_text(example_ini(3, {"manager1": "as-is", "worker1": "10.0.0.2", "worker2": "x"}))
    out = run_cli("--inventory", str(inv), "--list")
    assert out.returncode == 3 and "line 11" in out.stderr and "placeholder" in out.stderr


MARKER_CONFIG = "Host *\n  ProxyCommand ssh -F /dev/null -W %h:%p 127.0.0.1\n"


@pytest.mark.parametrize(
    "how",
    [
        "inventory_ansible_host",
        "inventory_ansible_user",
        "group_vars_ansible_ssh_host",
        "backup_server_ip",
        "node_host",
        "node_user",
    ],
)
def test_hostile_values_exit_3_and_run_nothing(
    how: str, known_hosts, ssh_client_key, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    payload = f"127.0.0.1:22 '-oProxyCommand=touch {marker}' -oUser=x"
    config = tmp_path / "ssh_config"
    config.write_text(MARKER_CONFIG)
    inv_text = "[docker-manager-first]\nmanager1 ansible_host=127.0.0.1\n"
    group_vars = "ansible_user: root\n"
    args: list[str] = []
    if how == "inventory_ansible_host":
        inv_text = f'[docker-manager-first]\nmanager1 ansible_host="{payload}"\n'
    elif how == "inventory_ansible_user":
        inv_text += "[all:vars]\nansible_ssh_user=-oProxyCommand=touch\\ x\n"
    elif how == "group_vars_ansible_ssh_host":
        group_vars += f"ansible_ssh_host: {json.dumps(payload)}\n"
    elif how == "backup_server_ip":
        inv_text += f"[all:vars]\nexternal_backup_server_ip='{payload}'\n"
    inv = write_server_setup(tmp_path, inv_text, group_vars=group_vars)
    if how.startswith("node_"):
        spec = f"{payload}=worker" if how == "node_host" else "-oProxyCommand=x@127.0.0.1"
        args = [f"--node={spec}"]
    else:
        args = ["--inventory", str(inv)]
    out = run_cli(*args, *ssh_args(known_hosts, ssh_client_key, config), "--connect-timeout", "3")
    assert out.returncode == 3, (out.stdout, out.stderr)
    assert "Invalid" in out.stderr or "cannot be read" in out.stderr
    assert not marker.exists()
    assert out.stdout == ""  # no table: nothing was checked


def test_output_into_a_pipe_is_not_wrapped(sshd_nodes, ssh_user, tmp_path: Path) -> None:
    long_name = "worker-with-a-rather-long-inventory-name-01.production.gov.example"
    inv = tmp_path / "wide.ini"
    inv.write_text(
        "[docker-manager-first]\n"
        f"manager1 ansible_host=127.0.0.2 ansible_port=1 ansible_user={ssh_user}\n"
        f"[docker-workers]\n{long_name} ansible_host=127.0.0.2 ansible_port=1\n"
    )
    for env in ({}, {"COLUMNS": "80"}):
        out = run_cli("--inventory", str(inv), "--connect-timeout", "2", env=env)
        assert out.returncode == 2
        lines = out.stdout.splitlines()
        # one line per row (nothing folded), and the reasons whole on their lines
        assert sum(1 for ln in lines if long_name in ln) == 2, out.stdout
        row = next(ln for ln in lines if ln.startswith("│ " + long_name))
        assert row.endswith("│") and len(row) > 80
        reason = next(ln for ln in lines if ln.startswith(f"✗ {long_name}: "))
        assert reason.endswith("is the port right?)")
        assert "\x1b[" not in out.stdout  # and no colour codes into a file
