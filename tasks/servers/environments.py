"""Environments (QA, production, ...): which inventory, nodes, manager and SSH options each has.

The one place every phase and view asks; commands on a server go through
``tasks.servers.runner``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.errors import CrvsError
from tasks.servers.runner import RemoteRun, ssh_runner
from tasks.session.state import Session, now_iso

if TYPE_CHECKING:
    from tasks.servers.health import HealthSnapshot
    from tasks.servers.inventory import Node
    from tasks.servers.ssh import SshOptions
    from tasks.session.workspace import Workspace


# -- which servers make an environment ----------------------------------------


def ssh_options(workspace: Workspace) -> SshOptions:
    """The operator's OpenSSH setup; in the demo, the demo cluster's files."""
    from tasks.servers.ssh import SshOptions

    if workspace.demo is not None:
        from tasks.demo.cluster import demo_ssh_options

        return demo_ssh_options(workspace.demo.cluster_dir)
    return SshOptions()


def inventory_path(session: Session, workspace: Workspace, environment: str) -> Path | None:
    """The environment's Ansible inventory: Prepare's answer, else (demo) the demo cluster's.

    A served demo never reads an answer outside its sandbox (Prepare refused it)."""
    answer = session.answers.get(f"inventory_{environment}")
    if answer and (path := workspace.allowed(str(answer))) is not None:
        return path
    if workspace.demo is not None:
        path = workspace.demo.cluster_dir / f"{environment}.ini"
        return path if path.exists() else None
    return None


def environment_nodes(session: Session, workspace: Workspace, environment: str) -> list[Node]:
    """The environment's servers: its inventory, else the nodes typed in Cluster health."""
    from tasks.servers.inventory import load_inventory, typed_nodes

    path = inventory_path(session, workspace, environment)
    if path is not None:
        return load_inventory(path).nodes()
    return typed_nodes(session.health, environment)


def manager_node(nodes: Sequence[Node]) -> Node | None:
    from tasks.servers.inventory import Role

    for role in (Role.MANAGER, Role.NODE):
        for node in nodes:
            if node.role is role:
                return node
    return None


def backup_vars(session: Session, workspace: Workspace) -> dict[str, str]:
    """Backup settings from the production inventory's [all:vars], when there is one."""
    from tasks.servers.inventory import load_inventory

    path = inventory_path(session, workspace, "production")
    if path is None:
        return {}
    try:
        inv = load_inventory(path)
    except CrvsError:
        return {}
    v = inv.all_vars
    keys = {
        "ssh_user": "external_backup_server_user",
        "ssh_host": "external_backup_server_ip",
        "ssh_port": "external_backup_server_ssh_port",
        "remote_dir": "external_backup_server_remote_directory",
        "production_ip": "manager_production_server_ip",
    }
    out = {k: str(v[name]) for k, name in keys.items() if v.get(name) not in (None, "")}
    out["replicas"] = str(inv.cluster_size)
    return out


async def check_environment(
    session: Session, workspace: Workspace, environment: str
) -> HealthSnapshot:
    """Cluster health on every node of ``environment``; saved in the session's health section."""
    from tasks.servers.health import HealthSnapshot, check_cluster, save_snapshot

    nodes = environment_nodes(session, workspace, environment)
    if not nodes:
        raise CrvsError(
            f"No servers are known for {environment}: give its inventory in Prepare or type its "
            "nodes in Cluster health.",
            "No servers",
        )
    results = await check_cluster([n for n in nodes if n.in_swarm], ssh_options(workspace))
    snapshot = HealthSnapshot(environment, now_iso(), results, "crvs-migrate release phases")
    save_snapshot(session, snapshot)
    return snapshot


@contextlib.asynccontextmanager
async def manager_runner(
    session: Session, workspace: Workspace, environment: str
) -> AsyncIterator[RemoteRun]:
    """Commands on the environment's swarm manager."""
    node = manager_node(environment_nodes(session, workspace, environment))
    if node is None:
        raise CrvsError(f"No manager node is known for {environment}.", "No manager")
    async with ssh_runner(node.host, node.port, node.user, ssh_options(workspace)) as run:
        yield run
