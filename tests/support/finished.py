"""A finished upgrade session made with the tasks functions the screens call, for report tests.

Ruritania CRVS goes 1.3.0 -> 1.3.5 on QA and production. Local commands really run (git,
through ``tasks.local.steps.run_step``); the backup is verified over a local runner on a
directory laid out like the backup server's; the deploys are recorded as the deploy
screen records them (the command's run, the stack, health). On the way it meets what a real
session meets: a failed yarn run then a good one, a step interrupted by a crash (and the
crash report), yarn run ignoring the engines, the release tagged ``v1.3.5-1`` (not the
planned ``v1.3.5``), and local verification confirmed by hand. Production is deployed
after both approvers signed off, inside the planned window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tasks.local.process import Command, ProcessRun, log_path_for
from tasks.local.start import confirm_local_ok
from tasks.local.steps import INTERRUPTED_EVENT, Step, recover_interrupted, run_step
from tasks.release.backup import BackupTarget, backup_argv, verify_backup
from tasks.release.checks import CheckResult, PostDeployChecks
from tasks.release.deploy import (
    DeployRequest,
    LiveGateCheck,
    StackProbe,
    build_deploy_argv,
    record_checks,
    record_deploy,
    record_health,
    record_stack,
    settle_phase,
)
from tasks.release.env_check import check_env_files
from tasks.release.gate import (
    BackupRecord,
    acknowledge_drafts,
    acknowledge_risk,
    compute_gate,
    confirm_backup_outside,
    confirm_records_ok,
    confirm_restored_outside,
    open_gate,
    plan_backup,
    record_verification,
    refresh_gate,
)
from tasks.release.publish import (
    record_env_check,
    record_image_tag,
    record_merge_confirmed,
    record_tag,
    record_tag_pushed,
)
from tasks.report.change import add_approver, record_sign_off, set_change_details
from tasks.servers.health import Health, HealthSnapshot, NodeHealth, Service
from tasks.servers.inventory import Node, Role
from tasks.session.crash import write_crash_report
from tasks.session.state import Session, now_iso, save_session
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers
from tasks.upgrade.plan import accept_plan, update_plan
from tests.support.backupdir import make_backup_dir
from tests.support.evidence import qa_health
from tests.support.gitutil import git
from tests.support.localrun import local_run
from tests.support.plan import full_answers

INSTALLATION = "Ruritania CRVS"
CHANGE = "CHG-2024-0117"
LABEL = "before-v1.3.5-20240502"
TAG = "v1.3.5-1"
SECRET = "Tr0ub4dor&3-horse"
TARGET = BackupTarget("backup", "203.0.113.50", 22, "/backups/opencrvs", "203.0.113.10", 3)
CORE_IMAGES = ("gateway", "auth", "user-mgnt", "workflow", "search", "metrics")


@dataclass
class Finished:
    workspace: Workspace
    session: Session
    env_file: Path
    deploy_started: str
    crash_report: Path


def _services(n: int) -> list[Service]:
    names = [f"opencrvs_{name}" for name in (*CORE_IMAGES, "countryconfig", "client", "hearth")]
    return [Service(name, "replicated", n, n) for name in names] + [
        Service("opencrvs_migration", "replicated", 0, 1)
    ]


def _images(country_tag: str) -> dict[str, str]:
    images = {f"opencrvs_{name}": f"opencrvs/ocrvs-{name}:v1.3.5" for name in CORE_IMAGES}
    images["opencrvs_migration"] = "opencrvs/ocrvs-migration:v1.3.5"
    images["opencrvs_countryconfig"] = f"ruritania/ocrvs-ruritania:{country_tag}"
    images["opencrvs_hearth"] = "opencrvs/hearth:1.1.0"
    return images


async def _run(
    ws: Workspace, session: Session, phase: str, step: str, argv: list[str], cwd: Path
) -> int:
    run = ProcessRun(
        Command(tuple(argv), cwd),
        log_file=log_path_for(ws.logs_dir, phase, step),
        journal=ws.journal,
        phase=phase,
        step=step,
    )
    result = await run_step(
        Step(step, step, tuple(argv), cwd),
        run,
        phase_id=phase,
        session=session,
        save=lambda: save_session(ws.state_path, session),
    )
    return result.exit_code if result.exit_code is not None else -1


def _deploy(ws: Workspace, session: Session, env: str, host: str, started: str) -> None:
    req = DeployRequest(env, host, "v1.3.5", TAG, 3 if env == "production" else 1)
    argv = build_deploy_argv(req)
    phase = "deploy_qa" if env == "qa" else "deploy_production"
    step = session.phase(phase).step("deploy")
    step.start(str(log_path_for(ws.logs_dir, phase, "deploy")), at=started)
    session.phase(phase).start(started)
    finished = now_iso()
    took = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    ws.journal.command(argv, ws.state_path.parent, started, finished, 0, duration_s=took,
                       phase=phase, step="deploy")  # fmt: skip
    step.succeed(exit_code=0, duration_s=took, at=finished)
    # Production stands on the gate as crvs-migrate re-verifies it just before the deploy.
    live = LiveGateCheck(now_iso(), compute_gate(session, ws.journal).open)
    record_deploy(
        session,
        ws.journal,
        req,
        argv,
        how="run in crvs-migrate",
        exit_code=0,
        duration_s=took,
        gate_check=live if env == "production" else None,
    )
    manager = "manager1" if env == "production" else "qa1"
    probe = StackProbe(
        services=_services(3 if env == "production" else 1),
        migration="finished",
        images=_images(TAG),
        node=manager,
    )
    record_stack(session, env, probe)
    checks = [CheckResult("services", "Every service at n/n", "pass", "all n/n")]
    record_checks(session, env, PostDeployChecks(env, manager, host, now_iso(), checks))
    at = now_iso()
    node = Node(manager, "203.0.113.10", Role.MANAGER)
    record_health(
        session, env, HealthSnapshot(env, at, [NodeHealth(node, Health.PASS, checked_at=at)])
    )
    from tasks.upgrade.manual import confirm_manual_step, manual_missing

    for by_hand in manual_missing(session, phase):
        confirm_manual_step(session, ws.journal, phase, by_hand.id, f"done on {env}")
    settle_phase(session, env)


async def finished_session(tmp_path: Path) -> Finished:
    ws = Workspace(tmp_path / "state" / "session.toml")
    session = Session(installation=INSTALLATION)
    repo = tmp_path / "checkout"
    repo.mkdir()
    git(repo, "init", "-q")
    answers = Answers.of(session)
    full = full_answers(config_path=str(repo), core_path=str(repo))
    for name in full.__dataclass_fields__:
        setattr(answers, name, getattr(full, name))
    update_plan(session)
    session.phase("prepare").finish()
    plan = accept_plan(session, now_iso())
    ws.journal.confirmation(
        f"Accepted the plan {plan.digest} ({plan.current} → {plan.target})",
        phase="plan",
        step="review_plan",
    )

    # Phase 3: real commands through run_step (git is there; any argv will do).
    for step in ("fetch", "checkout_master", "yarn_install"):
        assert await _run(ws, session, "update_core", step, ["git", "--version"], repo) == 0
    session.phase("update_core").finish()

    # Phase 4: yarn fails once, a crash interrupts the next run, yarn ignoring engines passes.
    assert await _run(ws, session, "merge_config", "fetch_all", ["git", "--version"], repo) == 0
    assert await _run(ws, session, "merge_config", "yarn_install", ["false"], repo) == 1
    session.phase("merge_config").step("yarn_install").start()
    save_session(ws.state_path, session)
    crash = write_crash_report(ws.state_path.parent, RuntimeError("worker died"))
    for step_id in recover_interrupted(session, "merge_config"):
        ws.journal.event(INTERRUPTED_EVENT + step_id, phase="merge_config")
    ws.journal.confirmation(
        "yarn with node 18.19.0: yarn --force --ignore-engines", phase="merge_config",
        step="yarn_install",
    )  # fmt: skip
    assert await _run(ws, session, "merge_config", "yarn_install", ["git", "--version"], repo) == 0
    session.phase("merge_config").finish()

    # Phase 5: the operator's word.
    confirm_local_ok(session, ws.journal)

    # Phase 6: release.
    record_merge_confirmed(session, ws.journal, "upgrade-countryconfig-v1.3.5", "origin/master")
    record_tag(session, TAG, "0123456789abcdef0123456789abcdef01234567")
    record_tag_pushed(session, "origin")
    record_image_tag(session, TAG)
    env_file = tmp_path / "production.env"
    env_file.write_text(
        f"SUPER_USER_PASSWORD={SECRET}\nSMTP_HOST=smtp.ruritania.example\n"
        "CONTENT_SECURITY_POLICY_WILDCARD=*.ruritania.example\n"
    )
    record_env_check(session, check_env_files([env_file], None, "1.3.5"))
    session.phase("release").finish()

    # Phase 7.
    _deploy(ws, session, "qa", "qa.ruritania.example", now_iso())

    # Phase 8: the gate, on real evidence.
    open_gate(session, ws.journal)
    remote = tmp_path / "backup-server"
    make_backup_dir(remote, LABEL)
    target = BackupTarget("backup", "203.0.113.50", 22, str(remote), "203.0.113.10", 3)
    plan_backup(session, target, LABEL)
    confirm_backup_outside(session, ws.journal, target, LABEL, backup_argv(target, LABEL))
    verification = await verify_backup(
        local_run, "203.0.113.50", str(remote), LABEL, BackupRecord.of(session).gate_opened_at
    )
    assert verification.ok, verification.problems
    record_verification(session, verification)
    confirm_restored_outside(session, ws.journal, LABEL, "203.0.113.20", 1)
    qa_health(session)
    confirm_records_ok(session, ws.journal)
    acknowledge_drafts(session, ws.journal)
    acknowledge_risk(session, ws.journal, "in_place")
    assert refresh_gate(session, ws.journal).open

    # The change board: number, window, two approvers signed off before production.
    now = datetime.now(UTC)
    set_change_details(
        session, ws.journal, CHANGE,
        (now - timedelta(hours=1)).isoformat(timespec="seconds"),
        (now + timedelta(hours=3)).isoformat(timespec="seconds"),
    )  # fmt: skip
    for name, role in (
        ("Amina Okafor", "Change board chair"),
        ("Tomas Varga", "Registrar General"),
    ):
        add_approver(session, ws.journal, name, role)
        record_sign_off(session, ws.journal, name)

    # Phase 9: after the sign-offs.
    started = now_iso()
    _deploy(ws, session, "production", "ruritania.example", started)
    save_session(ws.state_path, session)
    return Finished(ws, session, env_file, started, crash)
