"""The nodes of a cluster: an Ansible INI inventory, or nodes typed in the app.

The reader follows Ansible's own INI inventory rules (``ansible/plugins/inventory/ini.py``):
sections ``[group]``, ``[group:vars]`` and ``[group:children]``, hosts before any section
belong to ``ungrouped``, host lines are split like a shell would (``shlex``) into a host
pattern and ``key=value`` variables, ``#`` and ``;`` start comment lines, and a host may be
``name:port`` or a numeric range ``worker[1:3]``. Variables resolve as Ansible does:
``all`` first, then parent groups before child groups, then the host's own.

OpenCRVS specifics: ``docker-manager-first`` is the manager, ``docker-workers`` the
workers, ``ansible_user`` defaults to ``root`` (``group_vars/all.yml``) and the backup
server comes from ``external_backup_server_ip`` / ``_user`` / ``_ssh_port``.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tasks.errors import CrvsError

DEFAULT_USER = "root"  # group_vars/all.yml in opencrvs-countryconfig
ENVIRONMENTS = ("qa", "production")

_SECTION = re.compile(r"^\[(?P<name>[^\]:\s]+)(?::(?P<kind>[^\]\s]*))?\]\s*(?:[#;].*)?$")
_RANGE = re.compile(
    r"^(?P<head>[^\[\]]*)\[(?P<start>\d+):(?P<end>\d+)(?::(?P<step>\d+))?\](?P<tail>[^\[\]]*)$"
)
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


class Role(StrEnum):
    MANAGER = "manager"
    WORKER = "worker"
    BACKUP = "backup"
    NODE = "node"


class InventoryError(CrvsError):
    """The inventory file cannot be read; says which line and why."""

    title = "The inventory cannot be read"

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Node:
    """One server to check: where to connect and what it is in the cluster."""

    name: str
    host: str
    role: Role = Role.NODE
    port: int | None = None
    user: str | None = None
    key_file: str | None = None
    # Typed in the app, rather than read from an inventory.
    typed: bool = False

    @property
    def address(self) -> str:
        port = f":{self.port}" if self.port else ""
        user = f"{self.user}@" if self.user else ""
        return f"{user}{self.host}{port}"

    @property
    def in_swarm(self) -> bool:
        return self.role in (Role.MANAGER, Role.WORKER, Role.NODE)

    def to_state(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "host": self.host, "role": self.role.value}
        if self.port:
            data["port"] = self.port
        if self.user:
            data["user"] = self.user
        if self.key_file:
            data["key_file"] = self.key_file
        if self.typed:
            data["typed"] = True
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Node:
        return cls(
            name=str(data.get("name") or data["host"]),
            host=str(data["host"]),
            role=Role(data.get("role", Role.NODE)),
            port=int(data["port"]) if data.get("port") else None,
            user=str(data["user"]) if data.get("user") else None,
            key_file=str(data["key_file"]) if data.get("key_file") else None,
            typed=bool(data.get("typed", False)),
        )


@dataclass
class _Group:
    name: str
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    var_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Inventory:
    source: str
    groups: dict[str, _Group]
    # host name -> its own variables, and the line each host was first declared on
    host_vars: dict[str, dict[str, Any]]
    host_lines: dict[str, int]

    @property
    def hosts(self) -> list[str]:
        return list(self.host_vars)

    def group_hosts(self, group: str) -> list[str]:
        """Hosts of ``group`` and of its children, in file order."""
        if group == "all":
            return self.hosts
        members = {h for g in self._closure(group) for h in self.groups[g].hosts}
        return [h for h in self.hosts if h in members]

    def _closure(self, group: str) -> list[str]:
        out: list[str] = []
        stack = [group]
        while stack:
            g = stack.pop()
            if g in out or g not in self.groups:
                continue
            out.append(g)
            stack.extend(self.groups[g].children)
        return out

    def _ancestors(self, host: str) -> list[tuple[int, str]]:
        """(depth, group) for every group the host is in, directly or through children."""
        parents: dict[str, list[str]] = {}
        for group in self.groups.values():
            for c in group.children:
                parents.setdefault(c, []).append(group.name)
        result: dict[str, int] = {}
        frontier = [(0, group.name) for group in self.groups.values() if host in group.hosts]
        while frontier:
            depth, name = frontier.pop()
            if name in result and result[name] >= depth:
                continue
            result[name] = depth
            frontier.extend((depth + 1, p) for p in parents.get(name, []))
        return [(d, name) for name, d in result.items()]

    def vars_for(self, host: str) -> dict[str, Any]:
        """Variables of ``host`` with Ansible's precedence."""
        merged: dict[str, Any] = {"ansible_user": DEFAULT_USER}
        merged.update(self.groups["all"].vars)
        # Farther ancestors first, so a child group's vars win over its parent's.
        for _depth, g in sorted(self._ancestors(host), key=lambda dg: (-dg[0], dg[1])):
            if g != "all":
                merged.update(self.groups[g].vars)
        merged.update(self.host_vars[host])
        return merged

    @property
    def all_vars(self) -> dict[str, Any]:
        return dict(self.groups["all"].vars)

    def role_of(self, host: str) -> Role:
        names = {g for _d, g in self._ancestors(host)}
        if any("manager" in g for g in names):
            return Role.MANAGER
        if any("worker" in g for g in names):
            return Role.WORKER
        return Role.NODE

    def nodes(self) -> list[Node]:
        """Every cluster node (manager first), then the backup server if configured."""
        nodes = [self._node(h) for h in self.hosts]
        nodes.sort(key=lambda n: {Role.MANAGER: 0, Role.WORKER: 1}.get(n.role, 2))
        backup = self.backup_server()
        if backup is not None and all(n.host != backup.host for n in nodes):
            nodes.append(backup)
        return nodes

    def _node(self, host: str) -> Node:
        v = self.vars_for(host)
        line = self.host_lines.get(host)
        return Node(
            name=host,
            host=str(v.get("ansible_host") or host),
            role=self.role_of(host),
            port=_port(v.get("ansible_port") or v.get("ansible_ssh_port"), self.source, line),
            user=str(v.get("ansible_user") or DEFAULT_USER),
            key_file=_str_or_none(v.get("ansible_ssh_private_key_file")),
        )

    def backup_server(self) -> Node | None:
        v = self.all_vars
        ip = _str_or_none(v.get("external_backup_server_ip"))
        if not ip:
            return None
        line = self.groups["all"].var_lines.get("external_backup_server_ssh_port")
        return Node(
            name="backup",
            host=ip,
            role=Role.BACKUP,
            port=_port(v.get("external_backup_server_ssh_port"), self.source, line),
            user=_str_or_none(v.get("external_backup_server_user")) or DEFAULT_USER,
            key_file=_str_or_none(v.get("ansible_ssh_private_key_file")),
        )

    @property
    def cluster_size(self) -> int:
        return sum(1 for n in self.nodes() if n.role is not Role.BACKUP)


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _port(value: Any, source: str, line: int | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        port = int(str(value))
    except ValueError:
        raise InventoryError(source, line, f"port '{value}' is not a number") from None
    if not 0 < port < 65536:
        raise InventoryError(source, line, f"port {port} is out of range (1-65535)")
    return port


def _value(raw: str) -> Any:
    """Ansible's ``_parse_value``: a Python literal when it is one, else the text."""
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw
    return value if isinstance(value, str | int | float | bool) else raw


def _expand(pattern: str, source: str, line: int) -> list[str]:
    m = _RANGE.match(pattern)
    if "[" not in pattern and "]" not in pattern:
        return [pattern]
    if not m:
        raise InventoryError(source, line, f"host range '{pattern}' is not of the form name[1:3]")
    start, end = m["start"], m["end"]
    step = int(m["step"] or 1)
    if int(end) < int(start) or step < 1:
        raise InventoryError(source, line, f"host range '{pattern}' is empty")
    width = len(start) if start.startswith("0") else 0
    return [
        f"{m['head']}{str(i).zfill(width)}{m['tail']}"
        for i in range(int(start), int(end) + 1, step)
    ]


def parse_inventory(text: str, source: str = "<inventory>") -> Inventory:
    """Parse Ansible INI inventory ``text``; raises ``InventoryError`` naming the line."""
    groups: dict[str, _Group] = {"all": _Group("all"), "ungrouped": _Group("ungrouped")}
    host_vars: dict[str, dict[str, Any]] = {}
    host_lines: dict[str, int] = {}
    section, kind = "ungrouped", "hosts"

    def group(name: str, line: int) -> _Group:
        if not _NAME.match(name):
            raise InventoryError(source, line, f"'{name}' is not a valid group name")
        return groups.setdefault(name, _Group(name))

    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            m = _SECTION.match(line)
            if not m:
                raise InventoryError(source, n, f"malformed section header {line!r}")
            section, kind = m["name"], (m["kind"] or "hosts")
            if kind not in ("hosts", "vars", "children"):
                raise InventoryError(
                    source,
                    n,
                    f"section [{section}:{kind}] has unknown type '{kind}' "
                    "(expected :vars or :children)",
                )
            group(section, n)
            continue
        if kind == "vars":
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or not key or not _NAME.match(key):
                raise InventoryError(
                    source, n, f"expected key=value in [{section}:vars], got {line!r}"
                )
            value = value.strip()
            # a trailing comment after a value, as Ansible allows (outside quotes)
            if value[:1] not in ("'", '"'):
                value = re.split(r"\s+[#;]", value, maxsplit=1)[0]
            groups[section].vars[key] = _value(value)
            groups[section].var_lines[key] = n
            continue
        try:
            tokens = shlex.split(line, comments=True, posix=True)
        except ValueError as exc:  # unbalanced quotes
            raise InventoryError(source, n, f"cannot split the line ({exc})") from None
        if not tokens:
            continue
        if kind == "children":
            if len(tokens) != 1:
                raise InventoryError(
                    source, n, f"expected one group name in [{section}:children], got {line!r}"
                )
            child = group(tokens[0], n).name
            if child == section:
                raise InventoryError(source, n, f"group '{section}' cannot be its own child")
            if child not in groups[section].children:
                groups[section].children.append(child)
            continue
        pattern, *assignments = tokens
        port: int | None = None
        if pattern.count(":") == 1 and not pattern.endswith("]"):
            pattern, port_text = pattern.split(":")
            port = _port(port_text, source, n)
        variables: dict[str, Any] = {}
        for token in assignments:
            key, sep, value = token.partition("=")
            if not sep or not key:
                raise InventoryError(source, n, f"expected key=value host variable, got {token!r}")
            variables[key] = _value(value) if value[:1] not in "'\"" else value
        if port is not None:
            variables.setdefault("ansible_port", port)
        if "ansible_port" in variables:
            _port(variables["ansible_port"], source, n)
        for host in _expand(pattern, source, n):
            if not _NAME.match(host):
                raise InventoryError(source, n, f"'{host}' is not a valid host name")
            host_vars.setdefault(host, {}).update(variables)
            host_lines.setdefault(host, n)
            if host not in groups[section].hosts:
                groups[section].hosts.append(host)

    _check_cycles(groups, source)
    # 'ungrouped' holds only hosts in no other group, as in Ansible.
    grouped = {h for g in groups.values() if g.name not in ("all", "ungrouped") for h in g.hosts}
    groups["ungrouped"].hosts = [h for h in groups["ungrouped"].hosts if h not in grouped]
    return Inventory(source, groups, host_vars, host_lines)


def _check_cycles(groups: dict[str, _Group], source: str) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise InventoryError(
                source, None, "groups include each other: " + " -> ".join(path + [name])
            )
        state[name] = 1
        for child in groups[name].children:
            visit(child, path + [name])
        state[name] = 2

    for name in groups:
        visit(name, [])


def load_inventory(path: Path | str) -> Inventory:
    """Read and parse an inventory file; a file without hosts is an error too."""
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InventoryError(str(path), None, "the file does not exist") from None
    except OSError as exc:
        raise InventoryError(str(path), None, f"cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InventoryError(str(path), line, "is not UTF-8 text") from None
    inventory = parse_inventory(text, str(path))
    if not inventory.hosts:
        raise InventoryError(str(path), None, "defines no hosts")
    return inventory


# -- nodes typed in the app (kept in tasks.servers.health.HealthRecord.nodes) ---------


def make_typed_node(host: str, port: str = "", user: str = "", role: str = "node") -> Node:
    """A node typed by the operator; raises ``CrvsError`` with the reason when invalid."""
    host = host.strip()
    if not host or not re.match(r"^[A-Za-z0-9_.:\-\[\]]+$", host):
        raise CrvsError(f"'{host}' is not a host name or address", "Invalid node")
    p = None
    if port.strip():
        try:
            p = _port(port.strip(), "node", None)
        except InventoryError as exc:
            raise CrvsError(exc.problem, "Invalid node") from None
    user = user.strip()
    if user and not re.match(r"^[a-z_][a-z0-9_.\-]*$", user, re.IGNORECASE):
        raise CrvsError(f"'{user}' is not a user name", "Invalid node")
    try:
        r = Role(role)
    except ValueError:
        raise CrvsError(f"unknown role '{role}'", "Invalid node") from None
    return Node(name=host, host=host, role=r, port=p, user=user or None, typed=True)
