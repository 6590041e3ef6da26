"""Differential test: our inventory reader against the real ``ansible-inventory --list``.

One inventory per feature (written here, shaped like opencrvs-countryconfig's
server-setup), each read by ansible-core and by ``tasks.servers.inventory``; for every
host the connect address, port, user and groups must agree. ansible-inventory prints the
merged variables; which alias the ssh connection takes (``ansible_ssh_user`` over
``ansible_user`` and so on, whichever level each is set at) is checked separately against
``ansible -m ping -vvv`` on loopback (refused ports: no connection is ever made).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tasks.servers.inventory import load_inventory
from tests.support.inventories import GROUP_VARS_ALL, example_ini

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ANSIBLE_INVENTORY = BIN / "ansible-inventory"


@dataclass
class Case:
    name: str
    inventory: str
    files: dict[str, str]
    playbook_files: dict[str, str] | None = None
    raw: bytes | None = None  # exact bytes of the inventory (BOM, CRLF)


FILLED = {
    "manager1": "10.20.0.10",
    "worker1": "10.20.0.11",
    "worker2": "10.20.0.12",
    "data1_hostname": "prod-manager",
    "data2_hostname": "prod-worker1",
    "data3_hostname": "prod-worker2",
}

CASES = [
    Case(
        "ssh_aliases",
        "[docker-manager-first]\n"
        "manager1 ansible_ssh_host=10.0.0.1 ansible_ssh_port=2201 ansible_ssh_user=deploy\n"
        "[docker-workers]\n"
        "worker1 ansible_host=10.0.0.2 ansible_ssh_host=10.0.0.3 ansible_user=a ansible_ssh_user=b\n"
        "worker2 ansible_host=10.0.0.4 ansible_user=carol ansible_port=2204\n"
        "[docker-workers:vars]\n"
        "ansible_ssh_user=dave\nansible_ssh_port=2299\n",
        {},
    ),
    Case("group_vars_all", example_ini(3, FILLED), {"group_vars/all.yml": GROUP_VARS_ALL}),
    Case(
        "group_vars_group_yml",
        example_ini(3, FILLED),
        {
            "group_vars/all.yml": GROUP_VARS_ALL,
            "group_vars/docker-workers.yml": "ansible_user: ops\nansible_port: 2202\n",
        },
    ),
    Case(
        "group_vars_group_yaml_ext",
        example_ini(3, FILLED),
        {"group_vars/docker-manager-first.yaml": "ansible_user: admin\nansible_port: 2222\n"},
    ),
    Case(
        "group_vars_group_directory",
        example_ini(5, FILLED | {"worker3": "10.20.0.13", "worker4": "10.20.0.14"}),
        {
            "group_vars/all/00-base.yml": GROUP_VARS_ALL,
            "group_vars/all/10-port.yaml": "ansible_port: 2100\n",
            "group_vars/docker-workers/a.yml": "ansible_port: 2201\n",
            "group_vars/docker-workers/b/c.yml": "ansible_user: nested\n",
            "group_vars/docker-workers/zz.txt": "ansible_user: ignored-extension\n",
            "group_vars/docker-workers/.hidden.yml": "ansible_user: hidden\n",
        },
    ),
    Case(
        "host_vars",
        example_ini(3, FILLED),
        {
            "group_vars/all.yml": GROUP_VARS_ALL,
            "host_vars/worker2.yml": "ansible_host: 10.9.9.9\nansible_user: w2\nansible_port: 2\n",
            "host_vars/manager1": "ansible_ssh_port: 2022\n",
        },
    ),
    Case(
        "ranges_prefix_suffix",
        "[docker-manager-first]\nmanager1.gov.example\n[docker-workers]\nworker[1:2].gov.example\n",
        {},
    ),
    Case("range_zero_padded", "[docker-workers]\nnode[01:10]\n[docker-manager-first]\nm\n", {}),
    Case("range_letters", "[docker-workers]\ndb-[a:c]-x ansible_port=2200\n", {}),
    Case("range_step_and_several", "[docker-workers]\nw[1:10:3]\nr[1:2]c[a:b]\n", {}),
    Case(
        "range_ip_with_port",
        "[docker-workers]\n10.0.0.[7:9]:2222\n[docker-manager-first]\nm1:2200 ansible_port=2300\n",
        {},
    ),
    Case(
        "crlf",
        "",
        {"group_vars/all.yml": GROUP_VARS_ALL},
        raw=example_ini(3, FILLED).replace("\n", "\r\n").encode(),
    ),
    Case(
        "quoted_values",
        "[docker-manager-first]\n"
        'manager1 ansible_host="10.0.0.1" ansible_user=\'ops\' ansible_port="2222"\n'
        "[docker-workers]\n"
        "worker1 ansible_host='10.0.0.2' ansible_port=2202\n"
        'worker2 "ansible_host=10.0.0.3"\n'
        "[docker-workers:vars]\n"
        'ansible_user="deploy"\n'
        "[all:vars]\n"
        "ansible_port='22'\n",
        {},
    ),
    Case(
        "no_user_anywhere",
        "standalone ansible_host=10.0.0.9\n[docker-manager-first]\nqa1 ansible_host=10.0.0.5\n",
        {},
    ),
    Case(
        "precedence_children",
        "standalone ansible_host=10.0.0.9\n"
        "[docker-manager-first]\n"
        "manager1 ansible_host=10.0.0.1 ansible_user=ubuntu\n"
        "[docker-workers]\n"
        "worker[1:3] ansible_host=10.0.0.5\n"
        "worker3 ansible_port=2233\n"
        "[swarm:children]\n"
        "docker-manager-first\n"
        "docker-workers\n"
        "[opencrvs:children]\n"
        "swarm\n"
        "[opencrvs:vars]\n"
        "ansible_port=2000\nansible_user=top\n"
        "[swarm:vars]\n"
        "ansible_user=deploy\n"
        "[docker-workers:vars]\n"
        "ansible_port=2222\n"
        "[all:vars]\n"
        "ansible_user=admin\nansible_port=22\n",
        {},
    ),
    Case(
        "files_beat_inventory_group_vars",
        "[docker-manager-first]\nmanager1 ansible_host=10.0.0.1\n"
        "[docker-workers]\nworker1 ansible_host=10.0.0.2 ansible_user=hostline\n"
        "worker2 ansible_host=10.0.0.3\n"
        "[swarm:children]\ndocker-manager-first\ndocker-workers\n"
        "[docker-workers:vars]\nansible_user=ubuntu\nansible_port=2200\n"
        "[all:vars]\nansible_user=admin\n",
        {
            "group_vars/all.yml": GROUP_VARS_ALL,
            "group_vars/swarm.yml": "ansible_port: 2100\n",
        },
    ),
    Case(
        "group_priority",
        "[a]\nh1 ansible_host=10.0.0.1\nh2 ansible_host=10.0.0.2\n[b]\nh1\nh2\n"
        "[a:vars]\nansible_port=1001\nansible_group_priority=10\n[b:vars]\nansible_port=1002\n",
        {},
    ),
    Case(
        "ungrouped_and_missing_manager",
        "lonely ansible_host=10.0.0.8\n[docker-manager-first]\n"
        '; manager1 ansible_host="ENTER YOUR MANAGER HOST IP"\n'
        "[docker-workers]\nworker1 ansible_host=10.0.0.2\n",
        {},
    ),
    Case(
        "playbook_dir",
        "[docker-manager-first]\nmanager1 ansible_host=10.0.0.1\n"
        "[docker-workers]\nworker1 ansible_host=10.0.0.2\n",
        {"group_vars/docker-workers.yml": "ansible_port: 2201\n"},
        playbook_files={
            "group_vars/all.yml": GROUP_VARS_ALL,
            "group_vars/docker-workers.yml": "ansible_port: 2301\nansible_user: pb\n",
        },
    ),
]


def ansible_env(home: Path) -> dict[str, str]:
    cfg = home / "ansible.cfg"
    cfg.write_text("[defaults]\n")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANSIBLE_CONFIG": str(cfg),
        "ANSIBLE_INVENTORY_ENABLED": "ini",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "LC_ALL": "C.UTF-8",
    }


def write_case(root: Path, case: Case) -> tuple[Path, Path | None]:
    setup = root / case.name / "server-setup"
    setup.mkdir(parents=True)
    path = setup / "production.ini"
    path.write_bytes(case.raw if case.raw is not None else case.inventory.encode())
    for rel, text in case.files.items():
        (setup / rel).parent.mkdir(parents=True, exist_ok=True)
        (setup / rel).write_text(text)
    playbooks = None
    if case.playbook_files is not None:
        playbooks = root / case.name / "playbooks"
        for rel, text in case.playbook_files.items():
            (playbooks / rel).parent.mkdir(parents=True, exist_ok=True)
            (playbooks / rel).write_text(text)
    return path, playbooks


def ansible_list(path: Path, playbooks: Path | None, env: dict[str, str]) -> subprocess.Popen:
    argv = [str(ANSIBLE_INVENTORY), "-i", str(path), "--list"]
    if playbooks is not None:
        argv += ["--playbook-dir", str(playbooks)]
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def last_defined(hostvars: dict, names: tuple[str, ...]):
    """The ssh connection plugin's rule: the last of ``names`` that is defined wins."""
    value = None
    for name in names:
        if hostvars.get(name) is not None:
            value = hostvars[name]
    return value


def ansible_view(listing: dict) -> dict[str, dict]:
    """host -> {host, port, user, groups} from ansible-inventory's --list output."""
    parents: dict[str, set[str]] = {}
    direct: dict[str, set[str]] = {}
    for group, data in listing.items():
        if group == "_meta":
            continue
        for child in data.get("children", []):
            parents.setdefault(child, set()).add(group)
        for host in data.get("hosts", []):
            direct.setdefault(host, set()).add(group)
    out = {}
    every = set(direct) | set(listing["_meta"]["hostvars"])
    for host in every:
        hostvars = listing["_meta"]["hostvars"].get(host, {})
        groups = set(direct.get(host, set())) | {"all"}
        stack = list(groups)
        while stack:
            for p in parents.get(stack.pop(), ()):
                if p not in groups:
                    groups.add(p)
                    stack.append(p)
        port = last_defined(hostvars, ("ansible_port", "ansible_ssh_port"))
        out[host] = {
            "host": str(last_defined(hostvars, ("ansible_host", "ansible_ssh_host")) or host),
            "port": int(port) if port is not None else None,
            "user": last_defined(hostvars, ("ansible_user", "ansible_ssh_user")),
            "groups": groups,
        }
    return out


def our_view(path: Path, playbooks: Path | None) -> dict[str, dict]:
    inv = load_inventory(path, playbook_dir=playbooks)
    out = {}
    for entry in inv.entries():
        if entry.role.value == "backup":
            continue
        assert entry.node is not None, entry.error
        n = entry.node
        out[n.name] = {
            "host": n.host,
            "port": n.port,
            "user": n.user,
            "groups": inv.groups_of(n.name),
        }
    return out


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> dict[str, tuple[dict, dict]]:
    if not ANSIBLE_INVENTORY.exists():
        pytest.fail(f"{ANSIBLE_INVENTORY} missing: ansible-core is in the dev extra")
    root = tmp_path_factory.mktemp("inventories")
    home = tmp_path_factory.mktemp("ansible-home")
    env = ansible_env(home)
    running = {}
    for case in CASES:
        path, playbooks = write_case(root, case)
        running[case.name] = (path, playbooks, ansible_list(path, playbooks, env))
    results = {}
    for name, (path, playbooks, proc) in running.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{name}: ansible-inventory failed: {err[-2000:]}"
        results[name] = (ansible_view(json.loads(out)), our_view(path, playbooks))
    return results


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_same_nodes_as_ansible_inventory(compared, case: str) -> None:
    theirs, ours = compared[case]
    assert theirs, "ansible-inventory listed no hosts"
    assert sorted(ours) == sorted(theirs)
    for host in theirs:
        assert ours[host] == theirs[host], host


def test_coverage_figures(compared) -> None:
    nodes = sum(len(theirs) for theirs, _ours in compared.values())
    # one inventory per feature; every node's host, port, user and groups compared
    assert len(compared) == len(CASES) >= 19 and nodes >= 60
    print(f"\ndifferential: {len(compared)} inventories, {nodes} nodes compared")


def test_bom_ansible_fails_we_read_and_flag(tmp_path: Path) -> None:
    env = ansible_env(tmp_path)
    text = example_ini(3, FILLED)
    with_bom = tmp_path / "bom" / "production.ini"
    plain = tmp_path / "plain" / "production.ini"
    for p, data in ((with_bom, b"\xef\xbb\xbf" + text.encode()), (plain, text.encode())):
        p.parent.mkdir()
        p.write_bytes(data)
    failed = ansible_list(with_bom, None, env)
    _out, err = failed.communicate(timeout=120)
    assert failed.returncode != 0  # Ansible's INI reader does not accept a BOM ...
    ok = ansible_list(plain, None, env)
    out, _ = ok.communicate(timeout=120)
    inv = load_inventory(with_bom)  # ... we read it as the same file without one ...
    assert our_view(with_bom, None) == ansible_view(json.loads(out))
    # ... and say that ansible-playbook will fail on it
    assert inv.findings[0].line == 1 and "ansible-playbook fails" in inv.findings[0].message


def closed_port(address: str) -> tuple[socket.socket, int]:
    s = socket.socket()
    s.bind((address, 0))
    return s, s.getsockname()[1]


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs the OpenSSH client")
def test_alias_rule_is_what_ansible_connects_with(tmp_path: Path) -> None:
    """ansible -m ping -vvv prints the user, port and address the ssh plugin uses."""
    socks = [closed_port(f"127.0.0.{i}") for i in (21, 22, 23, 24)]
    p = [port for _s, port in socks]
    inv = tmp_path / "server-setup" / "production.ini"
    inv.parent.mkdir()
    (inv.parent / "group_vars").mkdir()
    (inv.parent / "group_vars" / "all.yml").write_text(GROUP_VARS_ALL)
    inv.write_text(
        "[docker-manager-first]\n"
        f"manager1 ansible_host=127.0.0.99 ansible_ssh_host=127.0.0.21 ansible_port=1 "
        f"ansible_ssh_port={p[0]} ansible_ssh_user=bob\n"
        "[docker-workers]\n"
        f"worker1 ansible_ssh_host=127.0.0.22 ansible_user=carol ansible_port={p[1]}\n"
        f"worker2 ansible_host=127.0.0.23 ansible_port={p[2]}\n"
        f"worker3 ansible_host=127.0.0.24 ansible_ssh_port={p[3]} ansible_user=erin\n"
        "[docker-workers:vars]\nansible_ssh_user=dave\n"
    )
    env = ansible_env(tmp_path) | {
        "ANSIBLE_SSH_ARGS": "-F /dev/null -o ControlMaster=no",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_TIMEOUT": "2",
    }
    out = subprocess.run(
        [str(BIN / "ansible"), "all", "-i", str(inv), "-m", "ping", "-vvv"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    ).stdout
    for s, _port in socks:
        s.close()
    seen = {}
    for m in re.finditer(r"<([\d.]+)> ESTABLISH SSH CONNECTION FOR USER: (\S+)", out):
        seen.setdefault(m[1], {})["user"] = None if m[2] == "None" else m[2]
    for m in re.finditer(r"<([\d.]+)> SSH: EXEC ssh .*?-o Port=(\d+)", out):
        seen.setdefault(m[1], {})["port"] = int(m[2])
    ours = {n.host: {"user": n.user, "port": n.port} for n in load_inventory(inv).nodes()}
    assert len(seen) == 4, out[-3000:]
    assert seen == ours
