"""The nodes of a cluster: an Ansible INI inventory read as Ansible reads it, or nodes typed in the app.

The INI rules are those of ``ansible/plugins/inventory/ini.py`` (ansible-core 2.15+):

* sections ``[group]``, ``[group:vars]``, ``[group:children]``; hosts before any section
  belong to ``ungrouped``; ``#`` and ``;`` start comment lines; a ``[group:vars]`` needs the
  group declared somewhere, a ``[group:children]`` child too;
* a host line is split as a shell would (``shlex``, ``#`` comments), into a host pattern
  and ``key=value`` variables; values, in host lines and ``:vars`` sections alike, are a
  Python literal when they are one (``2222`` a number, ``"10.0.0.1"`` a string), else
  the text as written (a ``:vars`` value keeps a trailing ``# comment``, as in Ansible);
* a pattern may carry a port (``host:2222``, ``[2001:db8::1]:2222``) and ranges with a
  prefix and a suffix: ``worker[1:3].gov.example``, ``node[01:10]`` (zero padding kept,
  both ends the same width), ``[a:c]`` and steps ``[1:10:2]``, several per name.

Beside the inventory (and beside the playbooks, when given) ``group_vars/<group>`` and
``host_vars/<host>`` are read with a YAML parser, as Ansible's ``host_group_vars`` plugin
does: a file named after the group with no extension, ``.yml``, ``.yaml`` or ``.json``
(the first that exists), or a directory of such files, read in name order.

Variables resolve with Ansible's precedence, lowest first: the inventory file's
``[all:vars]``, its other groups' vars (parents before children: by depth, then
``ansible_group_priority``, then name), ``group_vars/all``, ``group_vars/<group>`` in the
same group order, the host line's own variables, ``host_vars/<host>``. The connection
values are those Ansible's ssh connection plugin takes: ``ansible_ssh_host`` over
``ansible_host`` (else the inventory name), ``ansible_ssh_port`` over ``ansible_port``,
``ansible_ssh_user`` over ``ansible_user``, whichever level each was set at. A host with
no user has none: ``~/.ssh/config`` (or the local user name) decides, as for Ansible.
OpenCRVS's ``group_vars/all.yml`` sets ``ansible_user: root``.

Values are data. Every host, user, port and key file is validated (``tasks.names``) when a
node is made; a bad value makes that node an error naming the file, the line and the
value, never a connection. Errors quote the offending token only, and nothing at all
while a file does not look like an inventory yet (the wrong file, picked by mistake, is
not echoed). At most ``MAX_HOSTS`` hosts; every pass over groups is iterative.

OpenCRVS specifics: ``docker-manager-first`` holds the manager, ``docker-workers`` the
workers, the backup server comes from ``external_backup_server_ip`` / ``_user`` /
``_ssh_port``; ``findings`` flags placeholders left from ``example-{1,3,5}.ini`` and a
missing manager, with line numbers.
"""

from __future__ import annotations

import ast
import contextlib
import ipaddress
import itertools
import re
import shlex
import string
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tasks.errors import CrvsError, InvalidName
from tasks.lean import dataclass, regex
from tasks.names import (
    quoted,
    validate_host,
    validate_key_path,
    validate_port,
    validate_remote_dir,
    validate_user,
)

ENVIRONMENTS = ("qa", "production")
MANAGER_GROUP = "docker-manager-first"
WORKER_GROUP = "docker-workers"
# The playbooks look the manager up by this name (hostvars['manager1'] in playbook-3/5.yml).
MANAGER_NAME = "manager1"
MAX_HOSTS = 1000
# Host names written out by ranges, counting repeats (a host listed in several groups).
MAX_HOST_ENTRIES = 10 * MAX_HOSTS
MAX_FILE_BYTES = 1024 * 1024
VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")

# The connection variables, each as Ansible's ssh connection plugin reads it: the last
# name that is defined wins (plugins/connection/ssh.py, config/manager.py _loop_entries).
HOST_VARS = ("ansible_host", "ansible_ssh_host")
PORT_VARS = ("ansible_port", "ansible_ssh_port")
USER_VARS = ("ansible_user", "ansible_ssh_user")
KEY_VARS = ("ansible_private_key_file", "ansible_ssh_private_key_file")

BACKUP_VARS = (
    "external_backup_server_ip",
    "external_backup_server_user",
    "external_backup_server_ssh_port",
    "external_backup_server_remote_directory",
    "manager_production_server_ip",
)

# How each backup variable is checked (the playbooks pass them to
# emergency-backup-metadata.sh --ssh_user --ssh_host --ssh_port --remote_dir --production_ip).
BACKUP_CHECKS: dict[str, Any] = {
    "external_backup_server_ip": validate_host,
    "external_backup_server_user": validate_user,
    "external_backup_server_ssh_port": validate_port,
    "external_backup_server_remote_directory": validate_remote_dir,
    "manager_production_server_ip": validate_host,
}

_SECTION = regex(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUP_NAME = regex(r"^([^:\]\s]+)\s*(?:#.*)?$")
_BRACKETED_PORT = regex(r"^\[(.+)\]:([0-9]+)$")
_HOST_PORT = regex(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$")
# Inventory host names (before ansible_host): what Ansible's parser accepts, minus anything
# a shell or ssh would read as syntax.
_HOST_NAME = regex(r"^[A-Za-z0-9_.:-]{1,253}$")
_GROUP_OK = regex(r"^[A-Za-z0-9_.@+-]{1,128}$")
_COMMENTED_HOST = regex(r"^[#;]\s*[A-Za-z0-9_.\-\[\]:]+\s+ansible_(?:ssh_)?host\s*=")
_VAULT = "$ANSIBLE_VAULT;"

# Placeholders of opencrvs-countryconfig's infrastructure/server-setup/example-{1,3,5}.ini
# (v1.3.0 to v1.3.5): ansible_host="ENTER YOUR MANAGER HOST IP", "ENTER YOUR WORKER 1 HOST
# IP", data1_hostname=ENTER_HOSTNAME_1; and the <your_...> of the server-setup docs'
# ansible-playbook -e example.
_PLACEHOLDER = regex(r"ENTER[ _]+(?:YOUR|HOSTNAME)|^<[^<>]+>$", re.IGNORECASE)
# The address the v1.3 server-setup documentation shows for manager1.
DOCS_EXAMPLE_ADDRESSES = frozenset({"159.223.11.243"})
# RFC 5737 and RFC 3849: addresses for documentation, never a real server.
_DOC_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


class Role(StrEnum):
    MANAGER = "manager"
    WORKER = "worker"
    BACKUP = "backup"
    NODE = "node"


class InventoryError(CrvsError):
    """The inventory cannot be used; says which file, which line and why."""

    title = "The inventory cannot be read"

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        super().__init__(f"{Origin(source, line)}: {problem}")

    @classmethod
    def at(cls, origin: Origin, problem: str) -> InventoryError:
        return cls(origin.source, origin.line, problem)


@dataclass(frozen=True)
class Origin:
    """Where a value was written: a file and (when known) a line."""

    source: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.source}, line {self.line}" if self.line else self.source


@dataclass(frozen=True)
class Finding:
    """Something the operator should look at; the inventory is still usable."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{Origin(self.source, self.line)}: {self.message}"

    def to_state(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class Node:
    """One server to check: where to connect and what it is in the cluster.

    ``port`` and ``user`` are ``None`` when nothing sets them: ssh config decides.
    """

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
        """The one serialiser of a node (session, ``health --json``, ``health --list``)."""
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
        """A recorded node (not validated: a record; ``typed_nodes`` validates what connects)."""
        return cls(
            name=str(data.get("name") or data["host"]),
            host=str(data["host"]),
            role=Role(data.get("role", Role.NODE)),
            port=int(data["port"]) if data.get("port") else None,
            user=str(data["user"]) if data.get("user") else None,
            key_file=str(data["key_file"]) if data.get("key_file") else None,
            typed=bool(data.get("typed", False)),
        )


@dataclass(frozen=True)
class NodeEntry:
    """A host of the inventory: its node, or why it cannot be one (never both)."""

    name: str
    role: Role
    origin: Origin
    node: Node | None = None
    error: InventoryError | None = None

    @property
    def display_node(self) -> Node:
        """The node to show in a table: the real one, or a stand-in naming the host."""
        return self.node or Node(name=self.name, host="", role=self.role)


@dataclass(frozen=True)
class _Var:
    value: Any
    origin: Origin


@dataclass
class _Group:
    name: str
    line: int | None = None  # where [name] or [name:children] was written
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    vars: dict[str, _Var] = field(default_factory=dict)
    child_lines: dict[str, int] = field(default_factory=dict)
    priority: int = 1
    depth: int = 0


@dataclass
class _Host:
    name: str
    line: int
    vars: dict[str, _Var] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)


# -- values --------------------------------------------------------------------------


def _parse_value(text: str) -> Any:
    """Ansible's ``_parse_value``: a Python literal when it is one, else the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _coerce(value)


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple | set | frozenset):
        return [_coerce(v) for v in value]
    if isinstance(value, dict):
        return {_coerce(k): _coerce(v) for k, v in value.items()}
    if value is Ellipsis:
        return "..."
    if isinstance(value, complex):
        return str(value)
    return value


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and bool(_PLACEHOLDER.search(value))


def documentation_address(value: Any) -> bool:
    """An address from a documentation range, or the one in OpenCRVS's setup docs."""
    if not isinstance(value, str):
        return False
    if value in DOCS_EXAMPLE_ADDRESSES:
        return True
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in _DOC_NETWORKS)


# -- host patterns ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    values: tuple[str, ...]


def _split_port(pattern: str) -> tuple[str, int | None]:
    """``host:2222`` and ``[v6]:2222`` as Ansible's ``parse_address`` reads them."""
    port = None
    for form in (_BRACKETED_PORT, _HOST_PORT):
        m = form.match(pattern)
        if m:
            pattern, port = m[1], int(m[2])
    return pattern, port


def _range_values(spec: str) -> tuple[str, ...]:
    """The names one ``[begin:end(:step)]`` stands for (``expand_hostname_range``)."""
    bounds = spec.split(":")
    if len(bounds) not in (2, 3):
        raise ValueError("a host range is [begin:end] or [begin:end:step]")
    begin, end = bounds[0] or "0", bounds[1]
    if not end:
        raise ValueError("a host range needs an end value")
    try:
        step = int(bounds[2]) if len(bounds) == 3 else 1
    except ValueError:
        raise ValueError("the step of a host range must be a number") from None
    if step < 1:
        raise ValueError("the step of a host range must be 1 or more")
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        if letters.index(begin) > letters.index(end):
            raise ValueError("a host range must not end before it begins")
        return tuple(letters[letters.index(begin) : letters.index(end) + 1 : step])
    if not (begin.isdigit() and end.isdigit()):
        raise ValueError("a host range is numbers ([1:3], [01:10]) or single letters ([a:c])")
    width = 0
    if begin[0] == "0" and len(begin) > 1:
        if len(begin) != len(end):
            raise ValueError("a zero-padded range needs both ends the same width ([01:10])")
        width = len(begin)
    lo, hi = int(begin), int(end)
    if hi < lo:
        raise ValueError("a host range must not end before it begins")
    count = (hi - lo) // step + 1
    if count > MAX_HOSTS:
        raise _TooMany(count)
    return tuple(str(i).zfill(width) for i in range(lo, hi + 1, step))


class _TooMany(ValueError):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def _pattern_parts(pattern: str) -> list[str | _Range]:
    """Literal text and ranges, left to right (every range expands independently)."""
    parts: list[str | _Range] = []
    rest = pattern
    while "[" in rest:
        head, _, tail = rest.partition("[")
        spec, closed, rest = tail.partition("]")
        if not closed:
            raise ValueError("a host range has no closing ']'")
        if "[" in spec:
            raise ValueError("host ranges cannot be nested")
        parts += [head, _Range(_range_values(spec))]
    parts.append(rest)
    return parts


def _expansion_size(parts: list[str | _Range]) -> int:
    size = 1
    for p in parts:
        if isinstance(p, _Range):
            size *= len(p.values)
    return size


def _expand(parts: list[str | _Range]) -> Iterator[str]:
    choices = [p.values if isinstance(p, _Range) else (p,) for p in parts]
    for combo in itertools.product(*choices):
        yield "".join(combo)


# -- YAML variable files ---------------------------------------------------------------


class _VaultValue(str):
    """A ``!vault`` encrypted value: present, never readable here."""


def _yaml_loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def vault(loader: Any, node: Any) -> _VaultValue:
        return _VaultValue("<vault-encrypted>")

    def unsafe(loader: Any, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    Loader.add_constructor("!vault", vault)
    Loader.add_constructor("!unsafe", unsafe)
    return Loader


def _read_text(path: Path, what: str = "") -> tuple[str, bool]:
    """UTF-8 text of a file (without a byte order mark) and whether it had one."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InventoryError(str(path), None, f"{what or 'the file'} does not exist") from None
    except IsADirectoryError:
        raise InventoryError(str(path), None, "is a directory, not a file") from None
    except OSError as exc:
        raise InventoryError(str(path), None, f"cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InventoryError(
            str(path), None, f"is larger than {MAX_FILE_BYTES // 1024} KiB: not an inventory"
        )
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InventoryError(str(path), line, "is not UTF-8 text") from None
    return text, bom


def _load_vars_file(path: Path, findings: list[Finding]) -> dict[str, _Var]:
    """Top-level variables of one group_vars/host_vars file, each with its line."""
    import yaml

    text, _bom = _read_text(path)
    if text.lstrip().startswith(_VAULT):
        findings.append(
            Finding(
                str(path),
                None,
                "is encrypted with Ansible Vault: crvs-migrate cannot read the variables in it",
            )
        )
        return {}
    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise InventoryError(
                str(path), node.start_mark.line + 1, "is not a mapping of variable names to values"
            )
        loader.flatten_mapping(node)
        out: dict[str, _Var] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            value = loader.construct_object(value_node, deep=True)
            out[str(key)] = _Var(value, Origin(str(path), key_node.start_mark.line + 1))
        return out
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # The problem in words only: PyYAML's str() quotes the file's text.
        problem = (exc.problem or "invalid YAML").split("\n")[0]
        raise InventoryError(
            str(path), mark.line + 1 if mark else None, f"is not valid YAML ({problem})"
        ) from None
    except yaml.YAMLError:
        raise InventoryError(str(path), None, "is not valid YAML") from None
    except RecursionError:
        raise InventoryError(str(path), None, "is nested too deeply") from None
    finally:
        loader.dispose()


def _vars_files(directory: Path, name: str) -> list[Path]:
    """Ansible's ``find_vars_files``: ``name`` with the first known extension, or a directory."""
    base = directory / name
    for ext in VARS_EXTENSIONS:
        candidate = base.with_name(base.name + ext) if ext else base
        if candidate.is_dir():
            return _dir_vars_files(candidate)
        if candidate.exists():
            return [candidate]
    return []


def _dir_vars_files(top: Path) -> list[Path]:
    found: list[Path] = []
    # Depth-first in name order, without recursion: a stack of directories still to list.
    stack: list[Iterator[Path]] = [iter(_listing(top))]
    seen = {top.resolve()}
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith(".") or entry.name.endswith("~"):
            continue
        if entry.is_dir() and not entry.suffix:
            real = entry.resolve()
            if real not in seen and len(seen) < 256:
                seen.add(real)
                stack.append(iter(_listing(entry)))
        elif entry.is_file() and (not entry.suffix or entry.suffix in VARS_EXTENSIONS):
            found.append(entry)
    return found


def _listing(directory: Path) -> list[Path]:
    try:
        return sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError:
        return []


# -- the inventory ---------------------------------------------------------------------


class Inventory:
    """A parsed inventory: groups, hosts and their variables, with where each was written."""

    def __init__(
        self,
        source: str,
        groups: dict[str, _Group],
        hosts: dict[str, _Host],
        findings: list[Finding],
        vars_dirs: Iterable[Path] = (),
        commented_hosts: dict[str, list[int]] | None = None,
    ) -> None:
        self.source = source
        self.groups = groups
        self._hosts = hosts
        self.findings = findings
        self.vars_dirs = [Path(d) for d in vars_dirs]
        # Lines like "; manager1 ansible_host=..." per section: hosts left commented out.
        self._commented_hosts = commented_hosts or {}
        self._file_cache: dict[tuple[str, str], dict[str, _Var]] = {}
        self._ancestors: dict[str, set[str]] = {}
        self._order_groups()
        self._load_vars_dirs()
        self._check_opencrvs_layout()

    # -- structure ---------------------------------------------------------------------

    @property
    def hosts(self) -> list[str]:
        return list(self._hosts)

    @property
    def host_lines(self) -> dict[str, int]:
        return {name: h.line for name, h in self._hosts.items()}

    def _order_groups(self) -> None:
        """Depth (longest path from ``all``) and ancestors of every group, iteratively."""
        for g in self.groups.values():
            if g.name != "all" and not g.parents:
                g.parents.append("all")
                self.groups["all"].children.append(g.name)
        # Kahn's algorithm from 'all': a group is placed once all its parents are.
        waiting = {name: len(g.parents) for name, g in self.groups.items()}
        ready = [name for name, count in waiting.items() if count == 0]
        placed: list[str] = []
        while ready:
            name = ready.pop()
            placed.append(name)
            group = self.groups[name]
            anc = self._ancestors.setdefault(name, set())
            for child_name in group.children:
                child = self.groups[child_name]
                child.depth = max(child.depth, group.depth + 1)
                self._ancestors.setdefault(child_name, set()).update(anc | {name})
                waiting[child_name] -= 1
                if waiting[child_name] == 0:
                    ready.append(child_name)
        if len(placed) != len(self.groups):
            raise self._cycle_error({n for n in self.groups if n not in set(placed)})

    def _cycle_error(self, stuck: set[str]) -> InventoryError:
        # Every stuck group has a stuck parent: walk parents until a group repeats.
        start = min(stuck)
        path = [start]
        seen = {start}
        while True:
            parent = next(p for p in sorted(self.groups[path[-1]].parents) if p in stuck)
            if parent in seen:
                cycle = path[path.index(parent) :] + [parent]
                break
            path.append(parent)
            seen.add(parent)
        cycle.reverse()  # parent -> child order, as written in [parent:children]
        line = self.groups[cycle[0]].child_lines.get(cycle[1])
        return InventoryError(self.source, line, "groups include each other: " + " -> ".join(cycle))

    def groups_of(self, host: str) -> set[str]:
        """Every group ``host`` is in, directly or through ``:children`` (``all`` included)."""
        direct = self._hosts[host].groups
        out = set(direct) | {"all"}
        for g in direct:
            out |= self._ancestors.get(g, set())
        return out

    def group_hosts(self, group: str) -> list[str]:
        """Hosts of ``group`` and of its children, in file order."""
        if group == "all":
            return self.hosts
        return [h for h in self._hosts if group in self.groups_of(h)]

    def role_of(self, host: str) -> Role:
        names = self.groups_of(host)
        if any("manager" in g for g in names):
            return Role.MANAGER
        if any("worker" in g for g in names):
            return Role.WORKER
        return Role.NODE

    # -- variables -------------------------------------------------------------------

    def _load_vars_dirs(self) -> None:
        # Read every file once now: errors surface at load, with their lines.
        for directory in self.vars_dirs:
            for g in self._sorted_groups(set(self.groups)):
                self._group_file_vars(directory, g)
            for h in self._hosts:
                self._host_file_vars(directory, h)
            gv = directory / "group_vars"
            if gv.is_dir():
                for entry in _listing(gv):
                    stem = entry.name if entry.is_dir() else entry.stem
                    if entry.name.startswith(".") or entry.name.endswith("~"):
                        continue
                    if stem not in self.groups and (
                        entry.is_dir() or entry.suffix in VARS_EXTENSIONS
                    ):
                        self.findings.append(
                            Finding(
                                str(entry),
                                None,
                                f"matches no group of {Path(self.source).name}: "
                                "Ansible ignores it (a typo in the group name?)",
                            )
                        )

    def _files_vars(self, directory: Path, kind: str, name: str) -> dict[str, _Var]:
        key = (str(directory / kind), name)
        if key not in self._file_cache:
            merged: dict[str, _Var] = {}
            for path in _vars_files(directory / kind, name):
                merged.update(_load_vars_file(path, self.findings))
            self._file_cache[key] = merged
        return self._file_cache[key]

    def _group_file_vars(self, directory: Path, group: str) -> dict[str, _Var]:
        return self._files_vars(directory, "group_vars", group)

    def _host_file_vars(self, directory: Path, host: str) -> dict[str, _Var]:
        return self._files_vars(directory, "host_vars", host)

    def _sorted_groups(self, names: set[str]) -> list[str]:
        return sorted(
            (n for n in names if n != "all"),
            key=lambda n: (self.groups[n].depth, self.groups[n].priority, n),
        )

    def _layers(self, host: str) -> list[tuple[str, dict[str, _Var]]]:
        """The variable layers of ``host``, lowest precedence first (Ansible's order)."""
        order = self._sorted_groups(self.groups_of(host))
        layers = [("inventory", self.groups["all"].vars)]
        layers += [("inventory", self.groups[g].vars) for g in order]
        layers += [("group_vars", self._group_file_vars(d, "all")) for d in self.vars_dirs]
        layers += [
            ("group_vars", self._group_file_vars(d, g)) for d in self.vars_dirs for g in order
        ]
        layers.append(("host", self._hosts[host].vars))
        layers += [("host_vars", self._host_file_vars(d, host)) for d in self.vars_dirs]
        return layers

    def _resolved(self, host: str) -> dict[str, _Var]:
        """Variables of ``host`` with Ansible's precedence, each with where it was set."""
        merged: dict[str, _Var] = {}
        for _kind, layer in self._layers(host):
            merged.update(layer)
        return merged

    def _resolved_all(self) -> dict[str, _Var]:
        """Variables every host gets from ``all`` ([all:vars], then group_vars/all)."""
        merged: dict[str, _Var] = dict(self.groups["all"].vars)
        for directory in self.vars_dirs:
            merged.update(self._group_file_vars(directory, "all"))
        return merged

    def vars_for(self, host: str) -> dict[str, Any]:
        """Variables of ``host`` with Ansible's precedence."""
        return {k: v.value for k, v in self._resolved(host).items()}

    @property
    def all_vars(self) -> dict[str, Any]:
        return {k: v.value for k, v in self._resolved_all().items()}

    # -- nodes -------------------------------------------------------------------------

    def entries(self) -> list[NodeEntry]:
        """Every host (manager first, then workers), then the backup server if configured."""
        entries = [self._entry(h) for h in self._hosts]
        entries.sort(key=lambda e: {Role.MANAGER: 0, Role.WORKER: 1}.get(e.role, 2))
        backup = self.backup_entry()
        if backup is not None and not any(
            e.node is not None and backup.node is not None and e.node.host == backup.node.host
            for e in entries
        ):
            entries.append(backup)
        return entries

    def nodes(self) -> list[Node]:
        """The nodes, or ``InventoryError`` for the first host that cannot be one."""
        out = []
        for e in self.entries():
            if e.error is not None:
                raise e.error
            assert e.node is not None
            out.append(e.node)
        return out

    def _entry(self, host: str) -> NodeEntry:
        h = self._hosts[host]
        role = self.role_of(host)
        origin = Origin(self.source, h.line)
        try:
            node = self._node(host, h, role, origin)
        except InventoryError as exc:
            return NodeEntry(host, role, origin, error=exc)
        return NodeEntry(host, role, origin, node=node)

    def _node(self, host: str, h: _Host, role: Role, origin: Origin) -> Node:
        if not _HOST_NAME.match(host):
            raise InventoryError.at(
                origin,
                f"the inventory host name {quoted(host)} is not usable: letters, digits "
                "and . _ - : only (give the address in ansible_host)",
            )
        v = self._resolved(host)
        address = _pick(v, HOST_VARS)
        if address is None:
            hostname = host
            host_origin = origin
        else:
            hostname, host_origin = address.value, address.origin
        connect = _checked(validate_host, hostname, _name_of(v, HOST_VARS), host_origin, host)
        port = _pick(v, PORT_VARS)
        user = _pick(v, USER_VARS)
        key = _pick(v, KEY_VARS)
        return Node(
            name=host,
            host=connect,
            role=role,
            port=_checked(validate_port, port.value, _name_of(v, PORT_VARS), port.origin, host)
            if port
            else None,
            user=_checked(validate_user, user.value, _name_of(v, USER_VARS), user.origin, host)
            if user
            else None,
            key_file=_checked(validate_key_path, key.value, _name_of(v, KEY_VARS), key.origin, host)
            if key
            else None,
        )

    def backup_entry(self) -> NodeEntry | None:
        """The backup server of ``external_backup_server_*`` (from ``all``), if there is one."""
        v = self._resolved_all()
        ip = v.get("external_backup_server_ip")
        if ip is None or ip.value in (None, ""):
            return None
        origin = ip.origin
        try:
            host = _checked(validate_host, ip.value, "external_backup_server_ip", origin, "backup")
            port_var = v.get("external_backup_server_ssh_port")
            user_var = v.get("external_backup_server_user")
            port = (
                _checked(
                    validate_port,
                    port_var.value,
                    "external_backup_server_ssh_port",
                    port_var.origin,
                    "backup",
                )
                if port_var is not None and port_var.value not in (None, "")
                else None
            )
            user = (
                _checked(
                    validate_user,
                    user_var.value,
                    "external_backup_server_user",
                    user_var.origin,
                    "backup",
                )
                if user_var is not None and user_var.value not in (None, "")
                else None
            )
        except InventoryError as exc:
            return NodeEntry("backup", Role.BACKUP, origin, error=exc)
        return NodeEntry(
            "backup",
            Role.BACKUP,
            origin,
            node=Node(name="backup", host=host, role=Role.BACKUP, port=port, user=user),
        )

    def backup_server(self) -> Node | None:
        entry = self.backup_entry()
        if entry is None:
            return None
        if entry.error is not None:
            raise entry.error
        return entry.node

    def backup_settings(self) -> dict[str, str]:
        """The backup variables that are set and valid, by name (values as text)."""
        v = self._resolved_all()
        out: dict[str, str] = {}
        for name, check in BACKUP_CHECKS.items():
            var = v.get(name)
            if var is None or var.value in (None, "") or is_placeholder(var.value):
                continue
            with contextlib.suppress(InvalidName, TypeError):
                out[name] = str(check(var.value))
        return out

    def backup_problems(self) -> list[InventoryError]:
        """Backup variables that are set but unusable (each with its line)."""
        v = self._resolved_all()
        problems = []
        for name, check in BACKUP_CHECKS.items():
            var = v.get(name)
            if var is None or var.value is None:
                continue
            try:
                _checked(check, var.value, name, var.origin, "backup")
            except InventoryError as exc:
                problems.append(exc)
        return problems

    @property
    def cluster_size(self) -> int:
        return sum(1 for e in self.entries() if e.role is not Role.BACKUP)

    # -- what the operator should look at -------------------------------------------------

    def _check_opencrvs_layout(self) -> None:
        found = self.findings
        for name, g in self.groups.items():
            for key, var in g.vars.items():
                self._flag_value(key, var, f"[{name}:vars]")
        for host in self._hosts.values():
            for key, var in host.vars.items():
                self._flag_value(key, var, f"host {host.name}")
        for (kind_dir, name), variables in self._file_cache.items():
            for key, var in variables.items():
                self._flag_value(key, var, f"{Path(kind_dir).name}/{name}")
        self._flag_overridden()
        managers = [h for h in self._hosts if self.role_of(h) is Role.MANAGER]
        group = self.groups.get(MANAGER_GROUP)
        if not managers:
            if group is None:
                found.append(
                    Finding(
                        self.source,
                        None,
                        f"no [{MANAGER_GROUP}] group: the OpenCRVS playbooks and crvs-migrate "
                        "need the swarm manager in it",
                    )
                )
            else:
                hint = ""
                commented = self._commented_hosts.get(MANAGER_GROUP, [])
                if commented:
                    lines = ", ".join(str(n) for n in commented[:3])
                    hint = (
                        f"; line {lines} is a commented-out host line left from the example: "
                        "uncomment it and give the manager's address"
                    )
                found.append(
                    Finding(
                        self.source,
                        group.line,
                        f"[{MANAGER_GROUP}] lists no host: the manager is missing{hint}",
                    )
                )
        elif group is not None:
            listed = self.group_hosts(MANAGER_GROUP)
            if len(listed) > 1:
                lines = ", ".join(str(self._hosts[h].line) for h in listed[:5])
                found.append(
                    Finding(
                        self.source,
                        self._hosts[listed[1]].line,
                        f"[{MANAGER_GROUP}] lists {len(listed)} hosts (lines {lines}): the "
                        "swarm has one first manager",
                    )
                )
            workers = self.group_hosts(WORKER_GROUP) if WORKER_GROUP in self.groups else []
            if listed and workers and MANAGER_NAME not in listed:
                found.append(
                    Finding(
                        self.source,
                        self._hosts[listed[0]].line,
                        f"the manager is named {quoted(listed[0])}: playbook-3.yml and "
                        f"playbook-5.yml join workers through hostvars['{MANAGER_NAME}'], so "
                        f"name it {MANAGER_NAME}",
                    )
                )
        ip = self._resolved_all().get("external_backup_server_ip")
        if ip is not None and ip.value not in (None, ""):
            v = self._resolved_all()
            missing = [n for n in BACKUP_VARS[1:] if v.get(n) is None or v[n].value in (None, "")]
            if missing:
                found.append(
                    Finding(
                        ip.origin.source,
                        ip.origin.line,
                        "external_backup_server_ip is set but not "
                        + ", ".join(missing)
                        + ": the playbook's nightly backup job needs them all",
                    )
                )

    def _flag_overridden(self) -> None:
        """Connection values written in the inventory that Ansible does not use, and why.

        Two surprises of Ansible's rules: group_vars/ files beat every [group:vars] of the
        inventory (OpenCRVS's group_vars/all.yml sets ansible_user: root), and the ssh
        plugin takes ansible_ssh_user over ansible_user wherever each was set.
        """
        seen: set[tuple[str, int | None, str]] = set()
        for host in self._hosts:
            layers = self._layers(host)
            merged: dict[str, _Var] = {}
            rank: dict[int, int] = {}
            for i, (_kind, layer) in enumerate(layers):
                merged.update(layer)
                for var in layer.values():
                    rank[id(var)] = i
            for family in (HOST_VARS, PORT_VARS, USER_VARS, KEY_VARS):
                winner = _pick(merged, family)
                if winner is None:
                    continue
                wname = _name_of(merged, family)
                for i, (kind, layer) in enumerate(layers):
                    for name in family:
                        c = layer.get(name)
                        if c is None or c is winner or c.value == winner.value:
                            continue
                        if c.origin.source != self.source:
                            continue
                        final = merged.get(name)
                        if name == wname and kind == "inventory" and final is not None:
                            if layers[rank[id(final)]][0] != "group_vars":
                                continue
                            why = (
                                f"group_vars files win over [group:vars] sections ({final.origin})"
                            )
                        elif name != wname and c is final and rank[id(winner)] < i:
                            why = f"the ssh connection takes {wname} over {name} ({winner.origin})"
                        else:
                            continue
                        key = (c.origin.source, c.origin.line, name)
                        if key in seen:
                            continue
                        seen.add(key)
                        self.findings.append(
                            Finding(
                                c.origin.source,
                                c.origin.line,
                                f"{name} {quoted(c.value)} is not what Ansible uses for {host}: "
                                f"it uses {wname} {quoted(winner.value)}, because {why}",
                            )
                        )

    def _flag_value(self, key: str, var: _Var, where: str) -> None:
        value = var.value
        if not isinstance(value, str) or isinstance(value, _VaultValue):
            return
        if is_placeholder(value):
            self.findings.append(
                Finding(
                    var.origin.source,
                    var.origin.line,
                    f"{key} is still the example's placeholder {quoted(value)} ({where})",
                )
            )
        elif documentation_address(value) and (key in HOST_VARS or key in BACKUP_VARS):
            self.findings.append(
                Finding(
                    var.origin.source,
                    var.origin.line,
                    f"{key} {quoted(value)} is an address from documentation examples, not a "
                    f"real server ({where})",
                )
            )


def _pick(v: dict[str, _Var], names: tuple[str, ...]) -> _Var | None:
    """The value the ssh plugin uses: the last of ``names`` that is defined (not None)."""
    found = None
    for name in names:
        var = v.get(name)
        if var is not None and var.value is not None:
            found = var
    return found


def _name_of(v: dict[str, _Var], names: tuple[str, ...]) -> str:
    found = ""
    for name in names:
        var = v.get(name)
        if var is not None and var.value is not None:
            found = name
    return found


def _checked(check: Any, value: Any, name: str, origin: Origin, host: str) -> Any:
    """``check(value)``, or an ``InventoryError`` naming the variable, the host and the line."""
    what = f"{name} of {host}" if name else host
    if is_placeholder(value):
        raise InventoryError.at(
            origin,
            f"{what} is still the example's placeholder {quoted(value)}: replace it with the "
            "server's address"
            if name in HOST_VARS or name == "external_backup_server_ip"
            else f"{what} is still the placeholder {quoted(value)}",
        )
    if isinstance(value, _VaultValue):
        raise InventoryError.at(
            origin, f"{what} is vault-encrypted: crvs-migrate cannot decrypt it"
        )
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InventoryError.at(origin, f"{what} is not a single value")
    try:
        return check(value)
    except InvalidName as exc:
        hint = ""
        if isinstance(value, str) and re.search(r"\s[#;]", value):
            hint = (
                " (Ansible keeps everything after '=' in a [group:vars] line, a "
                "trailing comment too)"
            )
        raise InventoryError.at(origin, f"{what}: {exc.message}{hint}") from None


# -- the INI parser ----------------------------------------------------------------------


class _IniParser:
    """One pass over the lines, as Ansible's ini plugin makes it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.groups: dict[str, _Group] = {"all": _Group("all"), "ungrouped": _Group("ungrouped")}
        self.hosts: dict[str, _Host] = {}
        self.pending: dict[str, tuple[str, int, list[str]]] = {}
        self.commented: dict[str, list[int]] = {}
        self.entries = 0
        # Until a line reads as inventory, errors quote nothing from the file.
        self.structured = False

    def error(self, line: int | None, problem: str) -> InventoryError:
        return InventoryError(self.source, line, problem)

    def token(self, text: str) -> str:
        return quoted(text) if self.structured else "the text"

    def not_inventory(self, line: int) -> InventoryError:
        return self.error(
            line,
            "does not read as an Ansible INI inventory (is this the right file?)",
        )

    def group(self, name: str, line: int) -> _Group:
        if name not in self.groups:
            if not _GROUP_OK.match(name):
                if not self.structured:
                    raise self.not_inventory(line)
                raise self.error(line, f"{quoted(name)} is not a usable group name")
            self.groups[name] = _Group(name)
        return self.groups[name]

    def parse(self, text: str) -> None:
        section, kind = "ungrouped", "hosts"
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line:
                continue
            if line[0] in "#;":
                if kind == "hosts" and _COMMENTED_HOST.match(line):
                    self.commented.setdefault(section, []).append(n)
                continue
            m = _SECTION.match(line)
            if m:
                section, kind = m[1], m[2] or "hosts"
                self.header(section, kind, n)
                continue
            if line.startswith("[") and line.endswith("]"):
                if not self.structured:
                    raise self.not_inventory(n)
                raise self.error(
                    n, "malformed section header: no spaces or other characters inside [ ]"
                )
            if kind == "hosts":
                self.host_line(line, section, n)
            elif kind == "vars":
                self.var_line(line, section, n)
            else:
                self.child_line(line, section, n)
        for name, (state, n, parents) in self.pending.items():
            if state == "vars":
                raise self.error(
                    n,
                    f"[{name}:vars] is for a group that is declared nowhere ([{name}] is missing)",
                )
            raise self.error(
                n,
                f"[{parents[-1]}:children] includes {quoted(name)}, a group that is declared "
                "nowhere",
            )
        # 'ungrouped' keeps only hosts that are in no other group, as in Ansible.
        others = {
            h for g in self.groups.values() if g.name not in ("all", "ungrouped") for h in g.hosts
        }
        ungrouped = self.groups["ungrouped"]
        for h in [h for h in ungrouped.hosts if h in others]:
            ungrouped.hosts.remove(h)
            self.hosts[h].groups.remove("ungrouped")

    def header(self, name: str, kind: str, n: int) -> None:
        if kind not in ("hosts", "vars", "children"):
            raise self.error(
                n, f"unknown section type {quoted(kind)} (expected [group], :vars or :children)"
            )
        new = name not in self.groups
        group = self.group(name, n)
        self.structured = True
        if new and kind == "vars" and name not in self.pending:
            self.pending[name] = ("vars", n, [])
        if kind != "vars":
            if group.line is None:
                group.line = n
            if name in self.pending:
                state, _line, parents = self.pending.pop(name)
                if state == "children":
                    for parent in parents:
                        self.link(parent, name, _line)

    def link(self, parent: str, child: str, n: int) -> None:
        p, c = self.groups[parent], self.groups[child]
        if child not in p.children:
            p.children.append(child)
            p.child_lines[child] = n
        if parent not in c.parents:
            c.parents.append(parent)

    def child_line(self, line: str, section: str, n: int) -> None:
        m = _GROUP_NAME.match(line)
        if not m:
            raise self.error(
                n,
                f"expected one group name in [{section}:children], got "
                f"{self.token(line.split()[0])} and more",
            )
        child = m[1]
        if child == section:
            raise self.error(n, f"group {quoted(section)} cannot be its own child")
        if child in self.groups:
            self.link(section, child, n)
        elif child in self.pending:
            self.pending[child][2].append(section)
        else:
            if not _GROUP_OK.match(child):
                raise self.error(n, f"{quoted(child)} is not a usable group name")
            self.pending[child] = ("children", n, [section])

    def var_line(self, line: str, section: str, n: int) -> None:
        if "=" not in line:
            raise self.error(n, f"expected key=value in [{section}:vars], got {self.token(line)}")
        key, value = (part.strip() for part in line.split("=", 1))
        if not key:
            raise self.error(n, f"a variable in [{section}:vars] has no name")
        group = self.groups[section]
        group.vars[key] = _Var(_parse_value(value), Origin(self.source, n))
        if key == "ansible_group_priority":
            with contextlib.suppress(TypeError, ValueError):
                group.priority = int(group.vars[key].value)

    def host_line(self, line: str, section: str, n: int) -> None:
        if self.structured:
            self._host_line(line, section, n)
            return
        try:
            self._host_line(line, section, n)
        except InventoryError as exc:
            if exc.problem.startswith(("the range", "the ranges", "looks like a YAML")):
                raise
            # Not an inventory (yet): quote nothing of what may be another file entirely.
            raise self.not_inventory(n) from None

    def _host_line(self, line: str, section: str, n: int) -> None:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:  # unbalanced quotes
            if not self.structured:
                raise self.not_inventory(n) from None
            raise self.error(n, f"cannot split the host line ({exc})") from None
        if not tokens:
            return
        pattern, *assignments = tokens
        names, port = self.expand(pattern, n)
        variables: dict[str, _Var] = {}
        for token in assignments:
            if "=" not in token:
                if not self.structured:
                    raise self.not_inventory(n)
                raise self.error(n, f"expected key=value after the host name, got {quoted(token)}")
            key, value = token.split("=", 1)
            variables[key] = _Var(_parse_value(value), Origin(self.source, n))
        self.structured = True
        group = self.groups[section]
        for name in names:
            host = self.hosts.get(name)
            if host is None:
                if len(self.hosts) >= MAX_HOSTS:
                    raise self.error(
                        n, f"more than {MAX_HOSTS:,} hosts: an inventory may list at most that"
                    )
                host = self.hosts[name] = _Host(name, n)
                if port is not None:
                    host.vars["ansible_port"] = _Var(port, Origin(self.source, n))
            host.vars.update(variables)
            if section not in host.groups:
                host.groups.append(section)
                group.hosts.append(name)

    def expand(self, pattern: str, n: int) -> tuple[list[str], int | None]:
        if pattern.strip() == "---" and not self.structured:
            raise self.error(
                n,
                "looks like a YAML inventory: crvs-migrate reads INI inventories "
                "(infrastructure/server-setup/*.ini)",
            )
        address, port = _split_port(pattern)
        if port is not None and not _HOST_NAME.match(address.replace("[", "").replace("]", "")):
            address, port = pattern, None  # not host:port after all (Ansible's fallback)
        if address.endswith(":") and port is None:
            raise self.error(n, f"the host {self.token(address)} ends in ':' without a port")
        if port is not None and not 0 < port < 65536:
            raise self.error(n, f"port {port} of {self.token(address)} is out of range (1-65535)")
        try:
            parts = _pattern_parts(address)
        except _TooMany as exc:
            raise self.error(
                n,
                f"the range in {self.token(address)} makes {exc.count:,} hosts: an "
                f"inventory may list at most {MAX_HOSTS:,}",
            ) from None
        except ValueError as exc:
            if not self.structured:
                raise self.not_inventory(n) from None
            raise self.error(n, f"host {self.token(address)}: {exc}") from None
        size = _expansion_size(parts)
        if size > MAX_HOSTS:
            raise self.error(
                n,
                f"the ranges in {self.token(address)} make {size:,} hosts: an inventory may "
                f"list at most {MAX_HOSTS:,}",
            )
        self.entries += size
        if self.entries > MAX_HOST_ENTRIES:
            raise self.error(
                n, f"more than {MAX_HOST_ENTRIES:,} host entries: an inventory may not be that long"
            )
        names = list(_expand(parts))
        for name in names:
            if not _HOST_NAME.match(name):
                if not self.structured:
                    raise self.not_inventory(n)
                raise self.error(
                    n,
                    f"the host name {quoted(name)} is not usable: letters, digits and . _ - : "
                    "only (give the address in ansible_host)",
                )
        return names, port


def parse_inventory(
    text: str, source: str = "<inventory>", vars_dirs: Iterable[Path] = ()
) -> Inventory:
    """Parse Ansible INI inventory ``text``; raises ``InventoryError`` naming the line."""
    if text.startswith("\ufeff"):
        text = text[1:]
    parser = _IniParser(source)
    parser.parse(text)
    return Inventory(source, parser.groups, parser.hosts, [], vars_dirs, parser.commented)


def load_inventory(path: Path | str, playbook_dir: Path | str | None = None) -> Inventory:
    """Read an inventory file and the group_vars/host_vars beside it (and the playbooks).

    A file without hosts is an error too. ``playbook_dir``: where ``ansible-playbook``
    would find the playbooks (its group_vars/ and host_vars/ count, after the inventory's).
    """
    path = Path(path).expanduser()
    if path.suffix.lower() in (".yml", ".yaml", ".json", ".toml"):
        raise InventoryError(
            str(path),
            None,
            "is not an INI inventory: crvs-migrate reads INI inventories "
            "(infrastructure/server-setup/*.ini)",
        )
    text, bom = _read_text(path)
    dirs = [path.parent]
    if playbook_dir is not None:
        extra = Path(playbook_dir).expanduser()
        if extra.resolve() != path.parent.resolve():
            dirs.append(extra)
    inventory = parse_inventory(text, str(path), dirs)
    if bom:
        inventory.findings.insert(
            0,
            Finding(
                str(path),
                1,
                "starts with a UTF-8 byte order mark (saved by a Windows editor): crvs-migrate "
                "reads it, but ansible-playbook fails on it; save the file as UTF-8 without BOM",
            ),
        )
    if not inventory.hosts:
        commented = sorted(n for lines in inventory._commented_hosts.values() for n in lines)
        if commented:
            lines = ", ".join(str(n) for n in commented[:6])
            raise InventoryError(
                str(path),
                commented[0],
                f"defines no hosts: line {lines} are host lines left commented out from the "
                "example; uncomment them and give each server's address",
            )
        raise InventoryError(str(path), None, "defines no hosts")
    return inventory


# -- nodes typed in the app (kept in tasks.servers.health.HealthRecord.nodes) ---------


TYPED_SOURCE = "nodes typed in Cluster health"


def typed_node_entries(rows: list[Any]) -> list[NodeEntry]:
    """Typed nodes as saved, each validated again (a session file can be edited by hand)."""
    out = []
    for i, r in enumerate(rows if isinstance(rows, list) else [], 1):
        if not isinstance(r, dict) or not r.get("host"):
            continue
        name = str(r.get("name") or r.get("host"))
        origin = Origin(TYPED_SOURCE, None)
        try:
            role = Role(r.get("role", Role.NODE))
        except ValueError:
            role = Role.NODE
        try:
            node = make_typed_node(
                str(r["host"]),
                str(r.get("port") or ""),
                str(r.get("user") or ""),
                str(r.get("role") or "node"),
            )
        except CrvsError as exc:
            error = InventoryError(TYPED_SOURCE, None, f"typed node {i}: {exc.message}")
            out.append(
                NodeEntry(
                    name if _HOST_NAME.match(name) else f"typed-{i}", role, origin, error=error
                )
            )
            continue
        out.append(NodeEntry(node.name, node.role, origin, node=node))
    return out


def typed_nodes(rows: list[Any]) -> list[Node]:
    """The typed nodes of ``rows``; ``InventoryError`` if one is not valid."""
    out = []
    for entry in typed_node_entries(rows):
        if entry.error is not None:
            raise entry.error
        assert entry.node is not None
        out.append(entry.node)
    return out


def make_typed_node(host: str, port: str = "", user: str = "", role: str = "node") -> Node:
    """A node typed by the operator; raises ``InvalidName`` with the reason when invalid."""
    try:
        r = Role(role.strip())
    except ValueError:
        raise InvalidName(
            f"unknown role {quoted(role)} (manager, worker, backup or node)"
        ) from None
    h = validate_host(host)
    p = validate_port(port) if port.strip() else None
    u = validate_user(user) if user.strip() else None
    # host:port names it when a port is given: two nodes may share an address (a bastion's
    # forwarded ports, several sshd on one test box).
    name = f"{h}:{p}" if p else h
    return Node(name=name, host=h, role=r, port=p, user=u, typed=True)
