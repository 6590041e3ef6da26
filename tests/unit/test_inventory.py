"""tasks.servers.inventory: Ansible INI inventories read as Ansible reads them, values as data.

Inventories are written by the tests in the shapes of opencrvs-countryconfig's
infrastructure/server-setup (tests/support/inventories.py). The same features are
compared with the real ansible-inventory in tests/integration/test_inventory_ansible.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import CrvsError
from tasks.servers.inventory import (
    MAX_HOSTS,
    InventoryError,
    Role,
    load_inventory,
    make_typed_node,
    parse_inventory,
)
from tests.support.inventories import GROUP_VARS_USER_LINE, example_ini, write_server_setup

FILLED_3 = {
    "manager1": "10.20.0.10",
    "worker1": "10.20.0.11",
    "worker2": "10.20.0.12",
    "data1_hostname": "prod-manager",
    "data2_hostname": "prod-worker1",
    "data3_hostname": "prod-worker2",
}


def by_name(inv) -> dict:
    return {e.name: e for e in inv.entries()}


# -- the real layouts ------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 5])
def test_filled_examples_with_group_vars(tmp_path: Path, size: int) -> None:
    filled = {"manager1": "10.20.0.10"} | {
        f"worker{i}": f"10.20.0.{10 + i}" for i in range(1, size)
    }
    path = write_server_setup(tmp_path, example_ini(size, filled))
    inv = load_inventory(path)
    nodes = inv.nodes()
    assert [n.name for n in nodes] == ["manager1"] + [f"worker{i}" for i in range(1, size)]
    assert nodes[0].role is Role.MANAGER and all(n.role is Role.WORKER for n in nodes[1:])
    assert nodes[0].host == "10.20.0.10"  # the quotes are the tokenizer's
    # the user comes from group_vars/all.yml, the port from nobody (ssh config decides)
    assert all(n.user == "root" and n.port is None for n in nodes)
    assert inv.cluster_size == size
    # data<N>_hostname left commented out: nothing to flag, nothing set
    assert "data1_hostname" not in inv.all_vars


def test_without_group_vars_a_host_has_no_user(tmp_path: Path) -> None:
    path = tmp_path / "qa.ini"
    path.write_text("[docker-manager-first]\nqa1 ansible_host=10.1.0.5\n")
    [node] = load_inventory(path).nodes()
    assert node.user is None and node.port is None and node.address == "10.1.0.5"


def test_the_untouched_example_says_which_lines_to_uncomment(tmp_path: Path) -> None:
    path = write_server_setup(tmp_path, example_ini(3))
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    assert info.value.line == 11
    assert "line 11, 16, 17 are host lines left commented out" in info.value.message


def test_placeholders_uncommented_as_is_are_flagged_with_lines(tmp_path: Path) -> None:
    filled = dict(FILLED_3, manager1="as-is", data2_hostname="as-is")
    inv = load_inventory(write_server_setup(tmp_path, example_ini(3, filled)))
    manager = by_name(inv)["manager1"]
    assert manager.node is None and manager.error is not None
    assert manager.error.line == 11
    assert "placeholder 'ENTER YOUR MANAGER HOST IP'" in manager.error.message
    with pytest.raises(InventoryError, match="line 11"):
        inv.nodes()
    assert by_name(inv)["worker1"].node.host == "10.20.0.11"  # the others are fine
    flagged = {(f.line, f.message.split(" ")[0]) for f in inv.findings}
    assert (25, "data2_hostname") in flagged
    assert any("ENTER_HOSTNAME_2" in f.message for f in inv.findings)


def test_documentation_addresses_are_flagged(tmp_path: Path) -> None:
    text = example_ini(1, {"manager1": "159.223.11.243"})
    inv = load_inventory(write_server_setup(tmp_path, text))
    assert any(f.line == 11 and "documentation" in f.message for f in inv.findings)
    inv = parse_inventory("[docker-manager-first]\nmanager1 ansible_host=203.0.113.10\n")
    assert any("documentation" in f.message for f in inv.findings)


def test_missing_manager_flagged_with_lines(tmp_path: Path) -> None:
    # the operator filled the workers and forgot to uncomment the manager
    text = example_ini(3, {"worker1": "10.0.0.2", "worker2": "10.0.0.3"})
    inv = load_inventory(write_server_setup(tmp_path, text))
    [finding] = [f for f in inv.findings if "manager is missing" in f.message]
    assert finding.line == 9  # the [docker-manager-first] header
    assert "line 11 is a commented-out host line" in finding.message
    inv = parse_inventory("[docker-workers]\nw1 ansible_host=10.0.0.2\n")
    assert any(
        "no [docker-manager-first] group" in f.message and f.line is None for f in inv.findings
    )
    inv = parse_inventory(
        "[docker-manager-first]\nm1 ansible_host=10.0.0.1\nm2 ansible_host=10.0.0.9\n"
        "[docker-workers]\nw1 ansible_host=10.0.0.2\n"
    )
    messages = [(f.line, f.message) for f in inv.findings]
    assert any(line == 3 and "lists 2 hosts (lines 2, 3)" in m for line, m in messages)
    assert any(line == 2 and "hostvars['manager1']" in m for line, m in messages)


def test_backup_server_variables(tmp_path: Path) -> None:
    text = example_ini(3, FILLED_3) + (
        "external_backup_server_ip=10.30.0.7\nexternal_backup_server_user=backup\n"
        "external_backup_server_ssh_port=2222\n"
        "external_backup_server_remote_directory=/home/backup/opencrvs\n"
        "manager_production_server_ip=10.20.0.10\n"
    )
    inv = load_inventory(write_server_setup(tmp_path, text))
    backup = inv.nodes()[-1]
    assert (backup.role, backup.host, backup.user, backup.port) == (
        Role.BACKUP,
        "10.30.0.7",
        "backup",
        2222,
    )
    assert inv.backup_settings()["external_backup_server_remote_directory"] == (
        "/home/backup/opencrvs"
    )
    assert inv.cluster_size == 3
    inv = parse_inventory(
        "[docker-manager-first]\nm ansible_host=10.0.0.1\n[all:vars]\n"
        "external_backup_server_ip=10.0.0.7\n"
    )
    assert any("external_backup_server_user" in f.message and f.line == 4 for f in inv.findings)


# -- Ansible's reading rules -------------------------------------------------------------


def test_ssh_aliases_and_which_one_wins() -> None:
    inv = parse_inventory(
        "[docker-manager-first]\n"
        "m ansible_ssh_host=10.0.0.1 ansible_ssh_port=2201 ansible_ssh_user=deploy\n"
        "[docker-workers]\n"
        "w ansible_host=10.0.0.2 ansible_ssh_host=10.0.0.3 ansible_user=a ansible_ssh_user=b\n"
        "v ansible_user=carol\n"
        "[docker-workers:vars]\n"
        "ansible_ssh_user=dave\n"
    )
    n = by_name(inv)
    assert (n["m"].node.host, n["m"].node.port, n["m"].node.user) == ("10.0.0.1", 2201, "deploy")
    # the ssh plugin takes ansible_ssh_* over ansible_* whenever both are defined ...
    assert (n["w"].node.host, n["w"].node.user) == ("10.0.0.3", "b")
    # ... even from a group when the plain one is on the host line (and says so)
    assert n["v"].node.user == "dave"
    assert any(
        f.line == 5 and "takes ansible_ssh_user over ansible_user" in f.message
        for f in inv.findings
    )


def test_precedence_host_child_parent_all_and_files(tmp_path: Path) -> None:
    setup = tmp_path / "server-setup"
    (setup / "group_vars" / "docker-workers").mkdir(parents=True)
    (setup / "host_vars").mkdir()
    (setup / "group_vars" / "all.yml").write_text("ansible_user: root\nansible_port: 22\n")
    (setup / "group_vars" / "swarm.yaml").write_text("ansible_port: 2100\n")
    (setup / "group_vars" / "docker-workers" / "10-port.yml").write_text("ansible_port: 2200\n")
    (setup / "group_vars" / "docker-workers" / "20-user.yml").write_text("ansible_user: ops\n")
    (setup / "host_vars" / "worker2.yml").write_text("ansible_port: 2222\n")
    inv_path = setup / "production.ini"
    inv_path.write_text(
        "standalone ansible_host=10.0.0.9\n"
        "[docker-manager-first]\n"
        "manager1 ansible_host='10.0.0.1' ansible_user=ubuntu\n"
        "[docker-workers]\n"
        "worker[1:2] ansible_host=10.0.0.5\n"
        "[swarm:children]\n"
        "docker-manager-first\n"
        "docker-workers\n"
        "[swarm:vars]\n"
        "ansible_user=deploy\n"
        "[all:vars]\n"
        "ansible_user=admin\n"
    )
    inv = load_inventory(inv_path)
    n = by_name(inv)
    # host line beats every group_vars file
    assert (n["manager1"].node.user, n["manager1"].node.port) == ("ubuntu", 2100)
    # group_vars/<child> beats group_vars/<parent> beats group_vars/all, all beat [x:vars]
    assert (n["worker1"].node.user, n["worker1"].node.port) == ("ops", 2200)
    # host_vars beats everything
    assert n["worker2"].node.port == 2222
    assert (n["standalone"].node.user, n["standalone"].node.port) == ("root", 22)
    assert inv.groups_of("worker1") == {"all", "swarm", "docker-workers"}
    assert inv.groups_of("standalone") == {"all", "ungrouped"}
    # the operator is told their [swarm:vars] / [all:vars] user is not the one used
    overridden = [f for f in inv.findings if "group_vars files win" in f.message]
    assert {f.line for f in overridden} == {10, 12}


def test_group_priority_and_depth_order() -> None:
    inv = parse_inventory(
        "[a]\nh1\n[b]\nh1\n[a:vars]\nansible_port=1001\n[b:vars]\nansible_port=1002\n"
    )
    assert inv.entries()[0].node.port == 1002  # same depth, same priority: by name
    inv = parse_inventory(
        "[a]\nh1\n[b]\nh1\n[a:vars]\nansible_port=1001\nansible_group_priority=10\n"
        "[b:vars]\nansible_port=1002\n"
    )
    assert inv.entries()[0].node.port == 1001


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("worker[1:2].gov.example", ["worker1.gov.example", "worker2.gov.example"]),
        ("node[01:03]", ["node01", "node02", "node03"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("w[1:10:4]", ["w1", "w5", "w9"]),
        ("r[1:2]c[a:b]", ["r1ca", "r1cb", "r2ca", "r2cb"]),
        ("10.0.0.[7:8]", ["10.0.0.7", "10.0.0.8"]),
        ("x[:1]", ["x0", "x1"]),
    ],
)
def test_ranges(pattern: str, names: list[str]) -> None:
    inv = parse_inventory(f"[docker-workers]\n{pattern}\n")
    assert inv.hosts == names


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("worker[1:100000000]", "makes 100,000,000 hosts"),
        ("a[1:100]b[1:100]", "make 10,000 hosts"),
        ("w[5:1]", "must not end before it begins"),
        ("w[01:100]", "same width"),
        ("w[1:3:0]", "1 or more"),
        ("w[1-3]", "[begin:end]"),
        ("w[1:3", "no closing"),
        ("w[c:a]", "must not end before"),
    ],
)
def test_bad_ranges_are_line_numbered(pattern: str, fragment: str) -> None:
    with pytest.raises(InventoryError) as info:
        parse_inventory(f"[docker-workers]\nok1\n\n{pattern}\n", "p.ini")
    assert info.value.line == 4 and fragment in info.value.message


def test_host_count_is_bounded() -> None:
    lines = "".join(f"g{i}[1:100]\n" for i in range(MAX_HOSTS // 100 + 1))
    with pytest.raises(InventoryError, match="more than 1,000 hosts"):
        parse_inventory("[docker-workers]\n" + lines)
    parse_inventory("[docker-workers]\n" + "".join(f"g{i}[1:100]\n" for i in range(10)))


def test_bom_crlf_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "win.ini"
    text = (
        "[docker-manager-first]\r\nmanager1 ansible_host=\"10.0.0.1\" ansible_user='ops'\r\n"
        "[docker-workers]\r\nworker1 ansible_host='10.0.0.2' ansible_port=\"2202\"\r\n"
        '[all:vars]\r\nansible_ssh_private_key_file="~/.ssh/opencrvs_ed25519"\r\n'
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    inv = load_inventory(path)
    m, w = inv.nodes()
    assert (m.host, m.user, m.key_file) == ("10.0.0.1", "ops", "~/.ssh/opencrvs_ed25519")
    assert (w.host, w.port) == ("10.0.0.2", 2202)
    assert inv.findings[0].line == 1 and "byte order mark" in inv.findings[0].message


def test_vars_values_keep_comments_as_ansible_does() -> None:
    inv = parse_inventory(
        "[docker-manager-first]\nm ansible_host=10.0.0.1\n[all:vars]\nansible_user=root # admin\n"
    )
    [entry] = inv.entries()
    assert entry.error is not None and entry.error.line == 4
    assert "trailing comment too" in entry.error.message


def test_children_cycles_without_recursion() -> None:
    with pytest.raises(InventoryError) as info:
        parse_inventory("[a]\nh\n[a:children]\nb\n[b]\n[b:children]\nc\n[c]\n[c:children]\na\n")
    assert "groups include each other: " in info.value.message and info.value.line is not None
    # a chain far deeper than Python's recursion limit
    depth = 5000
    text = "".join(f"[g{i}:children]\ng{i + 1}\n" for i in range(depth))
    inv = parse_inventory(text + f"[g{depth}]\nleaf ansible_host=10.0.0.1\n")
    assert len(inv.groups_of("leaf")) == depth + 2  # every g, and all
    assert inv.groups[f"g{depth}"].depth == depth + 1


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[docker-workers]\nworker1 ansible_host="10.0.0.1\n', 2, "No closing quotation"),
        ("[web]\n[docker-workers ]\n", 2, "malformed section header"),
        ("[all:vars]\nnot an assignment\n", 2, "expected key=value"),
        ("[web]\nhost1 ansible_host\n", 2, "expected key=value after the host"),
        ("[web:weird]\nhost1\n", 1, "unknown section type 'weird'"),
        ("[a:children]\nb c\n", 2, "one group name"),
        ("[web]\nhost1:99999\n", 2, "out of range"),
        ("[web:vars]\nx=1\n", 1, "declared nowhere"),
        ("[a:children]\nb\n", 2, "declared nowhere"),
        ("[web]\nhost$1\n", 2, "is not usable"),
    ],
)
def test_malformed_reported_with_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(InventoryError) as info:
        parse_inventory(text, "bad.ini")
    assert info.value.line == line
    assert fragment in info.value.message
    assert f"bad.ini, line {line}" in info.value.message


def test_errors_quote_the_token_never_the_line(tmp_path: Path) -> None:
    secret = "root:$y$j9T$Vq3L0oCh7yhuUv3rT5n7W/$Mj3ZgD1uWmO1eQqYd4pK8lW.c7:19700:0:99999:7:::"
    for content in (secret, "SMTP_PASSWORD=hunter2-not-for-you", "# x\nS3CRET 'unbalanced"):
        path = tmp_path / "wrong-file"
        path.write_text(content + "\ndaemon:*:19700:0:99999:7:::\n")
        with pytest.raises(InventoryError) as info:
            load_inventory(path)
        message = info.value.message
        assert "does not read as an Ansible INI inventory" in message
        for fragment in ("Vq3L0", "j9T", "hunter2", "S3CRET", "daemon"):
            assert fragment not in message
    # in an inventory, the one offending value is quoted (and cut), not the line around it
    inv = parse_inventory(
        "[docker-manager-first]\n"
        "m1 ansible_user=ok ansible_host='10.0.0.1 -oProxyCommand=touch /tmp/pwned' x=SECRET1\n"
    )
    message = inv.entries()[0].error.message
    assert "ansible_host of m1" in message and "it contains spaces" in message
    assert "SECRET1" not in message and "ansible_user" not in message


def test_yaml_files_errors_and_vault(tmp_path: Path) -> None:
    path = write_server_setup(
        tmp_path, example_ini(1, {"manager1": "10.0.0.1"}), group_vars="a: 1\nb: [\n"
    )
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    assert "all.yml" in info.value.source and "is not valid YAML" in info.value.message
    gv = path.parent / "group_vars" / "all.yml"
    gv.write_text("- just\n- a list\n")
    with pytest.raises(InventoryError, match="not a mapping"):
        load_inventory(path)
    gv.write_text("$ANSIBLE_VAULT;1.1;AES256\n6132386361633832\n")
    inv = load_inventory(path)
    assert inv.nodes()[0].user is None
    assert any("Ansible Vault" in f.message for f in inv.findings)
    gv.write_text("ansible_user: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6132\n")
    entry = load_inventory(path).entries()[0]
    assert entry.error is not None and entry.error.line == 1 and "vault" in entry.error.message
    gv.write_text("ansible_user: root\n")
    (gv.parent / "docker-worker.yml").write_text("ansible_port: 2\n")
    assert any("matches no group" in f.message for f in load_inventory(path).findings)
    assert load_inventory(path).nodes()[0].user == "root"
    assert GROUP_VARS_USER_LINE == 10


def test_playbook_dir_vars_come_after_the_inventory_dir(tmp_path: Path) -> None:
    playbooks = write_server_setup(tmp_path, "").parent  # group_vars/all.yml: root
    elsewhere = tmp_path / "ops" / "production.ini"
    elsewhere.parent.mkdir()
    elsewhere.write_text("[docker-manager-first]\nmanager1 ansible_host=10.0.0.1\n")
    assert load_inventory(elsewhere).nodes()[0].user is None
    assert load_inventory(elsewhere, playbook_dir=playbooks).nodes()[0].user == "root"


# -- values are data ----------------------------------------------------------------------

INJECTIONS = [
    "127.0.0.1 '-oProxyCommand=touch /tmp/crvs-pwned'",
    "-oProxyCommand=touch /tmp/crvs-pwned",
    "$(touch /tmp/crvs-pwned)",
    "h%h;touch /tmp/crvs-pwned",
    "`touch /tmp/crvs-pwned`",
    "10.0.0.1\nProxyCommand touch /tmp/crvs-pwned",
    "{{ lookup('pipe', 'touch /tmp/crvs-pwned') }}",
]


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize(
    "variable",
    [
        "ansible_host",
        "ansible_ssh_host",
        "ansible_user",
        "ansible_port",
        "ansible_ssh_private_key_file",
    ],
)
def test_injection_payloads_refused_in_every_connection_variable(
    tmp_path: Path, payload: str, variable: str
) -> None:
    # from host_vars/ (the highest level; YAML keeps newlines and quotes as they are)
    import json

    path = write_server_setup(tmp_path, "[docker-manager-first]\nmanager1 ansible_host=10.0.0.1\n")
    (path.parent / "host_vars").mkdir()
    (path.parent / "host_vars" / "manager1.yml").write_text(f"{variable}: {json.dumps(payload)}\n")
    entry = load_inventory(path).entries()[0]
    assert entry.node is None and entry.error is not None
    assert entry.error.line == 1 and "manager1" in entry.error.message
    assert "host_vars" in entry.error.source
    with pytest.raises(InventoryError):
        load_inventory(path).nodes()


@pytest.mark.parametrize(
    "variable",
    [
        "external_backup_server_ip",
        "external_backup_server_user",
        "external_backup_server_ssh_port",
        "external_backup_server_remote_directory",
        "manager_production_server_ip",
    ],
)
def test_backup_variables_are_validated(variable: str) -> None:
    good = {
        "external_backup_server_ip": "10.0.0.7",
        "external_backup_server_user": "backup",
        "external_backup_server_ssh_port": "22",
        "external_backup_server_remote_directory": "/home/backup",
        "manager_production_server_ip": "10.0.0.1",
    }
    good[variable] = "'x -oProxyCommand=touch /tmp/crvs-pwned'"
    text = "[docker-manager-first]\nmanager1 ansible_host=10.0.0.1\n[all:vars]\n" + "".join(
        f"{k}={v}\n" for k, v in good.items()
    )
    inv = parse_inventory(text)
    line = 4 + list(good).index(variable)
    problems = inv.backup_problems()
    assert [p.line for p in problems] == [line]
    assert variable not in inv.backup_settings()
    if variable in (
        "external_backup_server_ip",
        "external_backup_server_user",
        "external_backup_server_ssh_port",
    ):
        with pytest.raises(InventoryError):
            inv.nodes()


def test_typed_nodes_round_trip_and_hand_edits() -> None:
    from tasks.servers.health import HealthRecord

    record = HealthRecord()
    node = make_typed_node("10.1.2.3", "2022", "ops", "manager")
    record.set_typed_nodes("qa", [node])
    record = HealthRecord.from_state(record.to_state())
    assert record.typed_nodes("qa") == [node]
    assert record.typed_nodes("production") == []
    for bad in (("bad host;rm", "", ""), ("10.1.2.3", "70000", ""), ("h", "", "-oX")):
        with pytest.raises(CrvsError):
            make_typed_node(*bad, "node")
    with pytest.raises(CrvsError):
        make_typed_node("10.1.2.3", "", "", "king")
    # a session edited by hand: the hostile row is refused, by name, never used
    record.nodes["qa"].append({"host": INJECTIONS[0], "name": "evil"})
    entries = record.typed_node_entries("qa")
    assert entries[0].node == node and entries[1].node is None
    assert "it contains spaces" in entries[1].error.message
    with pytest.raises(InventoryError):
        record.typed_nodes("qa")
