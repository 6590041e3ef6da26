"""A small installation for the gate's tests: real OpenSSH sshd nodes with stand-ins that act.

Three nodes, each a real ``sshd`` on its own loopback address (tests/conftest.py's
``sshd_factory``), logging in the test user:

  manager1  production's manager (a 1-node swarm here: the backup needs no workers)
  qa1       QA's manager
  backup    the backup server

Each node has a directory standing for what cannot exist on a shared test machine
(``<root>/nodes/<name>/``): ``bin/`` first on the login PATH (sshd ``SetEnv``) with stand-in
``docker``, ``hostname`` (``-I``: the node's address), ``curl`` (traefik's answers), ``df``
(``/data`` as the encrypted volume) and ``cat`` (``/proc/loadavg``: the node's, not the shared
machine's), plus an ``ssh`` that uses the nodes' own key and
known_hosts; ``data/`` is ``ROOT_PATH`` (the real scripts' ``/data``); ``opt/opencrvs/
infrastructure/`` holds stand-ins of ``emergency-backup-metadata.sh`` and
``emergency-restore-metadata.sh`` that act for real (the backup is written on the manager and
sent to the backup server over ssh; the restore reads the copy on its own node); ``state/``
is what the stand-in docker and curl answer from (a test changes it to break things).

The operator's side is a home directory (``world.home``) with ``.ssh/config`` (Host aliases),
``known_hosts`` and the client key: a test sets ``HOME`` to it, and the app (no demo flag)
reaches the nodes through ``tasks.servers.ssh`` exactly as it reaches real servers. The
inventories are in ``world.root`` (``production.ini``, ``qa.ini``) with the
``external_backup_server_*`` variables.

Shaped to fold into the rehearsal world (tests/support/world, other lane) later: same
``SetEnv`` idea (PATH, ROOT_PATH, CRVS_NODE_DIR, CRVS_NODE_IP), same script locations.
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.sshd import KeyPair, Sshd, make_key

HERE = Path(__file__).parent
STANDIN_BIN = ("docker", "hostname", "curl", "df", "cat")
SCRIPTS = ("emergency-backup-metadata.sh", "emergency-restore-metadata.sh")
HEALTHY_SERVICES = [
    ("opencrvs_auth", "replicated", "1/1"),
    ("opencrvs_config", "replicated", "1/1"),
    ("opencrvs_countryconfig", "replicated", "1/1"),
    ("opencrvs_dashboards", "replicated", "1/1"),
    ("opencrvs_gateway", "replicated", "1/1"),
    ("opencrvs_hearth", "replicated", "1/1"),
    ("opencrvs_login", "replicated", "1/1"),
    ("opencrvs_migration", "replicated", "0/1"),
    ("opencrvs_mongo-on-update", "replicated", "0/1"),
    ("opencrvs_mongo1", "replicated", "1/1"),
    ("opencrvs_search", "replicated", "1/1"),
    ("opencrvs_setup-kibana-config", "replicated", "0/1"),
    ("opencrvs_user-mgnt", "replicated", "1/1"),
    ("opencrvs_workflow", "replicated", "1/1"),
]
MIGRATION_LOG = (
    "[INFO  wait] Host [mongo1:27017] is now available!\n"
    "yarn run v1.22.19\n"
    "MIGRATED UP: 20231025175023-fix-crude-birth-rates.js\n"
    "MIGRATED UP: 20240201123539-join-given-name.js\n"
    "Done in 41.20s.\n"
)
GATEWAY_PING = (
    '{"auth":true,"search":true,"user-mgnt":true,"metrics":true,'
    '"notification":true,"countryconfig":true,"workflow":true}'
)


def give_to_user(path: Path, user: str) -> None:
    """The login user owns ``path`` (and below) when the tests run as root."""
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.lchown(p, pw.pw_uid, pw.pw_gid)


@dataclass
class GateNode:
    name: str
    address: str
    port: int
    user: str
    dir: Path

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def scripts_dir(self) -> str:
        return str(self.dir / "opt" / "opencrvs" / "infrastructure")

    @property
    def state(self) -> Path:
        return self.dir / "state"

    def set_state(self, name: str, text: str) -> None:
        path = self.state / name
        path.write_text(text)
        give_to_user(path, self.user)

    def clear_state(self, name: str) -> None:
        (self.state / name).unlink(missing_ok=True)

    def events(self) -> str:
        path = self.state / "events"
        return path.read_text() if path.exists() else ""

    def restored(self) -> list[str]:
        path = self.state / "restored"
        return path.read_text().split() if path.exists() else []

    def services(self, rows: list[tuple[str, str, str]]) -> None:
        self.set_state("services", "".join(f"{n}\t{m}\t{r}\n" for n, m, r in rows))


@dataclass
class GateWorld:
    root: Path
    home: Path
    nodes: dict[str, GateNode]
    sshds: dict[str, Sshd]

    @property
    def manager(self) -> GateNode:
        return self.nodes["manager1"]

    @property
    def qa(self) -> GateNode:
        return self.nodes["qa1"]

    @property
    def backup(self) -> GateNode:
        return self.nodes["backup"]

    @property
    def remote_dir(self) -> Path:
        """``external_backup_server_remote_directory``."""
        return self.backup.dir / "opencrvs-backups"

    @property
    def production_inventory(self) -> Path:
        return self.root / "production.ini"

    @property
    def qa_inventory(self) -> Path:
        return self.root / "qa.ini"

    def backup_tree(self, label: str) -> Path:
        return self.remote_dir / label


NODES = (("manager1", "127.0.0.71"), ("qa1", "127.0.0.72"), ("backup", "127.0.0.73"))


def make_gate_world(
    root: Path, user: str, client_key: KeyPair, start_sshd: Callable[..., Sshd]
) -> GateWorld:
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    node_key = make_key(root / "node_key", "crvs-gate-node")
    give_to_user(node_key.private, user)
    nodes: dict[str, GateNode] = {}
    sshds: dict[str, Sshd] = {}
    for name, address in NODES:
        ndir = root / "nodes" / name
        (ndir / "bin").mkdir(parents=True, exist_ok=True)
        (ndir / "state").mkdir(exist_ok=True)
        (ndir / "data" / "backups").mkdir(parents=True, exist_ok=True)
        if name != "backup":
            scripts = ndir / "opt" / "opencrvs" / "infrastructure"
            scripts.mkdir(parents=True, exist_ok=True)
            for script in SCRIPTS:
                shutil.copy(HERE / script, scripts / script)
            for tool in STANDIN_BIN:
                shutil.copy(HERE / tool, ndir / "bin" / tool)
        ssh = ndir / "bin" / "ssh"
        ssh.write_text(f"#!/bin/sh\nexec /usr/bin/ssh -F '{root / 'node_ssh_config'}' \"$@\"\n")
        ssh.chmod(0o755)
        env = {
            "PATH": f"{ndir / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "ROOT_PATH": str(ndir / "data"),
            "CRVS_NODE_DIR": str(ndir),
            "CRVS_NODE_IP": address,
        }
        setenv = "SetEnv " + " ".join(f"{k}={v}" for k, v in env.items())
        sshd = start_sshd(address, extra=[setenv], authorized=[node_key], log_level="ERROR")
        sshds[name] = sshd
        nodes[name] = GateNode(name, address, sshd.port, user, ndir)
    world = GateWorld(root, root / "home", nodes, sshds)
    for node in (world.manager, world.qa):
        node.set_state("nodes", f"{node.name}\tReady\tActive\tLeader\n")
        node.services(HEALTHY_SERVICES)
        node.set_state(
            "images",
            "opencrvs_gateway\topencrvs/ocrvs-gateway:v1.3.0\n"
            "opencrvs_countryconfig\tfarajaland/countryconfig:v1.3.0-fj\n",
        )
        node.set_state("migration_state", "Complete 2 minutes ago\n")
        node.set_state("migration_log", MIGRATION_LOG)
        node.set_state("http_gateway", GATEWAY_PING)
        for service in ("auth", "config", "countryconfig"):
            node.set_state(f"http_{service}", '{"success":true}')
        node.set_state("http_login", "<!DOCTYPE html><title>OpenCRVS</title>")
        node.set_state("loadavg", "0.42 0.51 0.48 2/712 48211\n")
    world.remote_dir.mkdir(parents=True, exist_ok=True)
    _ssh_files(world, client_key, node_key, sshds)
    _inventories(world)
    give_to_user(root / "nodes", user)
    return world


def _ssh_files(
    world: GateWorld, client_key: KeyPair, node_key: KeyPair, sshds: dict[str, Sshd]
) -> None:
    known = "".join(
        f"[{n.address}]:{n.port} {sshds[n.name].host_key.public_line}\n"
        for n in world.nodes.values()
    )
    (world.root / "known_hosts").write_text(known)

    def config(key: Path, known_hosts: Path) -> str:
        blocks = [
            f"Host {n.name}\n    HostName {n.address}\n    Port {n.port}\n    User {n.user}\n"
            for n in world.nodes.values()
        ]
        blocks.append(
            f"Host *\n    IdentityFile {key}\n    IdentitiesOnly yes\n"
            f"    UserKnownHostsFile {known_hosts}\n    GlobalKnownHostsFile /dev/null\n"
            "    StrictHostKeyChecking yes\n    BatchMode yes\n    ConnectTimeout 5\n"
            "    LogLevel ERROR\n"
        )
        return "\n".join(blocks)

    (world.root / "node_ssh_config").write_text(
        config(node_key.private, world.root / "known_hosts")
    )
    ssh = world.home / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True, mode=0o700)
    (ssh / "known_hosts").write_text(known)
    shutil.copy(client_key.private, ssh / "id_ed25519")
    (ssh / "id_ed25519").chmod(0o600)
    shutil.copy(client_key.public, ssh / "id_ed25519.pub")
    (ssh / "config").write_text(config(ssh / "id_ed25519", ssh / "known_hosts"))


def _inventories(world: GateWorld) -> None:
    m, q, b = world.manager, world.qa, world.backup
    world.production_inventory.write_text(
        "[docker-manager-first]\n"
        f'manager1 ansible_host="{m.address}" ansible_port={m.port} ansible_user={m.user}\n\n'
        "[docker-workers]\n\n"
        "[all:vars]\n"
        "data1_hostname=manager1\n"
        f"external_backup_server_ip={b.address}\n"
        f"external_backup_server_user={b.user}\n"
        f"external_backup_server_ssh_port={b.port}\n"
        f"external_backup_server_remote_directory={world.remote_dir}\n"
        f"manager_production_server_ip={m.address}\n"
    )
    world.qa_inventory.write_text(
        "[docker-manager-first]\n"
        f'qa1 ansible_host="{q.address}" ansible_port={q.port} ansible_user={q.user}\n\n'
        "[docker-workers]\n\n"
        "[all:vars]\n"
        "data1_hostname=qa1\n"
    )
