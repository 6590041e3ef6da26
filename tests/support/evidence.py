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


def qa_deployed_and_checked(session: Session) -> None:
    """QA deployed, its stack up, its checks passed and Cluster health passing on its
    manager after the deploy: everything but the phase's by-hand steps."""
    from tasks.release.checks import CheckResult, PostDeployChecks
    from tasks.release.deploy import (
        DeployRequest,
        StackProbe,
        record_checks,
        record_deploy,
        record_health,
        record_stack,
    )
    from tasks.servers.health import Service

    req = DeployRequest("qa", "qa.example.org", "v1.3.5", "v1.3.5", 1)
    record_deploy(session, None, req, ["yarn", "deploy"], how="pane", exit_code=0, duration_s=1.0)
    probe = StackProbe(services=[Service("opencrvs_gateway", "replicated", 1, 1)], node="qa1")
    probe.migration = "finished"
    record_stack(session, "qa", probe)
    checks = [CheckResult("services", "Every service at n/n", "pass", "")]
    record_checks(session, "qa", PostDeployChecks("qa", "qa1", "qa.example.org", now_iso(), checks))
    at = now_iso()
    manager = Node("qa1", "203.0.113.20", Role.MANAGER)
    record_health(
        session, "qa", HealthSnapshot("qa", at, [NodeHealth(manager, Health.PASS, checked_at=at)])
    )
