"""Prepare's server answers as the last Cluster health run found them.

Prepare's "Fill from health" asks here what to put in an environment's fields: RAM,
CPUs and disk per server (the smallest server's: the cluster is as strong as it),
how many servers, the free disk and RAM of each, and the inventory the nodes were
read from. The backup server is not one of the cluster's servers: it is left out of
the counts and the sizes (it only receives the nightly backup).
"""

from __future__ import annotations

from dataclasses import field

from tasks.lean import dataclass
from tasks.servers.health import HealthRecord
from tasks.servers.inventory import Role
from tasks.servers.resources import NodeResources
from tasks.session.state import Session
from tasks.units import gib
from tasks.upgrade.answers import EnvironmentId, ServerFree


@dataclass(frozen=True)
class HealthAnswers:
    """What the last health run says about one environment (``None``: it could not tell)."""

    environment: EnvironmentId
    checked_at: str
    cluster_size: int | None = None
    ram_gb: int | None = None
    cpus: int | None = None
    disk_gb: int | None = None
    inventory_path: str = ""
    servers: list[ServerFree] = field(default_factory=list)
    # Backup servers found and left out.
    backup_servers: int = 0


def answers_from_health(session: Session, env: EnvironmentId) -> HealthAnswers | None:
    """The answers the last Cluster health run of ``env`` gives; ``None`` if none ran."""
    record = HealthRecord.of(session)
    snapshot = record.snapshots.get(env.value)
    if snapshot is None:
        # A session from before runs were kept whole: the free space per node only.
        resources = record.resources.get(env.value, [])
        servers = _free(resources)
        return HealthAnswers(env, resources[0].checked_at, servers=servers) if servers else None
    cluster = [r for r in snapshot.results if r.node.role is not Role.BACKUP]
    if not cluster:
        return None
    # The sizes as saved beside the run (a run read back from the file has no sizes of
    # its own), for the cluster's nodes only.
    names = [r.node.name for r in cluster]
    saved = {res.node: res for res in record.resources.get(env.value, [])}
    measured = [
        found
        for r, name in zip(cluster, names, strict=True)
        if (found := r.resources or saved.get(name)) is not None
    ]

    def smallest(values: list[int | None]) -> int | None:
        known = [v for v in values if v is not None and v > 0]
        return min(known) if known else None

    ram = smallest([r.ram_total_bytes for r in measured])
    disk = smallest([r.disk_total_bytes for r in measured])
    return HealthAnswers(
        environment=env,
        checked_at=snapshot.checked_at,
        cluster_size=len(cluster),
        # Reported sizes fall a little short of the sold ones (16 GB shows 15.6 GiB).
        ram_gb=round(gib(ram)) if ram else None,
        cpus=smallest([r.cpus for r in measured]),
        disk_gb=round(gib(disk)) if disk else None,
        inventory_path=snapshot.inventory,
        servers=_free(measured),
        backup_servers=len(snapshot.results) - len(cluster),
    )


def _free(resources: list[NodeResources]) -> list[ServerFree]:
    return [
        ServerFree(
            r.node, round(r.disk_free_gib or 0, 1), round(gib(r.ram_available_bytes or 0), 1)
        )
        for r in resources
        if r.disk_free_bytes is not None and r.ram_available_bytes is not None
    ]
