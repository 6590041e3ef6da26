"""Free disk and memory per node, as last measured: the hand-off between
Cluster health (which writes it) and Prepare (whose server answers it fills).

Stored in ``session.health["resources"][<environment>]`` as a list of tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tasks.session.state import Session

GB = 1024**3


@dataclass(frozen=True)
class NodeResources:
    node: str
    checked_at: str
    ram_total_bytes: int | None = None
    ram_available_bytes: int | None = None
    # The OpenCRVS data disk (/data) when mounted, else the root filesystem.
    disk_total_bytes: int | None = None
    disk_free_bytes: int | None = None

    @property
    def ram_total_gb(self) -> float | None:
        return None if self.ram_total_bytes is None else self.ram_total_bytes / GB

    @property
    def disk_free_gb(self) -> float | None:
        return None if self.disk_free_bytes is None else self.disk_free_bytes / GB

    def to_state(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> NodeResources:
        return cls(
            node=str(data["node"]),
            checked_at=str(data.get("checked_at", "")),
            ram_total_bytes=data.get("ram_total_bytes"),
            ram_available_bytes=data.get("ram_available_bytes"),
            disk_total_bytes=data.get("disk_total_bytes"),
            disk_free_bytes=data.get("disk_free_bytes"),
        )


def store_node_resources(session: Session, environment: str, nodes: list[NodeResources]) -> None:
    session.health.setdefault("resources", {})[environment] = [n.to_state() for n in nodes]


def load_node_resources(session: Session, environment: str) -> list[NodeResources]:
    stored = session.health.get("resources", {})
    rows = stored.get(environment, [])
    if not rows and session.demo and environment == "production":
        # In a demo session the demo cluster stands in for production.
        rows = stored.get("demo", [])
    return [NodeResources.from_state(r) for r in rows if isinstance(r, dict) and "node" in r]
