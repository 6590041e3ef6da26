"""A deploy settles only on a passing manager; the run-once services of a 1.3 stack do not
keep the stack "not up"; the checks' verdicts and the rollback's plan."""

from __future__ import annotations

from tasks.release.checks import CheckResult, PostDeployChecks, migration_state
from tasks.release.deploy import (
    DeployRecord,
    DeployRequest,
    StackProbe,
    record_checks,
    record_deploy,
    record_health,
    record_stack,
    settle_phase,
    settle_problems,
)
from tasks.servers.health import (
    CommandResult,
    Health,
    HealthSnapshot,
    NodeHealth,
    Service,
    evaluate_swarm,
)
from tasks.servers.inventory import Node, Role
from tasks.session.phases import PhaseStatus
from tasks.session.state import Session, now_iso

QA = DeployRequest("qa", "qa.example.org", "v1.3.5", "v1.3.5-fj", 1)
MANAGER = Node("qa1", "203.0.113.20", Role.MANAGER)
WORKER = Node("qa2", "203.0.113.21", Role.WORKER)


def _deployed() -> Session:
    session = Session()
    record_deploy(session, None, QA, ["yarn", "deploy"], how="pane", exit_code=0)
    probe = StackProbe(services=[Service("opencrvs_gateway", "replicated", 1, 1)], node="qa1")
    probe.migration = "finished"
    record_stack(session, "qa", probe)
    record_checks(
        session,
        "qa",
        PostDeployChecks(
            "qa", "qa1", "qa.example.org", now_iso(), [CheckResult("x", "x", "pass", "")]
        ),
    )
    return session


def _health(session: Session, manager: Health, worker: Health = Health.PASS) -> None:
    at = now_iso()
    record_health(
        session,
        "qa",
        HealthSnapshot(
            "qa",
            at,
            [
                NodeHealth(MANAGER, manager, checked_at=at),
                NodeHealth(WORKER, worker, checked_at=at),
            ],
        ),
    )


def test_settles_on_a_passing_manager() -> None:
    session = _deployed()
    _health(session, Health.PASS)
    assert settle_phase(session, "qa")
    assert session.phase("deploy_qa").status is PhaseStatus.DONE


def test_a_manager_that_reports_nothing_does_not_settle_even_if_the_rest_passes() -> None:
    session = _deployed()
    _health(session, Health.UNKNOWN)
    assert not settle_phase(session, "qa")
    assert any("manager qa1 did not pass" in p for p in settle_problems(session, "qa"))
    _health(session, Health.FAIL)
    assert not settle_phase(session, "qa")
    # It settled once; a later failing look reopens it (the status stays true).
    _health(session, Health.PASS)
    assert settle_phase(session, "qa")
    _health(session, Health.FAIL)
    assert not settle_phase(session, "qa")
    assert session.phase("deploy_qa").status is not PhaseStatus.DONE


def test_a_stack_not_seen_from_the_manager_or_checks_not_run_does_not_settle() -> None:
    session = _deployed()
    DeployRecord.of(session).qa.stack.node = ""
    from tasks.release.deploy import reseal

    reseal(session, "qa")
    _health(session, Health.PASS)
    assert "the stack was not seen from the manager" in settle_problems(session, "qa")
    session = Session()
    record_deploy(session, None, QA, ["yarn", "deploy"], how="pane", exit_code=0)
    _health(session, Health.PASS)
    assert "the checks after the deploy have not run" in settle_problems(session, "qa")


def test_an_edited_deploy_record_does_not_settle() -> None:
    session = _deployed()
    _health(session, Health.PASS)
    DeployRecord.of(session).qa.exit_code = 0  # unchanged value: still sealed
    assert settle_phase(session, "qa")
    DeployRecord.of(session).qa.version = "v9"
    assert settle_problems(session, "qa") == ["the deploy's record was edited outside crvs-migrate"]


def test_run_once_services_do_not_keep_a_1_3_stack_down() -> None:
    services = [
        Service("opencrvs_gateway", "replicated", 2, 2),
        Service("opencrvs_migration", "replicated", 0, 1),
        Service("opencrvs_mongo-on-update", "replicated", 0, 1),
        Service("opencrvs_setup-elasticsearch-users", "replicated", 0, 1),
        Service("opencrvs_setup-kibana-config", "replicated", 1, 1),
    ]
    probe = StackProbe(services=services)
    probe.migration = "finished"
    assert probe.up and probe.not_up == []
    down = StackProbe(services=[*services, Service("opencrvs_search", "replicated", 0, 2)])
    down.migration = "finished"
    assert down.not_up == ["opencrvs_search 0/2"]
    lines = "\n".join(f"{s.name}\t{s.mode}\t{s.running}/{s.desired}" for s in services)
    nodes = CommandResult(("docker",), 0, "m1\tReady\tActive\tLeader\n", "", 0.1)
    ls = CommandResult(("docker",), 0, lines + "\n", "", 0.1)
    assert evaluate_swarm(nodes, ls, 1).status is Health.PASS  # Cluster health agrees


def test_migration_states() -> None:
    assert migration_state("Complete 2 minutes ago\nShutdown 3 minutes ago") == "finished"
    assert migration_state("Running 5 seconds ago") == "running"
    assert migration_state("Failed 1 second ago") == "failed"
    assert migration_state("") == "not found"


def test_the_rollback_restores_only_where_data_was_migrated() -> None:
    from tasks.release.deploy import EnvironmentDeploy, PreviousVersions, StackRecord
    from tasks.release.rollback import plan_rollback
    from tasks.upgrade.answers import Answers

    session = Session()
    Answers.of(session).current_version = "1.3.4"
    Answers.of(session).target_version = "1.3.5"  # 1.3.5 has no data migration
    prod = EnvironmentDeploy(["yarn"], "p", "v1.3.5", "v1.3.5-fj", 3, False, "pane", now_iso())
    prod.previous = PreviousVersions(now_iso(), "v1.3.4", "v1.3.4-fj")
    prod.stack = StackRecord(now_iso(), True, "ok")
    DeployRecord.of(session).production = prod
    plan = plan_rollback(session)
    assert (plan.core, plan.country_config, plan.restore_data) == ("v1.3.4", "v1.3.4-fj", False)
    assert [s.id for s in plan.steps] == ["redeploy", "checks"]
    prod.stack.migrations_applied = ["20240201123539-join-given-name.js"]
    assert [s.id for s in plan_rollback(session).steps][1:4] == [
        "copy",
        "restore",
        "redeploy_after_restore",
    ]
