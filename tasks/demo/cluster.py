"""The demo cluster: in-process asyncssh servers on loopback that look like OpenCRVS servers.

``DemoCluster(sandbox.cluster_dir)`` serves, on 127.0.0.1 with ports picked at start (the
previous run's ports are tried first, so a trusted key stays trusted):

  manager1, worker1, worker2   the production swarm (worker2's /data is 71 % used: a warning)
  backup                       the backup server, holding a nightly backup under
                               /home/backup/opencrvs/<label>/ (see ``BACKUP_REMOTE_DIR``)
  qa1                          a one-server QA environment

and writes into ``cluster_dir``::

  id_ed25519 (+ .pub)   the client key the demo logs in with
  host_keys/<node>      each server's host key (kept across runs)
  known_hosts           every node EXCEPT the backup server: the demo shows the
                        "unknown host key" flow on it
  ssh_config            Host aliases demo-<node> -> 127.0.0.1:<port>, IdentityFile, User
  production.ini        Ansible inventory, 3 servers + external_backup_server_*
  qa.ini                Ansible inventory, 1 server
  backup-fs/            the backup server's files (its "/" for ls, find, stat, ...)

The app reaches these servers through ``tasks.servers.ssh`` exactly as it reaches real ones
(``demo_ssh_options()`` points it at the files above). Headless::

  python -m tasks.demo.cluster DIR     # serve until Ctrl+C, then in another shell:
  crvs-migrate health -i DIR/production.ini --ssh-config DIR/ssh_config --known-hosts DIR/known_hosts

Commands answered: ``df``, ``cat /proc/{meminfo,loadavg,uptime}``, ``nproc``, ``uptime``,
``hostname``, ``docker node ls`` / ``docker service ls`` (manager1, qa1) and, on the
backup server, ``ls``, ``find``, ``stat``, ``du``, ``test``, ``wc``, ``sha256sum``,
``head`` run for real on ``backup-fs`` (absolute paths mapped into it, ``..`` refused).
To answer another command, add a branch to ``DemoNode.respond`` (pure: argv -> output).

Detached runs, the emergency backup and the restore (``tasks.demo.runs``): the nodes answer
the constant scripts of ``tasks.servers.detached`` and really write the backup onto the
backup server, copy it onto QA's ``/data/backups`` (``fs/qa1/``) and read it back there; the
post-deploy checks (``docker service ps/logs`` of the migration, ``curl`` of the /ping
endpoints through traefik, ``df -P /data``) are answered as a healthy 1.3 stack answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import time
from dataclasses import field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tasks.demo.runs import BACKUP_REMOTE_DIR, MONGO_DATABASES, build_backup_tree
from tasks.lean import dataclass
from tasks.servers.health import DOCKER_NODE_FORMAT, DOCKER_SERVICE_FORMAT
from tasks.units import GIB

HOST = "127.0.0.1"
USER = "root"
BACKUP_USER = "backup"
__all__ = ["BACKUP_REMOTE_DIR", "MONGO_DATABASES", "build_backup_tree"]
KIB = 1024


@dataclass(frozen=True)
class DemoNode:
    name: str
    role: str  # manager | worker | backup
    cpus: int = 8
    mem_total_kib: int = 16_393_212  # what a 16 GB server reports
    mem_available_kib: int = 9_800_000
    # mount -> (filesystem, total bytes, used bytes)
    disks: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    load: tuple[float, float, float] = (0.42, 0.51, 0.48)
    uptime_s: float = 1_209_600.0
    swarm: tuple[str, ...] = ()  # hostnames docker node ls lists (managers only)
    # What the demo deploy.sh put on this manager: {"core": tag, "config": tag}.
    stack: dict[str, str] = field(default_factory=dict, compare=False)

    def df(self, paths: list[str]) -> tuple[str, str, int]:
        out = ["Filesystem         1-blocks         Used    Available Capacity Mounted on"]
        err, code = [], 0
        for p in paths or ["/"]:
            mount = (
                "/data"
                if (p == "/data" or p.startswith("/data/")) and "/data" in self.disks
                else "/"
            )
            if p.startswith("/data") and "/data" not in self.disks:
                err.append(f"df: {p}: No such file or directory")
                code = 1
                continue
            fs, total, used = self.disks[mount]
            avail = total - used
            pct = -(-used * 100 // (used + avail))
            out.append(f"{fs:<18} {total:>12} {used:>12} {avail:>12} {pct:>7}% {mount}")
        return "\n".join(out) + "\n", "\n".join(err) + ("\n" if err else ""), code

    def meminfo(self) -> str:
        free = self.mem_available_kib // 3
        return (
            f"MemTotal:       {self.mem_total_kib} kB\n"
            f"MemFree:        {free} kB\n"
            f"MemAvailable:   {self.mem_available_kib} kB\n"
            f"Buffers:          402116 kB\n"
            f"Cached:          {self.mem_available_kib - free} kB\n"
            "SwapCached:            0 kB\n"
            "SwapTotal:             0 kB\n"
            "SwapFree:              0 kB\n"
        )

    def respond(self, argv: list[str]) -> tuple[str, str, int]:
        """stdout, stderr, exit status of ``argv`` on this node (health commands)."""
        if not argv:
            return "", "This demo server runs commands only.\n", 1
        cmd, args = argv[0], argv[1:]
        if cmd == "df":
            return self.df([a for a in args if not a.startswith("-")])
        if cmd == "cat" and args:
            files = {
                "/proc/meminfo": self.meminfo,
                "/proc/loadavg": lambda: "{:.2f} {:.2f} {:.2f} 2/712 48211\n".format(*self.load),
                "/proc/uptime": lambda: f"{self.uptime_s:.2f} {self.uptime_s * 7.1:.2f}\n",
            }
            if all(a in files for a in args):
                return "".join(files[a]() for a in args), "", 0
            return "", f"cat: {args[0]}: Permission denied\n", 1
        if cmd == "nproc":
            return f"{self.cpus}\n", "", 0
        if cmd == "hostname":
            return f"{self.name}\n", "", 0
        if cmd == "uptime":
            days = int(self.uptime_s // 86400)
            return (
                f" 10:00:00 up {days} days,  3:12,  1 user,  load average: "
                + ", ".join(f"{x:.2f}" for x in self.load)
                + "\n",
                "",
                0,
            )
        if cmd == "docker":
            return self.docker(args)
        if cmd in ("true", ":"):
            return "", "", 0
        if self.role == "manager":
            answer = self.manager_extra(cmd, args)
            if answer is not None:
                return answer
        return "", f"sh: 1: {cmd}: not found\n", 127

    def manager_extra(self, cmd: str, args: list[str]) -> tuple[str, str, int] | None:
        """What the backup, the restore and the post-deploy checks ask a manager."""
        scripts = "/opt/opencrvs/infrastructure/"
        if cmd == "grep" and args[-1:] == [scripts + "emergency-backup-metadata.sh"]:
            return "1\n", "", 0  # the 1.3.1+ layout
        if cmd == "grep":
            return "", f"grep: {args[-1] if args else ''}: No such file or directory\n", 2
        if cmd == "test" and args[:1] == ["-f"]:
            known = {
                scripts + "emergency-backup-metadata.sh",
                scripts + "emergency-restore-metadata.sh",
            }
            return "", "", 0 if args[1:2] and args[1] in known else 1
        if cmd == "curl":
            url = args[-1] if args else ""
            name = url.removeprefix("https://").split("/", 1)[0]
            service = name.split(".", 1)[0]
            if service == "gateway":
                from tasks.release.checks import GATEWAY_SERVICES

                body = json.dumps({s: True for s in GATEWAY_SERVICES})
            elif service == "login":
                body = "<!DOCTYPE html><title>OpenCRVS</title>"
            else:
                body = '{"success":true}'
            return f"{body}\n200", "", 0
        return None

    def deploy_stack(self, args: list[str]) -> tuple[str, str, int]:
        """``docker stack deploy --core TAG --country-config TAG opencrvs`` (the demo's
        deploy.sh): the stack runs those versions from now on."""
        from tasks.names import validate_image_tag

        usage = "usage: docker stack deploy --core TAG --country-config TAG opencrvs\n"
        if len(args) != 5 or args[0] != "--core" or args[2] != "--country-config":
            return "", usage, 1
        try:
            core, config = validate_image_tag(args[1]), validate_image_tag(args[3])
        except Exception as exc:  # noqa: BLE001 - a refused tag is the command's error
            return "", f"{exc}\n", 1
        self.stack.update(core=core, config=config)
        names = [n for n, _m, _r in _services(len(self.swarm))]
        return "".join(f"Updating service {n}\n" for n in names), "", 0

    def docker(self, args: list[str]) -> tuple[str, str, int]:
        if not self.swarm:
            if self.role == "backup":
                return "", "sh: 1: docker: not found\n", 127
            return (
                "",
                "Error response from daemon: This node is not a swarm manager. Worker nodes "
                "can't be used to view or modify cluster state.\n",
                1,
            )
        fmt = args[args.index("--format") + 1] if "--format" in args[:-1] else None
        if args[:2] == ["node", "ls"]:
            rows = []
            for i, h in enumerate(self.swarm):
                rows.append((h, "Ready", "Active", "Leader" if i == 0 else ""))
            if fmt == DOCKER_NODE_FORMAT:
                return "".join("\t".join(r) + "\n" for r in rows), "", 0
            head = "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n"
            return (
                head
                + "".join(
                    f"{i:026x} {'*' if i == 0 else ' '} {r[0]:<10} {r[1]:<9} {r[2]:<14} {r[3]:<16} 24.0.7\n"
                    for i, r in enumerate(rows)
                ),
                "",
                0,
            )
        if args[:2] == ["stack", "deploy"]:
            return self.deploy_stack(args[2:])
        if args[:2] == ["service", "ls"]:
            services = _services(len(self.swarm))
            if fmt == "{{.Name}}\t{{.Image}}":
                return "".join(f"{n}\t{_image(n, self.stack)}\n" for n, _m, _r in services), "", 0
            if fmt == DOCKER_SERVICE_FORMAT:
                return "".join(f"{n}\t{m}\t{r}\n" for n, m, r in services), "", 0
            head = "NAME                              MODE               REPLICAS\n"
            return head + "".join(f"{n:<33} {m:<18} {r}\n" for n, m, r in services), "", 0
        if args[:2] == ["service", "ps"] and args[-1:] == ["opencrvs_migration"]:
            return "Complete 3 minutes ago\n", "", 0
        if args[:2] == ["service", "logs"] and args[-1:] == ["opencrvs_migration"]:
            lines = ["[INFO  wait] Host [mongo1:27017] is now available!", "yarn run v1.22.19"]
            lines += [f"MIGRATED UP: {m}.js" for m in DEMO_MIGRATIONS]
            lines += ["Done in 312.40s."]
            return "", "\n".join(lines) + "\n", 0  # docker prints a service's stderr on stderr
        if args[:2] == ["service", "update"]:
            return (
                f"{args[-1]}\noverall progress: 1 out of 1 tasks\nverify: Service converged\n",
                "",
                0,
            )
        return "", f"docker: '{' '.join(args[:1])}' is not a docker command (demo).\n", 1


GATEWAY_PINGS = (
    "auth",
    "search",
    "user-mgnt",
    "metrics",
    "notification",
    "countryconfig",
    "workflow",
)
# What a 1.3.0 -> 1.3.5 upgrade's migration service applies (opencrvs-core's migrations).
DEMO_MIGRATIONS = (
    "20230905130632-elastic-search-property-rename",
    "20231025175023-fix-crude-birth-rates",
    "20231123125224-deceased-birth-date",
    "20240201123539-join-given-name",
    "20231106130956-email-mobile-unique-index",
)


def _services(nodes: int) -> list[tuple[str, str, str]]:
    replicated = [
        "auth",
        "client",
        "config",
        "countryconfig",
        "documents",
        "gateway",
        "login",
        "metrics",
        "notification",
        "search",
        "user-mgnt",
        "webhooks",
        "workflow",
    ]
    single = [
        "dashboards",
        "hearth",
        "influxdb",
        "kibana",
        "metabase",
        "minio",
        "openhim-console",
        "openhim-core",
        "traefik",
    ]
    rows = [(f"opencrvs_{s}", "replicated", f"{nodes}/{nodes}") for s in replicated]
    rows += [(f"opencrvs_{s}", "replicated", "1/1") for s in single]
    rows += [(f"opencrvs_mongo{i}", "replicated", "1/1") for i in range(1, nodes + 1)]
    rows += [("opencrvs_elasticsearch", "replicated", "1/1")]
    # The migration service runs once per deploy and completes.
    rows += [("opencrvs_migration", "replicated-job", "0/1 (1/1 completed)")]
    return sorted(rows)


def _image(service: str, stack: dict[str, str] | None = None) -> str:
    """What the demo's stack runs: core 1.3.0 and the fork's 1.3.0 country config, until
    the demo's deploy.sh deployed other versions."""
    stack = stack or {}
    name = service.removeprefix("opencrvs_")
    if name == "countryconfig":
        return f"farajaland/demo-countryconfig:{stack.get('config', 'v1.3.0')}"
    if name in ("mongo1", "mongo2", "mongo3"):
        return "mongo:4.4"
    return f"opencrvs/ocrvs-{name}:{stack.get('core', 'v1.3.0')}"


def _disks(
    root_used: float, data_used: float | None, root_gb: int = 80, data_gb: int = 400
) -> dict:
    disks = {"/": ("/dev/sda1", root_gb * GIB, int(root_gb * GIB * root_used))}
    if data_used is not None:
        disks["/data"] = ("/dev/mapper/cryptfs", data_gb * GIB, int(data_gb * GIB * data_used))
    return disks


PRODUCTION = ("manager1", "worker1", "worker2")
NODES: dict[str, DemoNode] = {
    "manager1": DemoNode(
        "manager1",
        "manager",
        mem_available_kib=7_100_000,
        disks=_disks(0.41, 0.52),
        load=(1.12, 0.97, 0.88),
        swarm=PRODUCTION,
    ),
    "worker1": DemoNode("worker1", "worker", mem_available_kib=9_900_000, disks=_disks(0.37, 0.48)),
    # Near the 70 % threshold: the demo's one warning.
    "worker2": DemoNode(
        "worker2",
        "worker",
        mem_available_kib=8_400_000,
        disks=_disks(0.39, 0.712),
        load=(0.65, 0.72, 0.70),
    ),
    "backup": DemoNode(
        "backup",
        "backup",
        cpus=2,
        mem_total_kib=4_025_000,
        mem_available_kib=3_100_000,
        disks=_disks(0.58, None, root_gb=1000),
        load=(0.05, 0.08, 0.04),
    ),
    "qa1": DemoNode(
        "qa1", "manager", mem_available_kib=10_400_000, disks=_disks(0.33, 0.29), swarm=("qa1",)
    ),
}
UNTRUSTED = ("backup",)  # left out of known_hosts: the demo's "unknown host key" flow
BACKUP_COMMANDS = frozenset({"ls", "find", "stat", "du", "test", "wc", "sha256sum", "head", "cat"})
_FIND_FORBIDDEN = frozenset(
    {"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"}
)


@dataclass(frozen=True)
class DemoFiles:
    """Where the demo cluster's files are (known before it starts)."""

    root: Path

    @property
    def client_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.root / "ssh_config"

    @property
    def backup_fs(self) -> Path:
        return self.root / "backup-fs"

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"

    def node_fs(self, node: str) -> Path:
        """A node's own files (its "/" for /data/backups), backup-fs for the backup server."""
        return self.backup_fs if node == "backup" else self.root / "fs" / node

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def inventory(self, environment: str) -> Path:
        return self.root / f"{environment}.ini"

    def host_key(self, node: str) -> Path:
        return self.root / "host_keys" / node


def demo_ssh_options(cluster_dir: Path, **overrides: Any):  # -> tasks.servers.ssh.SshOptions
    from tasks.servers.ssh import SshOptions

    files = DemoFiles(Path(cluster_dir))
    kwargs: dict[str, Any] = dict(
        known_hosts=files.known_hosts,
        config_files=(files.ssh_config,),
        agent_path="",  # never offer the operator's own keys to the demo
        # Loopback, but the machine may be busy (a demo laptop, a CI box).
        connect_timeout=10.0,
        login_timeout=10.0,
        command_timeout=15.0,
    )
    kwargs.update(overrides)
    return SshOptions(**kwargs)


def backup_label(now: datetime | None = None) -> str:
    """The nightly backup's label: yesterday's date, as the 00:00 cron names it."""
    return ((now or datetime.now(UTC)) - timedelta(days=1)).strftime("%Y-%m-%d")


class DemoCluster:
    """Start with ``await cluster.start()``; ``await cluster.stop()`` closes every server."""

    def __init__(self, cluster_dir: Path) -> None:
        from tasks.demo.runs import DemoRuns

        self.files = DemoFiles(Path(cluster_dir))
        self.ports: dict[str, int] = {}
        self._servers: list[Any] = []
        self.ready = asyncio.Event()
        self.runs = DemoRuns(self.files.runs_dir)

    @property
    def root(self) -> Path:
        return self.files.root

    def ssh_options(self, **overrides: Any):  # -> SshOptions
        return demo_ssh_options(self.root, **overrides)

    async def start(self) -> DemoCluster:
        import asyncssh

        root = self.root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        (root / "host_keys").mkdir(exist_ok=True, mode=0o700)
        client = _key(asyncssh, self.files.client_key)
        authorized = asyncssh.import_authorized_keys(client.export_public_key("openssh").decode())
        previous: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError):
            previous = {k: int(v) for k, v in json.loads(self.files.ports_file.read_text()).items()}
        label = backup_label()
        if not (self.files.backup_fs / BACKUP_REMOTE_DIR.lstrip("/") / label).exists():
            yesterday = time.time() - 86400 + 60
            build_backup_tree(self.files.backup_fs, label, when=yesterday)
        keys = {}
        for name, node in NODES.items():
            keys[name] = _key(asyncssh, self.files.host_key(name))
            server = None
            for port in (previous.get(name, 0), 0):
                try:
                    server = await asyncssh.listen(
                        HOST,
                        port,
                        server_host_keys=[keys[name]],
                        authorized_client_keys=authorized,
                        process_factory=self._handler(self._own(node)),
                        allow_scp=False,
                        sftp_factory=None,
                        agent_forwarding=False,
                        x11_forwarding=False,
                        allow_pty=False,
                        login_timeout=10,
                        # Bytes: the copy of a backup between servers is a tar stream.
                        encoding=None,
                    )
                    break
                except OSError:
                    if port == 0:
                        raise
            assert server is not None
            self._servers.append(server)
            self.ports[name] = server.sockets[0].getsockname()[1]
        self._write_files(keys)
        self.ready.set()
        return self

    def _own(self, node: DemoNode) -> DemoNode:
        """This cluster's copy of ``node``, with what the demo deploy.sh put on it before
        (kept in the cluster directory: a resumed demo runs what was deployed)."""
        stack: dict[str, str] = {}
        saved = self.root / f"stack-{node.name}.json"
        try:
            loaded = json.loads(saved.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                stack = {k: str(v) for k, v in loaded.items() if k in ("core", "config")}
        except (OSError, ValueError):
            pass
        return replace(node, stack=stack)

    def _save_stack(self, node: DemoNode) -> None:
        _write(self.root / f"stack-{node.name}.json", json.dumps(node.stack) + "\n")

    def _handler(self, node: DemoNode):
        backup_fs = self.files.backup_fs
        own_fs = self.files.node_fs(node.name)

        async def execute(argv: list[str]) -> tuple[str, str, int]:
            proc_files = argv[:1] == ["cat"] and all(a.startswith("/proc/") for a in argv[1:])
            if argv and node.role == "backup" and argv[0] in BACKUP_COMMANDS and not proc_files:
                return await run_on_backup_fs(backup_fs, argv)
            if argv and node.role == "manager" and argv[0] in ("find", "head"):
                own_fs.mkdir(parents=True, exist_ok=True)
                return await run_on_backup_fs(own_fs, argv)
            remote = self._detached(node, argv)
            if remote is not None:
                return remote
            if argv[:2] == ["sh", "-c"] and len(argv) >= 3:
                return await run_batch_script(argv[2], execute)
            answer = node.respond(argv)
            if argv[:3] == ["docker", "stack", "deploy"] and answer[2] == 0:
                self._save_stack(node)
            return answer

        async def handle(process: Any) -> None:
            from tasks.demo import runs
            from tasks.release.emergency import UNTAR
            from tasks.servers.detached import FOLLOW

            try:
                try:
                    argv = shlex.split(process.command or "")
                except ValueError:
                    argv = None
                if argv is None:
                    out, err, code = "", "sh: syntax error: unterminated quoted string\n", 2
                elif argv[:3] == ["sh", "-c", FOLLOW] and len(argv) >= 6:
                    offset = int(argv[5]) if argv[5].isdigit() else 0
                    code = await self.runs.follow(node.name, argv[4], offset, process.stdout.write)
                    process.exit(code)
                    return
                elif argv[:3] == ["sh", "-c", UNTAR] and len(argv) >= 5 and node.role == "manager":
                    data = await _read_all(process.stdin)
                    out, err, code = await runs.untar(own_fs, argv[4], data)
                elif argv[:1] == ["tar"] and "-cf" in argv and node.role == "backup":
                    base = argv[argv.index("-C") + 1] if "-C" in argv else ""
                    raw, err, code = await runs.pack(backup_fs, base)
                    process.stdout.write(raw)
                    if err:
                        process.stderr.write(err.encode())
                    process.exit(code)
                    return
                else:
                    out, err, code = await execute(argv)
                process.stdout.write(out.encode())
                if err:
                    process.stderr.write(err.encode())
                process.exit(code)
            except Exception as exc:  # noqa: BLE001 - a demo server must never take the app down
                with contextlib.suppress(Exception):
                    process.stderr.write(f"demo server error: {exc}\n".encode())
                    process.exit(1)

        return handle

    def _detached(self, node: DemoNode, argv: list[str]) -> tuple[str, str, int] | None:
        """The supervisor's protocol (tasks.servers.detached), answered in-process."""
        from tasks.release.emergency import DATA_ROOT, FIRST_ADDRESS
        from tasks.servers.detached import CANCEL, START, STATUS

        if argv == DATA_ROOT:
            return "/data\n", "", 0
        if argv == FIRST_ADDRESS:
            return f"{HOST}\n", "", 0
        if argv[:2] != ["sh", "-c"] or len(argv) < 5:
            return None
        script, args = argv[2], argv[4:]
        if script == START and len(args) >= 6:
            run_id, stdin_text, command = args[1], args[2], args[5:]
            action = self._action(node, command)
            if action is None:
                return (
                    "",
                    f"crvs-migrate: {command[0] if command else ''}: not on this demo server\n",
                    127,
                )
            return self.runs.start(node.name, run_id, stdin_text, action)
        if script == STATUS:
            return self.runs.status(node.name, args[0]), "", 0
        if script == CANCEL:
            return "", "", self.runs.cancel(node.name, args[0])
        return None

    def _action(self, node: DemoNode, command: list[str]):
        from tasks.demo import runs

        if node.role != "manager" or not command:
            return None
        script = command[1] if command[0] == "bash" and len(command) > 1 else ""
        if script.endswith("/emergency-backup-metadata.sh") and node.name == "manager1":
            return runs.backup_action(self.files.backup_fs, BACKUP_REMOTE_DIR, command)
        if script.endswith("/emergency-restore-metadata.sh"):
            return runs.restore_action(self.files.node_fs(node.name) / "data", command)
        if command[:3] == ["docker", "service", "update"]:
            return runs.service_update_action(command[-1])
        return None

    def _write_files(self, keys: dict[str, Any]) -> None:
        f = self.files
        lines = []
        for name, key in keys.items():
            if name in UNTRUSTED:
                continue
            lines.append(
                f"[{HOST}]:{self.ports[name]} {key.export_public_key('openssh').decode().strip()}"
            )
        # Rewritten each start (ports may change). A key the operator trusted for an
        # untrusted node stays trusted while its port and key are unchanged.
        old = f.known_hosts.read_text().splitlines() if f.known_hosts.exists() else []
        for name in UNTRUSTED:
            entry = f"[{HOST}]:{self.ports[name]} {keys[name].export_public_key('openssh').decode().strip()}"
            if any(ln.split()[:3] == entry.split()[:3] for ln in old if ln.strip()):
                lines.append(entry)
        _write(f.known_hosts, "\n".join(lines) + "\n")
        cfg = []
        for name, node in NODES.items():
            cfg += [
                f"Host demo-{name}",
                f"    HostName {HOST}",
                f"    Port {self.ports[name]}",
                f"    User {BACKUP_USER if node.role == 'backup' else USER}",
                f"    IdentityFile {f.client_key}",
                "    IdentitiesOnly yes",
                "",
            ]
        _write(f.ssh_config, "\n".join(cfg))
        _write(f.ports_file, json.dumps(self.ports, indent=2) + "\n")
        _write(f.inventory("production"), production_inventory(self.ports["backup"]))
        _write(f.inventory("qa"), QA_INVENTORY)
        _write(
            f.root / "README.txt",
            "crvs-migrate demo cluster (see tasks/demo/cluster.py).\n"
            f"  ssh -F {f.ssh_config} -o UserKnownHostsFile={f.known_hosts} demo-manager1 df -h\n"
            f"  crvs-migrate health -i {f.inventory('production')} --ssh-config {f.ssh_config} "
            f"--known-hosts {f.known_hosts}\n",
        )

    async def stop(self) -> None:
        await self.runs.stop()
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
        self._servers.clear()
        self.ready.clear()

    async def __aenter__(self) -> DemoCluster:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def production_inventory(backup_port: int) -> str:
    return f"""; crvs-migrate demo: production, 3 servers (like example-3.ini)
[docker-manager-first]
manager1 ansible_host=demo-manager1

[docker-workers]
worker1 ansible_host=demo-worker1
worker2 ansible_host=demo-worker2

[all:vars]
data1_hostname=manager1
data2_hostname=worker1
data3_hostname=worker2
external_backup_server_ip=demo-backup
external_backup_server_user={BACKUP_USER}
external_backup_server_ssh_port={backup_port}
external_backup_server_remote_directory={BACKUP_REMOTE_DIR}
manager_production_server_ip=demo-manager1
"""


QA_INVENTORY = """; crvs-migrate demo: QA, 1 server (like example-1.ini)
[docker-manager-first]
qa1 ansible_host=demo-qa1

[docker-workers]

[all:vars]
data1_hostname=qa1
"""


def _write(path: Path, text: str) -> None:
    from tasks.session.state import write_atomic

    write_atomic(path, text.encode("utf-8"))


def _key(asyncssh: Any, path: Path) -> Any:
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"crvs-demo-{path.name}")
    key.write_private_key(str(path))
    path.chmod(0o600)
    key.write_public_key(str(path) + ".pub")
    return key


async def _read_all(stream: Any, limit: int = 512 * 1024 * 1024) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        data = await stream.read(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)
        size += len(data)
        if size > limit:
            raise ValueError("too much data for the demo")


async def run_on_backup_fs(backup_fs: Path, argv: list[str]) -> tuple[str, str, int]:
    """Run a read-only file command for real, with absolute paths mapped into ``backup_fs``."""
    root = str(backup_fs.resolve())
    if argv[0] == "find" and any(a in _FIND_FORBIDDEN for a in argv):
        return "", "find: that action is not allowed on the demo backup server\n", 1
    mapped = [argv[0]]
    for arg in argv[1:]:
        if arg.startswith("/"):
            real = os.path.normpath(root + "/" + arg.lstrip("/"))
            if real != root and not real.startswith(root + "/"):
                return "", f"{argv[0]}: {arg}: Permission denied\n", 1
            mapped.append(real)
        elif ".." in Path(arg).parts:
            return "", f"{argv[0]}: {arg}: Permission denied\n", 1
        else:
            mapped.append(arg)
    try:
        proc = await asyncio.create_subprocess_exec(
            *mapped,
            cwd=root,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
        )
        out, err = await asyncio.wait_for(proc.communicate(), 10)
    except (OSError, TimeoutError) as exc:
        return "", f"{argv[0]}: {exc}\n", 1

    def unmap(data: bytes) -> str:
        return data.decode("utf-8", "replace").replace(root + "/", "/").replace(root, "/")

    return unmap(out), unmap(err), proc.returncode or 0


async def run_batch_script(script: str, execute: Any) -> tuple[str, str, int]:
    """The scripts ``tasks.servers.ssh.run_batch`` sends: ``[timeout -k 2 N] CMD ; printf MARK $? ;
    printf MARK >&2 ; ...``. Only that shape is understood (this is not a shell): each
    command goes through ``execute`` like a single command would.
    """
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";")
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token == ";":
            segments.append([])
        else:
            segments[-1].append(token)
    out, err, last = [], [], 0
    for seg in segments:
        if not seg:
            continue
        if seg[0] == "printf" and len(seg) == 4 and seg[3] == "$?":
            out.append(f"\n{seg[2]} {last}\n")
        elif seg[0] == "printf" and len(seg) == 4 and seg[3] == ">&2":
            err.append(f"\n{seg[2]}\n")
        else:
            argv = seg[4:] if seg[0] == "timeout" and len(seg) > 4 else seg
            o, e, last = await execute(argv)
            out.append(o)
            err.append(e)
    return "".join(out), "".join(err), last


async def _serve(cluster_dir: Path) -> None:
    async with DemoCluster(cluster_dir) as cluster:
        print(f"Demo cluster serving on {HOST}: {cluster.ports}")
        print((cluster.root / "README.txt").read_text())
        await asyncio.Event().wait()


if __name__ == "__main__":
    import sys

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-cluster")))
