"""Cluster health: what each node reports, what it means, and checking all nodes at once.

Three layers, each usable on its own:
  * parsers (pure): ``parse_df``, ``parse_meminfo``, ``parse_nproc``, ``parse_loadavg``,
    ``parse_uptime``, ``parse_docker_nodes``, ``parse_docker_services``. They raise
    ``Unparseable`` on output they cannot read; the check becomes "unknown" and keeps
    the raw text.
  * evaluation (pure): ``evaluate_node(node, outputs, policy, cluster_size)`` turns the
    commands' results into ``Check``s and one overall ``Health`` per node.
  * running: ``check_node`` over SSH (``tasks.servers.ssh``) and ``iter_cluster`` /
    ``check_cluster`` for every node concurrently under one overall deadline, results
    delivered as they arrive.

Thresholds (``HealthPolicy``), from the OpenCRVS 1.3 docs and operations guide:
  disk of ``/`` and ``/data``: warn at 70 % used; fail when free space is under
  ``needed_free_bytes`` (default 10 GiB: pulling the new release's images, ~5 GB, onto
  ``/`` and writing an emergency backup into ``/data/backups`` need room);
  memory: warn at 80 % used; total under 16 GB is a warning (a 16 GB server reports a
  little less as MemTotal, so the test is against 15 GiB); load average per CPU over 0.8
  (5 min) is a warning; on the manager every swarm node Ready and Active, as many as the
  cluster has, and every service at n/n replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import field, replace
from enum import StrEnum
from typing import Any, ClassVar

from tasks.lean import dataclass
from tasks.servers.inventory import Node, NodeEntry, Role, typed_node_entries, typed_nodes
from tasks.servers.resources import NodeResources
from tasks.servers.ssh import (
    CommandResult,
    FailureKind,
    HostKeyInfo,
    SshFailure,
    SshOptions,
    open_node,
    run_batch,
)
from tasks.session.state import Session, now_iso
from tasks.text import sanitize
from tasks.units import GIB, fmt_bytes, fmt_uptime

RAW_KEPT = 8 * 1024  # raw output kept per check in the session (the screen has it all)


class Health(StrEnum):
    PENDING = "pending"
    CHECKING = "checking"
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"
    UNTRUSTED = "untrusted"  # unknown host key: not checked until the operator trusts it
    SKIPPED = "skipped"

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def rank(self) -> int:
        """Severity for combining checks: the worst wins."""
        return _RANK[self]


_GLYPHS = {
    Health.PENDING: "○",
    Health.CHECKING: "◐",
    Health.PASS: "✓",
    Health.WARN: "▲",
    Health.FAIL: "✗",
    Health.UNKNOWN: "?",
    Health.UNTRUSTED: "⚿",
    Health.SKIPPED: "–",
}
_LABELS = {
    Health.PENDING: "pending",
    Health.CHECKING: "checking",
    Health.PASS: "ok",
    Health.WARN: "warning",
    Health.FAIL: "FAIL",
    Health.UNKNOWN: "unknown",
    Health.UNTRUSTED: "untrusted key",
    Health.SKIPPED: "skipped",
}
# UNKNOWN ranks above WARN: a node we know nothing about is not "nearly fine".
_RANK = {
    Health.SKIPPED: 0,
    Health.PASS: 1,
    Health.PENDING: 2,
    Health.CHECKING: 2,
    Health.WARN: 3,
    Health.UNKNOWN: 4,
    Health.UNTRUSTED: 5,
    Health.FAIL: 6,
}


def worst(statuses: Sequence[Health]) -> Health:
    return max(statuses, key=lambda s: s.rank, default=Health.PASS)


@dataclass(frozen=True)
class HealthPolicy:
    disk_warn_percent: float = 70.0
    needed_free_bytes: int = 10 * GIB
    memory_warn_percent: float = 80.0
    min_memory_bytes: int = 15 * GIB
    load_warn_per_cpu: float | None = 0.8
    data_mount: str = "/data"


# -- parsers (pure) -------------------------------------------------------------------


class Unparseable(ValueError):
    """The output is not what the command prints; the check is "unknown"."""


@dataclass(frozen=True)
class DiskUsage:
    path: str  # the path asked about (/ or /data)
    filesystem: str
    mount: str
    total_bytes: int
    used_bytes: int
    free_bytes: int

    @property
    def used_percent(self) -> float:
        # df's own rule: used / (used + available), the share a non-root user sees
        denominator = self.used_bytes + self.free_bytes
        return 100.0 * self.used_bytes / denominator if denominator else 0.0


def parse_df(text: str, paths: Sequence[str] = ("/", "/data")) -> dict[str, DiskUsage]:
    """``df -P -B1 PATH...``: one line per path asked, in order (POSIX format).

    A path df could not stat is missing from the result (df says so on stderr).
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].lower().startswith("filesystem"):
        raise Unparseable("no df header")
    rows: list[tuple[str, int, int, int, str]] = []
    for ln in lines[1:]:
        parts = ln.split()
        if len(parts) < 6:
            raise Unparseable(f"short df line: {ln[:80]!r}")
        # Filesystem names may contain spaces; the last five fields never do.
        fs = " ".join(parts[:-5])
        total_s, used_s, avail_s, cap_s, mount_s = parts[-5:]
        if not (
            total_s.isdigit() and used_s.isdigit() and avail_s.isdigit() and cap_s.endswith("%")
        ):
            raise Unparseable(f"unexpected df line: {ln[:80]!r}")
        rows.append((fs, int(total_s), int(used_s), int(avail_s), mount_s))
    result: dict[str, DiskUsage] = {}
    remaining = list(paths)
    for row in rows:
        fs_name, mounted = row[0], row[4]
        # df prints rows in the order of the paths given, skipping those it failed on.
        path = next((p for p in remaining if p == mounted or _under(p, mounted)), None)
        if path is None:
            continue
        remaining.remove(path)
        result[path] = DiskUsage(path, fs_name, mounted, row[1], row[2], row[3])
    if not result:
        raise Unparseable("df listed none of the filesystems asked for")
    return result


def _under(path: str, mount: str) -> bool:
    return mount == "/" or path == mount or path.startswith(mount.rstrip("/") + "/")


@dataclass(frozen=True)
class Memory:
    total_bytes: int
    available_bytes: int

    @property
    def used_percent(self) -> float:
        return 100.0 * (self.total_bytes - self.available_bytes) / self.total_bytes


def parse_meminfo(text: str) -> Memory:
    values: dict[str, int] = {}
    for ln in text.splitlines():
        m = re.match(r"^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$", ln)
        if m:
            values[m[1]] = int(m[2]) * 1024
    if "MemTotal" not in values or values["MemTotal"] <= 0:
        raise Unparseable("no MemTotal")
    available = values.get("MemAvailable")
    if available is None:
        # Kernels before 3.14: an estimate, as free(1) made it
        if "MemFree" not in values:
            raise Unparseable("no MemAvailable or MemFree")
        available = values["MemFree"] + values.get("Buffers", 0) + values.get("Cached", 0)
    return Memory(values["MemTotal"], min(available, values["MemTotal"]))


def parse_nproc(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or int(value) < 1:
        raise Unparseable("not a CPU count")
    return int(value)


@dataclass(frozen=True)
class Load:
    one: float
    five: float
    fifteen: float


def parse_loadavg(text: str) -> Load:
    parts = text.split()
    try:
        return Load(float(parts[0]), float(parts[1]), float(parts[2]))
    except (IndexError, ValueError):
        raise Unparseable("not /proc/loadavg") from None


def parse_uptime(text: str) -> float:
    """Seconds since boot from ``/proc/uptime``."""
    try:
        value = float(text.split()[0])
    except (IndexError, ValueError):
        raise Unparseable("not /proc/uptime") from None
    if value < 0:
        raise Unparseable("negative uptime")
    return value


@dataclass(frozen=True)
class SwarmNode:
    hostname: str
    status: str
    availability: str
    manager_status: str


DOCKER_NODE_FORMAT = "{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}"
DOCKER_SERVICE_FORMAT = "{{.Name}}\t{{.Mode}}\t{{.Replicas}}"


def parse_docker_nodes(text: str) -> list[SwarmNode]:
    """``docker node ls --format DOCKER_NODE_FORMAT``."""
    nodes = []
    for ln in text.splitlines():
        if not ln.strip():
            continue
        parts = ln.split("\t")
        if len(parts) != 4 or not parts[0].strip():
            raise Unparseable(f"unexpected docker node line: {ln[:80]!r}")
        nodes.append(SwarmNode(*(p.strip() for p in parts)))
    if not nodes:
        raise Unparseable("no swarm nodes listed")
    return nodes


@dataclass(frozen=True)
class Service:
    name: str
    mode: str
    running: int
    desired: int


# 1.3's services that run once per deploy and then show 0/1 (task state Complete): the
# migration (restart on-failure), mongo-on-update (restart none) and the two setup
# services, which exit and are restarted by swarm. Whether the migration itself finished
# well is judged from its task state and logs after a deploy (tasks.release.deploy).
ONE_SHOT_SERVICES = frozenset(
    {
        "opencrvs_migration",
        "opencrvs_mongo-on-update",
        "opencrvs_setup-elasticsearch-users",
        "opencrvs_setup-kibana-config",
    }
)


def is_one_shot(service: Service) -> bool:
    """A job-mode service, or one of 1.3's run-once services: 0/n after its run is no fault."""
    return "job" in service.mode.lower() or service.name in ONE_SHOT_SERVICES


def parse_docker_services(text: str) -> list[Service]:
    """``docker service ls --format DOCKER_SERVICE_FORMAT``; replicas like ``3/3 (max 1 per node)``."""
    services = []
    for ln in text.splitlines():
        if not ln.strip():
            continue
        parts = ln.split("\t")
        m = re.match(r"^\s*(\d+)/(\d+)", parts[2]) if len(parts) == 3 else None
        if not m or not parts[0].strip():
            raise Unparseable(f"unexpected docker service line: {ln[:80]!r}")
        services.append(Service(parts[0].strip(), parts[1].strip(), int(m[1]), int(m[2])))
    return services


# -- what runs on a node --------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    key: str
    argv: tuple[str, ...]


def disk_paths(node: Node, policy: HealthPolicy) -> tuple[str, ...]:
    # The backup server keeps backups in its own directory, not on an OpenCRVS /data.
    return ("/",) if node.role is Role.BACKUP else ("/", policy.data_mount)


def probes_for(node: Node, policy: HealthPolicy = HealthPolicy()) -> list[Probe]:
    probes = [
        Probe("disk", ("df", "-P", "-B1", *disk_paths(node, policy))),
        Probe("memory", ("cat", "/proc/meminfo")),
        Probe("cpus", ("nproc",)),
        Probe("load", ("cat", "/proc/loadavg")),
        Probe("uptime", ("cat", "/proc/uptime")),
    ]
    if node.role is Role.MANAGER:
        probes += [
            Probe("swarm_nodes", ("docker", "node", "ls", "--format", DOCKER_NODE_FORMAT)),
            Probe("swarm_services", ("docker", "service", "ls", "--format", DOCKER_SERVICE_FORMAT)),
        ]
    return probes


# -- evaluation (pure) ----------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    key: str  # disk, memory, cpus, uptime, swarm
    status: Health
    summary: str  # short, for the table
    detail: str = ""  # why, for the details view and the report
    raw: str = ""  # sanitised output of the command(s)

    def to_state(self) -> dict[str, Any]:
        data = {"key": self.key, "status": self.status.value, "summary": self.summary}
        if self.detail:
            data["detail"] = self.detail
        if self.raw:
            data["raw"] = self.raw[:RAW_KEPT]
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Check:
        return cls(
            str(data["key"]),
            Health(data.get("status", Health.UNKNOWN)),
            str(data.get("summary", "")),
            str(data.get("detail", "")),
            str(data.get("raw", "")),
        )


@dataclass(frozen=True)
class NodeHealth:
    node: Node
    status: Health
    reason: str = ""
    checks: tuple[Check, ...] = ()
    checked_at: str = ""
    duration_s: float | None = None
    failure: str | None = None  # tasks.servers.ssh.FailureKind when the node could not be checked
    host_key: HostKeyInfo | None = None
    resources: NodeResources | None = None

    def check(self, key: str) -> Check | None:
        return next((c for c in self.checks if c.key == key), None)

    def summary(self, key: str) -> str:
        c = self.check(key)
        return c.summary if c else ""

    def to_state(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "node": self.node.to_state(),
            "status": self.status.value,
            "reason": self.reason,
            "checked_at": self.checked_at,
            "checks": [c.to_state() for c in self.checks],
        }
        if self.duration_s is not None:
            data["duration_s"] = round(self.duration_s, 3)
        if self.failure:
            data["failure"] = self.failure
        if self.host_key:
            data["host_key"] = self.host_key.to_state()
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> NodeHealth:
        return cls(
            node=Node.from_state(data["node"]),
            status=Health(data.get("status", Health.UNKNOWN)),
            reason=str(data.get("reason", "")),
            checks=tuple(
                Check.from_state(c) for c in data.get("checks", []) if isinstance(c, dict)
            ),
            checked_at=str(data.get("checked_at", "")),
            duration_s=data.get("duration_s"),
            failure=data.get("failure"),
            host_key=HostKeyInfo.from_state(data["host_key"]) if data.get("host_key") else None,
        )


def _raw(result: CommandResult | None) -> str:
    if result is None:
        return ""
    parts = [f"$ {result.command}"]
    if result.stdout:
        parts.append(sanitize(result.stdout).rstrip("\n"))
    if result.stderr:
        parts.append("[stderr] " + sanitize(result.stderr).rstrip("\n"))
    if result.timed_out:
        parts.append(f"[timed out after {result.duration_s:.1f}s]")
    elif result.truncated:
        parts.append("[output too long: cut]")
    else:
        parts.append(f"[exit {result.exit_status}]")
    return "\n".join(parts)


def _unknown(key: str, result: CommandResult | None, why: str) -> Check:
    if result is not None and result.timed_out:
        why = f"the command timed out after {result.duration_s:.0f}s"
    return Check(key, Health.UNKNOWN, "unknown", why, _raw(result))


def evaluate_disk(
    result: CommandResult | None, policy: HealthPolicy, paths: tuple[str, ...] | None = None
) -> tuple[Check, DiskUsage | None]:
    paths = paths or ("/", policy.data_mount)
    if result is None or result.timed_out:
        return _unknown("disk", result, "no answer"), None
    try:
        disks = parse_df(result.stdout, paths)
    except Unparseable as exc:
        return _unknown("disk", result, f"cannot read df output ({exc})"), None
    statuses, notes, summary = [], [], []
    for path in paths:
        d = disks.get(path)
        if d is None:
            statuses.append(Health.WARN)
            notes.append(
                f"{path} not found: OpenCRVS keeps its data on the encrypted {path}; "
                "is it mounted (after a reboot it must be unlocked)?"
            )
            summary.append(f"{path} missing")
            continue
        if path != "/" and d.mount != path:
            notes.append(f"{path} is not a separate filesystem (it is on {d.mount})")
        pct = d.used_percent
        if d.free_bytes < policy.needed_free_bytes:
            statuses.append(Health.FAIL)
            notes.append(
                f"{path}: only {fmt_bytes(d.free_bytes)} free, the upgrade needs "
                f"{fmt_bytes(policy.needed_free_bytes)}"
            )
        elif pct >= policy.disk_warn_percent:
            statuses.append(Health.WARN)
            notes.append(
                f"{path} is {pct:.0f}% used (OpenCRVS keeps disks under {policy.disk_warn_percent:.0f}%)"
            )
        else:
            statuses.append(Health.PASS)
        summary.append(f"{path} {pct:.0f}%")
    data = disks.get(policy.data_mount) or disks.get("/")
    return Check("disk", worst(statuses), " ".join(summary), "; ".join(notes), _raw(result)), data


def evaluate_memory(
    result: CommandResult | None, policy: HealthPolicy, node: Node
) -> tuple[Check, Memory | None]:
    if result is None or result.timed_out:
        return _unknown("memory", result, "no answer"), None
    try:
        mem = parse_meminfo(result.stdout)
    except Unparseable as exc:
        return _unknown("memory", result, f"cannot read /proc/meminfo ({exc})"), None
    status, notes = Health.PASS, []
    if mem.used_percent >= policy.memory_warn_percent:
        status = Health.WARN
        notes.append(
            f"{mem.used_percent:.0f}% of memory in use (keep under {policy.memory_warn_percent:.0f}%)"
        )
    if node.role is not Role.BACKUP and mem.total_bytes < policy.min_memory_bytes:
        status = Health.WARN
        notes.append(
            f"only {fmt_bytes(mem.total_bytes)} of RAM; OpenCRVS 1.3 asks for 16 GB per server"
        )
    summary = f"{mem.used_percent:.0f}% of {fmt_bytes(mem.total_bytes)}"
    return Check("memory", status, summary, "; ".join(notes), _raw(result)), mem


def evaluate_cpu(
    nproc: CommandResult | None, load: CommandResult | None, policy: HealthPolicy
) -> Check:
    raw = "\n".join(r for r in (_raw(nproc), _raw(load)) if r)
    try:
        cpus = parse_nproc(nproc.stdout if nproc else "")
    except Unparseable as exc:
        return Check("cpus", Health.UNKNOWN, "unknown", f"cannot read nproc ({exc})", raw)
    try:
        avg = parse_loadavg(load.stdout if load else "")
    except Unparseable:
        return Check("cpus", Health.UNKNOWN, f"{cpus} · load ?", "cannot read /proc/loadavg", raw)
    status, detail = Health.PASS, ""
    if policy.load_warn_per_cpu is not None and avg.five / cpus >= policy.load_warn_per_cpu:
        status = Health.WARN
        detail = f"load average {avg.five:.2f} over 5 min on {cpus} CPUs (keep CPU under 80%)"
    return Check("cpus", status, f"{cpus} · load {avg.one:.2f}", detail, raw)


def _cpus(nproc: CommandResult | None) -> int | None:
    try:
        return parse_nproc(nproc.stdout) if nproc else None
    except Unparseable:
        return None


def evaluate_uptime(result: CommandResult | None) -> Check:
    try:
        seconds = parse_uptime(result.stdout if result else "")
    except Unparseable:
        return _unknown("uptime", result, "cannot read /proc/uptime")
    return Check("uptime", Health.PASS, fmt_uptime(seconds), "", _raw(result))


def _docker_problem(result: CommandResult) -> str | None:
    text = (result.stderr + result.stdout).lower()
    if result.exit_status == 127 or "command not found" in text or "docker: not found" in text:
        return "docker not available (not installed or not on PATH)"
    if "cannot connect to the docker daemon" in text:
        return "docker not available: the Docker daemon is not running"
    if "permission denied" in text:
        return "docker not available to this user: permission denied on the Docker socket"
    if "not a swarm manager" in text or "this node is not a swarm" in text:
        return "this node is not a swarm manager"
    return None


def evaluate_swarm(
    nodes_result: CommandResult | None,
    services_result: CommandResult | None,
    cluster_size: int | None,
) -> Check:
    raw = "\n".join(r for r in (_raw(nodes_result), _raw(services_result)) if r)
    if nodes_result is None or nodes_result.timed_out:
        return Check("swarm", Health.UNKNOWN, "unknown", "docker node ls did not answer", raw)
    if nodes_result.exit_status != 0:
        problem = _docker_problem(nodes_result)
        if problem and problem.startswith("docker not available"):
            return Check("swarm", Health.UNKNOWN, "docker n/a", problem, raw)
        if problem:
            return Check("swarm", Health.FAIL, "not manager", problem, raw)
        return Check(
            "swarm",
            Health.UNKNOWN,
            "unknown",
            f"docker node ls exited {nodes_result.exit_status}",
            raw,
        )
    try:
        swarm = parse_docker_nodes(nodes_result.stdout)
    except Unparseable as exc:
        return Check("swarm", Health.UNKNOWN, "unknown", f"cannot read docker node ls ({exc})", raw)
    problems = [
        f"{n.hostname} is {n.status}/{n.availability}"
        for n in swarm
        if n.status.lower() != "ready" or n.availability.lower() != "active"
    ]
    ready = len(swarm) - len(problems)
    if cluster_size is not None and len(swarm) != cluster_size:
        problems.append(f"the swarm has {len(swarm)} nodes, the inventory {cluster_size}")
    summary = f"{ready}/{len(swarm)} nodes"
    status = Health.FAIL if problems else Health.PASS
    if services_result is None or services_result.timed_out or services_result.exit_status != 0:
        problems.append("docker service ls failed")
        return Check("swarm", worst([status, Health.UNKNOWN]), summary, "; ".join(problems), raw)
    try:
        services = parse_docker_services(services_result.stdout)
    except Unparseable as exc:
        problems.append(f"cannot read docker service ls ({exc})")
        return Check("swarm", worst([status, Health.UNKNOWN]), summary, "; ".join(problems), raw)
    down = [s for s in services if s.running != s.desired and not is_one_shot(s)]
    if down:
        status = Health.FAIL
        problems.append(
            "services not at full replicas: "
            + ", ".join(f"{s.name} {s.running}/{s.desired}" for s in down[:6])
            + (f" and {len(down) - 6} more" if len(down) > 6 else "")
        )
    summary += f" · {len(services) - len(down)}/{len(services)} svc"
    return Check("swarm", status, summary, "; ".join(problems), raw)


def evaluate_node(
    node: Node,
    results: dict[str, CommandResult],
    policy: HealthPolicy = HealthPolicy(),
    cluster_size: int | None = None,
    checked_at: str | None = None,
    duration_s: float | None = None,
) -> NodeHealth:
    disk, disk_usage = evaluate_disk(results.get("disk"), policy, disk_paths(node, policy))
    memory, mem = evaluate_memory(results.get("memory"), policy, node)
    checks = [disk, memory, evaluate_cpu(results.get("cpus"), results.get("load"), policy)]
    checks.append(evaluate_uptime(results.get("uptime")))
    if node.role is Role.MANAGER:
        checks.append(
            evaluate_swarm(results.get("swarm_nodes"), results.get("swarm_services"), cluster_size)
        )
    rated = [c.status for c in checks if c.key != "uptime"]
    reasons = [
        c.detail
        for c in checks
        if c.status in (Health.FAIL, Health.WARN, Health.UNKNOWN) and c.detail
    ]
    if all(c.status is Health.UNKNOWN for c in checks):
        # No data is not healthy: nothing the node said could be read.
        status = Health.UNKNOWN
        reasons.insert(0, "the node reported nothing readable: not checked")
    else:
        status = worst([r for r in rated if r is not Health.UNKNOWN])
        if Health.UNKNOWN in rated and status.rank < Health.WARN.rank:
            status = Health.WARN  # something could not be read: not a pass
    at = checked_at or now_iso()
    resources = NodeResources(
        node=node.name,
        checked_at=at,
        ram_total_bytes=mem.total_bytes if mem else None,
        ram_available_bytes=mem.available_bytes if mem else None,
        disk_total_bytes=disk_usage.total_bytes if disk_usage else None,
        disk_free_bytes=disk_usage.free_bytes if disk_usage else None,
        cpus=_cpus(results.get("cpus")),
    )
    return NodeHealth(
        node=node,
        status=status,
        reason="; ".join(reasons),
        checks=tuple(checks),
        checked_at=at,
        duration_s=duration_s,
        resources=resources,
    )


# -- running over SSH -----------------------------------------------------------------


def failed(node: Node, failure: SshFailure | str, kind: str | None = None) -> NodeHealth:
    if isinstance(failure, SshFailure):
        status = Health.UNTRUSTED if failure.kind is FailureKind.UNKNOWN_HOST_KEY else Health.FAIL
        return NodeHealth(
            node,
            status,
            reason=sanitize(f"{failure.title}: {failure.message}"),
            checked_at=now_iso(),
            failure=failure.kind.value,
            host_key=failure.host_key,
        )
    return NodeHealth(node, Health.FAIL, reason=failure, checked_at=now_iso(), failure=kind)


async def check_node(
    node: Node,
    options: SshOptions,
    policy: HealthPolicy = HealthPolicy(),
    cluster_size: int | None = None,
) -> NodeHealth:
    """Connect, run every probe concurrently on the one connection, evaluate."""
    started = time.monotonic()
    try:
        async with open_node(node, options) as conn:
            probes = probes_for(node, policy)
            # One channel per node (not one per command): half the work for every sshd.
            outputs = await run_batch(conn, [p.argv for p in probes], options.command_timeout)
    except SshFailure as exc:
        return replace(failed(node, exc), duration_s=time.monotonic() - started)
    results = {p.key: r for p, r in zip(probes, outputs, strict=True)}
    return evaluate_node(node, results, policy, cluster_size, duration_s=time.monotonic() - started)


def cluster_size_of(nodes: Sequence[Node]) -> int:
    return sum(1 for n in nodes if n.role is not Role.BACKUP)


async def iter_cluster(
    nodes: Sequence[Node],
    options: SshOptions,
    policy: HealthPolicy = HealthPolicy(),
    deadline_s: float = 60.0,
    cluster_size: int | None = None,
) -> AsyncIterator[NodeHealth]:
    """Check every node at once; yield each result as soon as it is in.

    A node still running at the overall deadline is yielded as a timeout failure;
    one node's slowness never holds back the others' results.
    """
    size = cluster_size if cluster_size is not None else cluster_size_of(nodes)
    tasks = {asyncio.ensure_future(check_node(n, options, policy, size)): n for n in nodes}
    end = time.monotonic() + deadline_s
    pending = set(tasks)
    try:
        while pending:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            done, pending = await asyncio.wait(
                pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                node = tasks[task]
                exc = task.exception()
                if exc is not None:
                    # A bug must not hide the other nodes: one red row with the error. Its
                    # type only: an exception's repr can carry the bytes of a file.
                    yield failed(
                        node, f"internal error while checking ({type(exc).__name__})", "error"
                    )
                else:
                    yield task.result()
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await task
            yield failed(
                tasks[task],
                f"Timed out: no result within the overall deadline of {deadline_s:g}s",
                FailureKind.TIMEOUT.value,
            )
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()


async def check_cluster(
    nodes: Sequence[Node],
    options: SshOptions,
    policy: HealthPolicy = HealthPolicy(),
    deadline_s: float = 60.0,
    on_result: Callable[[NodeHealth], None] | None = None,
    cluster_size: int | None = None,
) -> list[NodeHealth]:
    """All results, in the nodes' order; ``on_result`` is called as each arrives."""
    by_name: dict[str, NodeHealth] = {}
    async for result in iter_cluster(nodes, options, policy, deadline_s, cluster_size):
        by_name[result.node.name] = result
        if on_result is not None:
            on_result(result)
    return [by_name[n.name] for n in nodes if n.name in by_name]


def overall(results: Sequence[NodeHealth]) -> Health:
    """The cluster's status: the worst node's. An untrusted or unknown node fails the cluster."""
    status = worst([r.status for r in results]) if results else Health.UNKNOWN
    return Health.FAIL if status in (Health.UNTRUSTED, Health.UNKNOWN) and results else status


def exit_code(results: Sequence[NodeHealth]) -> int:
    """For cron and CI: 0 all pass, 1 warnings, 2 failures (an unchecked or unknown node is
    a failure)."""
    status = overall(results)
    if status is Health.PASS:
        return 0
    if status is Health.WARN:
        return 1
    return 2


# -- the session (health section) and the report --------------------------------------


@dataclass
class HealthSnapshot:
    environment: str
    checked_at: str
    results: list[NodeHealth] = field(default_factory=list)
    source: str = ""  # inventory path, or "typed nodes"
    # Evidence for the production gate (QA after the restore): tasks.session.seal.
    seal: str = ""
    # The inventory file the nodes were read from ("" for typed nodes only).
    inventory: str = ""

    def seal_table(self) -> dict[str, Any]:
        """What the seal covers: the environment, the time, and each node's verdict."""
        return {
            "environment": self.environment,
            "checked_at": self.checked_at,
            "status": self.status.value,
            "nodes": [[r.node.name, r.node.host, r.status.value] for r in self.results],
        }

    @property
    def status(self) -> Health:
        return overall(self.results)

    def to_state(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "checked_at": self.checked_at,
            "source": self.source,
            "status": self.status.value,
            "nodes": [r.to_state() for r in self.results],
            **({"seal": self.seal} if self.seal else {}),
            **({"inventory": self.inventory} if self.inventory else {}),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> HealthSnapshot:
        results = []
        for r in data.get("nodes", []):
            with contextlib.suppress(KeyError, ValueError, TypeError):
                results.append(NodeHealth.from_state(r))
        return cls(
            str(data.get("environment", "")),
            str(data.get("checked_at", "")),
            results,
            str(data.get("source", "")),
            str(data.get("seal", "")),
            str(data.get("inventory", "")),
        )


@dataclass
class HealthRecord:
    """``session.health``: what Cluster health shows and last found, per environment."""

    KEY: ClassVar[str] = "health"

    # The environment Cluster health shows ("" until the operator picks one).
    environment: str = ""
    # Re-check every N seconds (0: off).
    auto_refresh_s: int = 0
    snapshots: dict[str, HealthSnapshot] = field(default_factory=dict)
    # Free disk and memory per node as last measured: Prepare fills its answers from it.
    resources: dict[str, list[NodeResources]] = field(default_factory=dict)
    # Nodes the operator typed in Cluster health (beside or instead of an inventory), as
    # typed: validated again whenever they are used (a session file can be edited by hand).
    nodes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session) -> HealthRecord:
        return session.section(cls)

    def typed_node_entries(self, environment: str) -> list[NodeEntry]:
        """Every typed node, a bad one as an entry with its error (one red row)."""
        return typed_node_entries(self.nodes.get(environment, []))

    def typed_nodes(self, environment: str) -> list[Node]:
        """The typed nodes; ``InventoryError`` if one is not valid (never a partial list)."""
        return typed_nodes(self.nodes.get(environment, []))

    def set_typed_nodes(self, environment: str, nodes: list[Node]) -> None:
        self.nodes[environment] = [n.to_state() for n in nodes]

    def to_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.environment:
            out["environment"] = self.environment
        if self.auto_refresh_s:
            out["auto_refresh_s"] = self.auto_refresh_s
        if self.snapshots:
            out["snapshots"] = {env: s.to_state() for env, s in self.snapshots.items()}
        if self.resources:
            out["resources"] = {
                env: [r.to_state() for r in rows] for env, rows in self.resources.items()
            }
        if self.nodes:
            out["nodes"] = {env: list(rows) for env, rows in self.nodes.items()}
        return out

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> HealthRecord:
        def table(key: str) -> dict[str, Any]:
            value = data.get(key, {})
            if not isinstance(value, dict):
                raise ValueError(f"'{key}' must be a table")
            return value

        record = cls(
            environment=str(data.get("environment", "")),
            auto_refresh_s=_whole(data.get("auto_refresh_s")),
        )
        for env, snap in table("snapshots").items():
            if isinstance(snap, dict):
                record.snapshots[str(env)] = HealthSnapshot.from_state(snap)
        for env, rows in table("resources").items():
            record.resources[str(env)] = [
                NodeResources.from_state(r)
                for r in (rows if isinstance(rows, list) else [])
                if isinstance(r, dict) and "node" in r
            ]
        for env, rows in table("nodes").items():
            record.nodes[str(env)] = (
                [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
            )
        return record


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def save_snapshot(session: Session, snapshot: HealthSnapshot) -> None:
    """Record a run (sealed: it is evidence) and hand the nodes' resources to Prepare."""
    from tasks.session.seal import seal_table

    table = snapshot.seal_table()
    snapshot.seal = seal_table(session.session_id, f"health.{snapshot.environment}", table)
    record = HealthRecord.of(session)
    record.snapshots[snapshot.environment] = snapshot
    resources = [r.resources for r in snapshot.results if r.resources is not None]
    if resources:
        record.resources[snapshot.environment] = resources


def snapshot_sealed(session: Session, snapshot: HealthSnapshot) -> bool:
    """The snapshot is as crvs-migrate saved it (not edited by hand)."""
    from tasks.session.seal import table_is_sealed

    table = {**snapshot.seal_table(), "seal": snapshot.seal}
    return table_is_sealed(session.session_id, f"health.{snapshot.environment}", table)


def load_snapshot(session: Session, environment: str) -> HealthSnapshot | None:
    return HealthRecord.of(session).snapshots.get(environment)


def load_snapshots(session: Session) -> list[HealthSnapshot]:
    return list(HealthRecord.of(session).snapshots.values())


def load_node_resources(session: Session, environment: str) -> list[NodeResources]:
    """Free disk and memory per node of ``environment``, as last measured."""
    return list(HealthRecord.of(session).resources.get(environment, []))


def snapshot_markdown(snapshot: HealthSnapshot) -> str:
    """A Markdown section for the report (untrusted text already sanitised; pipes escaped)."""

    def cell(text: str) -> str:
        return sanitize(text).replace("|", "\\|").replace("\n", " ")

    lines = [
        f"### Cluster health: {snapshot.environment} ({snapshot.status.glyph} {snapshot.status.label})",
        "",
        f"Checked {snapshot.checked_at}" + (f" from {snapshot.source}" if snapshot.source else ""),
        "",
        "| node | role | address | status | disk | memory | CPUs | swarm | reason |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in snapshot.results:
        lines.append(
            "| "
            + " | ".join(
                cell(x)
                for x in (
                    r.node.name,
                    r.node.role.value,
                    r.node.address,
                    f"{r.status.glyph} {r.status.label}",
                    r.summary("disk"),
                    r.summary("memory"),
                    r.summary("cpus"),
                    r.summary("swarm"),
                    r.reason,
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"
