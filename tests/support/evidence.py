"""Evidence other routes of the app leave in the session, for tests of one screen.

(The acceptance tests make every piece of evidence through the UI instead.)
"""

from __future__ import annotations

from tasks.servers.health import Health, HealthSnapshot, NodeHealth, save_snapshot
from tasks.servers.inventory import Node, Role
from tasks.session.state import Session, now_iso


def qa_health(session: Session, status: Health = Health.PASS, at: str | None = None) -> None:
    """A Cluster health run on QA, as Deploy to QA, Cluster health or the gate save it."""
    node = Node("qa1", "203.0.113.20", Role.MANAGER)
    at = at or now_iso()
    save_snapshot(session, HealthSnapshot("qa", at, [NodeHealth(node, status, checked_at=at)]))
