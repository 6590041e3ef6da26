"""Free disk and memory per node, as last measured: the hand-off between
Cluster health (which writes it) and Prepare (whose server answers it fills).

Kept in the health section (``tasks.servers.health.HealthRecord.resources``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from tasks.lean import dataclass
from tasks.units import GIB


@dataclass(frozen=True)
class NodeResources:
    node: str
    checked_at: str
    ram_total_bytes: int | None = None
    ram_available_bytes: int | None = None
    # The OpenCRVS data disk (/data) when mounted, else the root filesystem.
    disk_total_bytes: int | None = None
    disk_free_bytes: int | None = None
    cpus: int | None = None

    @property
    def disk_free_gib(self) -> float | None:
        return None if self.disk_free_bytes is None else self.disk_free_bytes / GIB

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
            cpus=_count(data.get("cpus")),
        )


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
