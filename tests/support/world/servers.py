"""The rehearsal world's servers: one real OpenSSH sshd per node on its own 127.0.0.x address.

Each node has a directory (``<servers>/nodes/<name>/``) that stands for the parts of a real
server that cannot exist on a shared test machine:

  bin/        first on the login PATH (sshd ``SetEnv``): the stand-in ``docker``, ``df``,
              ``curl`` (traefik's HTTPS answers) and ``hostname`` (``-I``: the node's address),
              ``crvs-node`` (the node's bookkeeping) and ``ssh``/``scp`` wrappers that use the
              node's own key and the world's known_hosts (node-to-node ssh, as rsync does)
  state.json  what the stand-in docker answers from (stack, versions, migration runs, ...)
  data/       ``ROOT_PATH``: the real scripts' /data (backups/, minio/, metabase/, vsexport/,
              secrets/opencrvs.secrets)
  opt/opencrvs/infrastructure/   ``OPENCRVS_DIR``: what deploy.sh copies to /opt/opencrvs
  log/        ``LOG_LOCATION`` (/var/log)

The operator's side: ``<servers>/ssh/config`` (Host entries by name, domain and address, the
port, user, key and known_hosts) and ``<servers>/ssh/bin/{ssh,scp}`` wrappers that apply it,
to put first on PATH when running deploy.sh locally (OpenSSH reads ~/.ssh/config through
the passwd entry, so $HOME cannot point it elsewhere). No demo flag anywhere: the app talks to
these servers exactly as to real ones, through ``SshOptions`` built from the same files.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.sshd import KeyPair, Sshd, make_key

STANDINS = Path(__file__).with_name("standins")


@dataclass(frozen=True)
class NodeSpec:
    name: str
    address: str
    role: str  # manager | worker | backup
    environment: str  # qa | production | backup
    swarm: tuple[str, ...] = ()  # managers: the swarm's nodes, leader first


NODES = (
    NodeSpec("qa1", "127.0.0.41", "manager", "qa", ("qa1",)),
    NodeSpec("manager1", "127.0.0.42", "manager", "production", ("manager1", "worker1", "worker2")),
    NodeSpec("worker1", "127.0.0.43", "worker", "production"),
    NodeSpec("worker2", "127.0.0.44", "worker", "production"),
    NodeSpec("backup", "127.0.0.45", "backup", "backup"),
)


@dataclass(frozen=True)
class ServerNode:
    """One node as a test sees it: where it listens and where its stand-in state lives."""

    name: str
    address: str
    port: int
    user: str
    role: str
    environment: str
    dir: Path
    # Names the operator's ssh config knows it by (name, domain, address).
    aliases: tuple[str, ...] = ()

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    @property
    def data_dir(self) -> Path:
        """``ROOT_PATH`` on this node: the real servers' /data."""
        return self.dir / "data"

    @property
    def opencrvs_dir(self) -> Path:
        """``OPENCRVS_DIR`` on this node: the real servers' /opt/opencrvs."""
        return self.dir / "opt" / "opencrvs"

    @property
    def infrastructure_dir(self) -> Path:
        return self.opencrvs_dir / "infrastructure"

    @property
    def backup_script(self) -> str:
        """Absolute path of emergency-backup-metadata.sh here (/opt/opencrvs/... on real servers)."""
        return str(self.infrastructure_dir / "emergency-backup-metadata.sh")

    @property
    def restore_script(self) -> str:
        return str(self.infrastructure_dir / "emergency-restore-metadata.sh")

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text())

    def deployed(self) -> tuple[str, str] | None:
        """(core version, country config version) of the stack running here, or None."""
        stack = self.state().get("stack")
        return (stack["version"], stack["country_config_version"]) if stack else None

    def restored(self) -> list[dict[str, Any]]:
        return list(self.state().get("restored", []))

    def events(self, what: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.state().get("events", []) if what in (None, e.get("what"))]

    def update_state(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the node's state (e.g. ``converge_after``) between the app's actions."""
        state = self.state()
        change(state)
        _write_json(self.state_path, state)
        give_to_user(self.state_path, self.user)


def node_python() -> str:
    """A python3 the test user may run (pytest's may live under /root)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", sys.executable):
        path = Path(candidate)
        if path.exists() and _world_executable(path.resolve()):
            return candidate
    return sys.executable


def _world_executable(path: Path) -> bool:
    if os.geteuid() != 0:
        return os.access(path, os.X_OK)
    for part in (path, *path.parents):
        if not part.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def give_to_user(path: Path, user: str) -> None:
    """Let the login user own ``path`` (and below) when the tests run as root."""
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(user)
    paths: Iterable[Path] = [path]
    if path.is_dir():
        paths = [path, *path.rglob("*")]
    for p in paths:
        os.lchown(p, pw.pw_uid, pw.pw_gid)


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


@dataclass
class Servers:
    """The session's sshd nodes and ssh files (started once; ``nodes`` by name)."""

    root: Path
    user: str
    client_key: KeyPair
    node_key: KeyPair
    nodes: dict[str, ServerNode]
    sshds: dict[str, Sshd]

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

    @property
    def ssh_config(self) -> Path:
        return self.ssh_dir / "config"

    @property
    def node_ssh_config(self) -> Path:
        return self.ssh_dir / "node_config"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    @property
    def local_bin(self) -> Path:
        return self.ssh_dir / "bin"

    def stop(self) -> None:
        for sshd in self.sshds.values():
            sshd.stop()


def start_servers(
    root: Path,
    user: str,
    client_key: KeyPair,
    start_sshd: Callable[..., Sshd],
    domains: dict[str, str],
) -> Servers:
    """Start one sshd per node of ``NODES`` and write the ssh files for both sides.

    ``start_sshd(address, extra=..., authorized=...)`` is tests/conftest.py's ``sshd_factory``;
    ``domains`` maps a node name to the DNS name deploy.sh reaches it by (``--host``).
    """
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    ssh_dir = root / "ssh"
    ssh_dir.mkdir(exist_ok=True)
    ssh_dir.chmod(0o755)
    # The nodes' own key (node-to-node ssh): readable by the login user only.
    node_key = make_key(ssh_dir / "node_key", "crvs-rehearsal-node")
    give_to_user(node_key.private, user)
    python = node_python()
    nodes: dict[str, ServerNode] = {}
    sshds: dict[str, Sshd] = {}
    for spec in NODES:
        node_dir = root / "nodes" / spec.name
        bin_dir = node_dir / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        if spec.role != "backup":
            for tool, script in (
                ("docker", "docker.py"),
                ("df", "df.py"),
                ("crvs-node", "crvs_node.py"),
                ("curl", "curl.py"),
                ("hostname", "hostname.py"),
            ):
                body = (STANDINS / script).read_text(encoding="utf-8")
                _write(bin_dir / tool, f"#!{python} -S\n{body}", 0o755)
        for tool in ("ssh", "scp"):
            _write(
                bin_dir / tool,
                f"#!/bin/sh\nexec /usr/bin/{tool} -F '{ssh_dir / 'node_config'}' \"$@\"\n",
                0o755,
            )
        env = {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "CRVS_NODE_DIR": str(node_dir),
            "CRVS_NODE_IP": spec.address,
            "ROOT_PATH": str(node_dir / "data"),
            "OPENCRVS_DIR": str(node_dir / "opt" / "opencrvs"),
            "LOG_LOCATION": str(node_dir / "log"),
        }
        setenv = "SetEnv " + " ".join(f"{k}={v}" for k, v in env.items())
        sshd = start_sshd(spec.address, extra=[setenv], authorized=[node_key], log_level="ERROR")
        sshds[spec.name] = sshd
        aliases = tuple(a for a in (spec.name, domains.get(spec.name), spec.address) if a)
        nodes[spec.name] = ServerNode(
            spec.name, spec.address, sshd.port, user, spec.role, spec.environment, node_dir, aliases
        )
        give_to_user(node_dir, user)
    servers = Servers(root, user, client_key, node_key, nodes, sshds)
    _write_ssh_files(servers)
    return servers


def _write_ssh_files(servers: Servers) -> None:
    known = []
    for node in servers.nodes.values():
        names = ",".join(f"[{a}]:{node.port}" for a in node.aliases)
        known.append(f"{names} {servers.sshds[node.name].host_key.public_line}")
    _write(servers.known_hosts, "\n".join(known) + "\n")

    def config(key: Path) -> str:
        blocks = []
        for node in servers.nodes.values():
            blocks.append(
                f"Host {' '.join(node.aliases)}\n    HostName {node.address}\n"
                f"    Port {node.port}\n    User {node.user}\n"
            )
        blocks.append(
            "Host *\n"
            f"    IdentityFile {key}\n    IdentitiesOnly yes\n"
            f"    UserKnownHostsFile {servers.known_hosts}\n    GlobalKnownHostsFile /dev/null\n"
            "    StrictHostKeyChecking yes\n    UpdateHostKeys no\n    BatchMode yes\n"
            "    ConnectTimeout 5\n    LogLevel ERROR\n"
        )
        return "\n".join(blocks)

    # No ControlMaster: a master expiring while a client attaches fails that client (exit 255).
    _write(servers.ssh_config, config(servers.client_key.private))
    _write(servers.node_ssh_config, config(servers.node_key.private))
    for tool in ("ssh", "scp"):
        _write(
            servers.local_bin / tool,
            f"#!/bin/sh\nexec /usr/bin/{tool} -F '{servers.ssh_config}' \"$@\"\n",
            0o755,
        )


def reset_dir(path: Path, keep: tuple[str, ...] = ("bin",)) -> None:
    for entry in path.iterdir():
        if entry.name in keep:
            continue
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
