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
from tasks.upgrade.answers import INVENTORY_HOME, Answers, EnvironmentId, resolve_answer_path

_ENV_IDS = {e.value for e in EnvironmentId}

if TYPE_CHECKING:
    from tasks.servers.health import HealthSnapshot
    from tasks.servers.inventory import Inventory, Node
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


def inventory_path(session: Session, environment: str) -> Path | None:
    """The environment's Ansible inventory, as answered in Prepare (absolute; a relative
    answer is relative to the country config checkout, where operators keep inventories)."""
    answers = Answers.of(session)
    env = answers.environments.get(EnvironmentId(environment)) if environment in _ENV_IDS else None
    if env is None or not env.inventory_path.strip():
        return None
    return resolve_answer_path(env.inventory_path, answers.config_path)


def playbook_dir(session: Session) -> Path | None:
    """The country config's ``infrastructure/server-setup`` (its group_vars/ count for Ansible)."""
    config = Answers.of(session).config_path.strip()
    if not config:
        return None
    path = Path(config).expanduser() / INVENTORY_HOME
    return path if path.is_dir() else None


def load_environment_inventory(session: Session, environment: str) -> Inventory | None:
    from tasks.servers.inventory import load_inventory

    path = inventory_path(session, environment)
    if path is None:
        return None
    return load_inventory(path, playbook_dir=playbook_dir(session))


def environment_nodes(session: Session, environment: str) -> list[Node]:
    """The environment's servers: its inventory and the nodes typed in Cluster health
    (an inventory's node wins over a typed one of the same name).

    Raises ``InventoryError`` when a host's values are not usable (never a partial list).
    """
    from tasks.servers.health import HealthRecord

    inventory = load_environment_inventory(session, environment)
    nodes = inventory.nodes() if inventory is not None else []
    names = {n.name for n in nodes}
    typed = HealthRecord.of(session).typed_nodes(environment)
    return nodes + [n for n in typed if n.name not in names]


def manager_node(nodes: Sequence[Node]) -> Node | None:
    from tasks.servers.inventory import Role

    for role in (Role.MANAGER, Role.NODE):
        for node in nodes:
            if node.role is role:
                return node
    return None


def backup_vars(session: Session) -> dict[str, str]:
    """Backup settings from the production inventory (set and valid ones only)."""
    try:
        inv = load_environment_inventory(session, "production")
    except CrvsError:
        return {}
    if inv is None:
        return {}
    v = inv.backup_settings()
    keys = {
        "ssh_user": "external_backup_server_user",
        "ssh_host": "external_backup_server_ip",
        "ssh_port": "external_backup_server_ssh_port",
        "remote_dir": "external_backup_server_remote_directory",
        "production_ip": "manager_production_server_ip",
    }
    out = {k: v[name] for k, name in keys.items() if name in v}
    out["replicas"] = str(inv.cluster_size)
    return out


async def check_environment(
    session: Session, workspace: Workspace, environment: str
) -> HealthSnapshot:
    """Cluster health on every node of ``environment``; saved in the session's health section."""
    from tasks.servers.health import HealthSnapshot, check_cluster, save_snapshot

    nodes = environment_nodes(session, environment)
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
    node = manager_node(environment_nodes(session, environment))
    if node is None:
        raise CrvsError(f"No manager node is known for {environment}.", "No manager")
    async with ssh_runner(
        node.host, node.port, node.user, ssh_options(workspace), key_file=node.key_file
    ) as run:
        yield run
