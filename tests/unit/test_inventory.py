from pathlib import Path

import pytest

from tasks.errors import CrvsError
from tasks.servers.inventory import (
    InventoryError,
    Role,
    load_inventory,
    make_typed_node,
    parse_inventory,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "inventory"


@pytest.mark.parametrize(
    ("name", "size"), [("example-1.ini", 1), ("example-3.ini", 3), ("example-5.ini", 5)]
)
def test_example_layouts(name: str, size: int) -> None:
    inv = load_inventory(DATA / name)
    nodes = inv.nodes()
    cluster = [n for n in nodes if n.role is not Role.BACKUP]
    assert len(cluster) == size == inv.cluster_size
    assert cluster[0].name == "manager1" and cluster[0].role is Role.MANAGER
    assert cluster[0].host == "203.0.113.10"  # quotes removed by the tokenizer
    assert all(n.role is Role.WORKER for n in cluster[1:])
    assert all(n.user == "root" for n in cluster)  # group_vars/all.yml default
    assert all(n.port is None for n in cluster)
    assert inv.all_vars["data1_hostname"] == "manager1"
    assert inv.all_vars.get(f"data{size}_hostname") == cluster[-1].name


def test_backup_server_from_vars() -> None:
    nodes = load_inventory(DATA / "example-5.ini").nodes()
    backup = nodes[-1]
    assert backup.role is Role.BACKUP
    assert (backup.host, backup.user, backup.port) == ("198.51.100.7", "backup", 2222)


def test_host_vars_children_and_precedence() -> None:
    inv = parse_inventory(
        """
# comment
standalone ansible_host=10.0.0.9

[docker-manager-first]
manager1 ansible_host='10.0.0.1' ansible_user=ubuntu ansible_port=2201 ansible_ssh_private_key_file="~/.ssh/my key"

[docker-workers]
worker[01:03] ansible_host=10.0.0.5  # trailing comment

[swarm:children]
docker-manager-first
docker-workers

[swarm:vars]
ansible_user = deploy
ansible_port=22

[docker-workers:vars]
ansible_port=2222

[all:vars]
ansible_user=admin
""",
        "t.ini",
    )
    assert inv.hosts == ["standalone", "manager1", "worker01", "worker02", "worker03"]
    m = next(n for n in inv.nodes() if n.name == "manager1")
    # host vars beat group vars
    assert (m.host, m.user, m.port, m.key_file) == ("10.0.0.1", "ubuntu", 2201, "~/.ssh/my key")
    w = next(n for n in inv.nodes() if n.name == "worker02")
    # child group (docker-workers) beats parent (swarm), which beats all
    assert (w.user, w.port, w.role) == ("deploy", 2222, Role.WORKER)
    s = next(n for n in inv.nodes() if n.name == "standalone")
    assert (s.user, s.role) == ("admin", Role.NODE)
    assert inv.group_hosts("swarm") == ["manager1", "worker01", "worker02", "worker03"]
    assert inv.groups["ungrouped"].hosts == ["standalone"]


def test_host_with_port_suffix() -> None:
    inv = parse_inventory("[docker-workers]\nworker1:2200\n")
    assert inv.nodes()[0].port == 2200


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[docker-workers]\nworker1 ansible_host="10.0.0.1\n', 2, "No closing quotation"),
        ("[docker-workers\nworker1\n", 1, "malformed section header"),
        ("[all:vars]\nnot an assignment\n", 2, "expected key=value"),
        ("[web]\nhost1 ansible_host\n", 2, "expected key=value host variable"),
        ("[web:weird]\nhost1\n", 1, "unknown type"),
        ("\n\n[web]\nhost1 ansible_port=twenty\n", 4, "not a number"),
        ("[web]\nhost1:99999\n", 2, "out of range"),
        ("[web]\nhost[5:1]\n", 2, "empty"),
        ("[a:children]\nb c\n", 2, "one group name"),
    ],
)
def test_malformed_reported_with_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(InventoryError) as info:
        parse_inventory(text, "bad.ini")
    assert info.value.line == line
    assert fragment in info.value.message
    assert f"bad.ini, line {line}" in info.value.message


def test_cycle_and_empty_and_missing(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="include each other"):
        parse_inventory("[a:children]\nb\n[b:children]\na\n")
    empty = tmp_path / "empty.ini"
    empty.write_text("[docker-workers]\n")
    with pytest.raises(InventoryError, match="defines no hosts"):
        load_inventory(empty)
    with pytest.raises(InventoryError, match="does not exist"):
        load_inventory(tmp_path / "nope.ini")
    binary = tmp_path / "bin.ini"
    binary.write_bytes(b"[web]\nhost1\n\xff\xfe\n")
    with pytest.raises(InventoryError) as info:
        load_inventory(binary)
    assert info.value.line == 3


def test_typed_nodes_round_trip() -> None:
    from tasks.servers.health import HealthRecord

    record = HealthRecord()
    node = make_typed_node("10.1.2.3", "2022", "ops", "manager")
    record.set_typed_nodes("qa", [node])
    again = HealthRecord.from_state(record.to_state())
    assert again.typed_nodes("qa") == [node]
    assert again.typed_nodes("production") == []
    with pytest.raises(CrvsError):
        make_typed_node("bad host;rm", "", "", "node")
    with pytest.raises(CrvsError):
        make_typed_node("10.1.2.3", "70000", "", "node")
    with pytest.raises(CrvsError):
        make_typed_node("10.1.2.3", "", "", "king")
