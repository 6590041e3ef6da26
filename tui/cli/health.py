"""``crvs-migrate health``: Cluster health without the full-screen app (cron, CI).

Never imports textual (a cron run must start fast): ``tasks`` and Rich only.

Exit codes: 0 every node passes, 1 warnings only, 2 a failure (including a node that
could not be reached, reported nothing, or whose host key is not trusted), 3 the
inventory, a node's values or the options cannot be used (nothing is connected to then).

``--list`` prints the nodes without connecting: the same node objects as ``--json``'s
``nodes[].node`` (``Node.to_state``). Output into a pipe or a file is never wrapped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

EXIT_BAD_INPUT = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "health",
        help="check disk, memory and swarm state of every node over SSH",
        description=(
            "Check every node of an OpenCRVS cluster over SSH, concurrently: disk of / and "
            "/data, memory, CPUs and load, uptime, and on the manager the swarm nodes and "
            "services. Uses your ~/.ssh/config, ssh-agent and known_hosts; unknown host keys "
            "are never accepted here (check them in the app, or with ssh, first)."
        ),
        epilog=(
            "Exit codes: 0 all pass (--list: listed), 1 warnings, 2 failures or unchecked "
            "nodes, 3 bad inventory, node values or options (nothing is connected to)."
        ),
    )
    p.add_argument(
        "--inventory",
        "-i",
        type=Path,
        metavar="FILE",
        help="Ansible INI inventory (e.g. infrastructure/server-setup/qa.ini)",
    )
    p.add_argument(
        "--node",
        action="append",
        default=[],
        metavar="[USER@]HOST[:PORT][=ROLE]",
        help="a node to check (repeatable), instead of or besides --inventory; ROLE: manager, worker, backup, node",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--list",
        action="store_true",
        help="list the nodes (from --inventory and --node) without connecting to any",
    )
    p.add_argument(
        "--playbook-dir",
        type=Path,
        metavar="DIR",
        help="where the playbooks are (infrastructure/server-setup): its group_vars/ and "
        "host_vars/ count too, as for ansible-playbook",
    )
    p.add_argument(
        "--known-hosts",
        type=Path,
        metavar="FILE",
        help="known_hosts file (default ~/.ssh/known_hosts)",
    )
    p.add_argument(
        "--ssh-config",
        type=Path,
        action="append",
        metavar="FILE",
        help="ssh config file(s) (default ~/.ssh/config)",
    )
    p.add_argument(
        "--identity",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="extra private key(s) to try",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="overall deadline in seconds (default 60)",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="per-node connect timeout (default 10)",
    )
    p.add_argument(
        "--command-timeout",
        type=float,
        default=20.0,
        metavar="S",
        help="per-command timeout (default 20)",
    )
    p.add_argument(
        "--needed-free-gb",
        type=float,
        default=10.0,
        metavar="GB",
        help="free space (GiB) / and /data need for the upgrade (default 10)",
    )
    p.add_argument(
        "--no-backup",
        action="store_true",
        help="do not check the backup server named in the inventory",
    )
    p.set_defaults(handler=run_health)


def _parse_node(spec: str):  # -> Node
    """``[USER@]HOST[:PORT][=ROLE]``, HOST an IPv6 address in brackets when a port follows."""
    from tasks.servers.inventory import make_typed_node

    role = "node"
    if "=" in spec:
        spec, role = spec.rsplit("=", 1)
    user = ""
    if "@" in spec:
        user, spec = spec.rsplit("@", 1)
    port = ""
    if spec.startswith("[") and "]:" in spec:
        spec, port = spec[1:].split("]:", 1)
    elif spec.count(":") == 1:
        spec, port = spec.split(":")
    return make_typed_node(spec, port, user, role)


def _console():  # -> rich.console.Console
    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    # Into a pipe or a file: every line as long as it is (Rich would wrap at 80 columns).
    return Console(width=100_000, soft_wrap=True)


def _print_findings(findings) -> None:
    from tasks.text import strip_control

    for f in findings:
        print(f"crvs-migrate health: note: {strip_control(str(f))}", file=sys.stderr)


def run_health(args: argparse.Namespace) -> int:
    from tasks.errors import CrvsError
    from tasks.servers.health import HealthPolicy, check_cluster, exit_code
    from tasks.servers.inventory import Role, load_inventory
    from tasks.servers.ssh import SshOptions
    from tasks.units import GIB

    findings = []
    try:
        nodes = []
        source = ""
        if args.inventory:
            inventory = load_inventory(args.inventory, playbook_dir=args.playbook_dir)
            findings = inventory.findings
            nodes = inventory.nodes()
            source = str(args.inventory)
        nodes += [_parse_node(s) for s in args.node]
    except CrvsError as exc:
        _print_findings(findings)
        print(f"crvs-migrate health: {exc.title}: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.no_backup:
        nodes = [n for n in nodes if n.role is not Role.BACKUP]
    if not nodes:
        print("crvs-migrate health: give --inventory FILE or --node HOST", file=sys.stderr)
        return EXIT_BAD_INPUT
    _print_findings(findings)
    if args.list:
        return list_nodes(nodes, source, findings, as_json=args.json)
    kwargs = {}
    if args.known_hosts:
        kwargs["known_hosts"] = args.known_hosts.expanduser()
    options = SshOptions(
        config_files=tuple(args.ssh_config) if args.ssh_config else None,
        client_keys=tuple(args.identity),
        connect_timeout=args.connect_timeout,
        login_timeout=args.connect_timeout,
        command_timeout=args.command_timeout,
        **kwargs,
    )
    policy = HealthPolicy(needed_free_bytes=int(args.needed_free_gb * GIB))
    results = asyncio.run(check_cluster(nodes, options, policy, deadline_s=args.timeout))
    if args.json:
        from tasks.text import sanitize_tree

        report = {
            "source": source,
            "exit_code": exit_code(results),
            "nodes": [r.to_state() for r in results],
            "findings": [f.to_state() for f in findings],
        }
        # Reasons and raw output come from the nodes: cleaned as on screen.
        print(json.dumps(sanitize_tree(report), indent=2))
    else:
        print_table(results)
    return exit_code(results)


def list_nodes(nodes, source: str, findings, *, as_json: bool) -> int:
    """The nodes as they would be checked, without connecting (``health --list``)."""
    if as_json:
        print(
            json.dumps(
                {
                    "source": source,
                    "nodes": [n.to_state() for n in nodes],
                    "findings": [f.to_state() for f in findings],
                },
                indent=2,
            )
        )
        return 0
    from rich.table import Table
    from rich.text import Text

    from tasks.text import strip_control

    table = Table(title=f"Nodes of {source}" if source else "Nodes", expand=False)
    for col in ("node", "role", "host", "port", "user", "key file"):
        table.add_column(col, no_wrap=True)
    for n in nodes:
        table.add_row(
            *(
                Text(strip_control(x))
                for x in (
                    n.name,
                    n.role.value,
                    n.host,
                    str(n.port) if n.port else "(ssh config)",
                    n.user or "(ssh config)",
                    n.key_file or "",
                )
            )
        )
    console = _console()
    console.print(table)
    if any(n.user is None for n in nodes):
        console.print(
            Text(
                "(ssh config): nothing in the inventory sets it, so your ssh config or "
                "ssh's default decides, as it would for Ansible."
            )
        )
    return 0


STYLE = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "untrusted": "bold red",
    "unknown": "yellow",
}


def print_table(results) -> None:
    from rich.table import Table
    from rich.text import Text

    from tasks.servers.health import overall
    from tasks.text import strip_control

    table = Table(title="Cluster health", expand=False)
    for col in ("node", "role", "address", "status", "disk", "memory", "CPUs", "swarm"):
        table.add_column(col, overflow="fold")
    console = _console()
    for r in results:
        style = STYLE.get(r.status.value, "")
        table.add_row(
            # Remote text is data: Text, never markup.
            *(Text(strip_control(x)) for x in (r.node.name, r.node.role.value, r.node.address)),
            Text(f"{r.status.glyph} {r.status.label}", style=style),
            *(Text(strip_control(r.summary(k))) for k in ("disk", "memory", "cpus", "swarm")),
        )
    console.print(table)
    # Reasons below the table: long sentences make an 80-column table unreadable.
    for r in results:
        if r.reason:
            line = Text(
                f"{r.status.glyph} {strip_control(r.node.name)}: ",
                style=STYLE.get(r.status.value, ""),
            )
            line.append(strip_control(r.reason))
            console.print(line)
    status = overall(results)
    console.print(
        Text(f"Overall: {status.glyph} {status.label}", style=STYLE.get(status.value, ""))
    )
    if any(r.host_key is not None and r.status.value == "untrusted" for r in results):
        console.print(
            Text(
                "A host key is not trusted yet. Compare its fingerprint with the server's own, "
                "then trust it in the app (crvs-migrate, Cluster health, key t) or by "
                "connecting once with ssh. This command never accepts keys."
            )
        )
