"""The report of a rehearsal upgrade (tests/support/world: real repositories, real sshd nodes,
the fork's deploy.sh), made with the tasks functions the screens call, exported headless.

Every figure in it is checked against what the servers and the records say: the versions read
from each swarm manager after its deploy, the services counted there, the downtime from the
production deploy's start to its checks passing, the health figures of each node, the backup
verified on the backup server, the merge that stopped with conflicts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tasks.local.process import Command, ProcessRun, log_path_for
from tasks.local.start import confirm_local_ok
from tasks.local.steps import Step, run_step
from tasks.masking import is_secret_name
from tasks.release.backup import BackupTarget, backup_argv, restore_argv, verify_backup
from tasks.release.checks import run_post_deploy_checks
from tasks.release.deploy import (
    DeployRecord,
    DeployRequest,
    LiveGateCheck,
    build_deploy_argv,
    record_checks,
    record_deploy,
    record_health,
    record_stack,
    settle_phase,
    settle_problems,
    wait_for_stack,
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
    create_tag,
    push_tag,
    record_env_check,
    record_image_tag,
    record_merge_checked,
    record_tag,
    record_tag_pushed,
)
from tasks.report.change import add_approver, record_sign_off, set_change_details
from tasks.report.words import duration, seconds_between
from tasks.servers.health import HealthSnapshot, check_cluster, is_one_shot, save_snapshot
from tasks.servers.inventory import load_inventory
from tasks.servers.runner import ssh_runner
from tasks.session.state import Session, now_iso, save_session
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers, EnvironmentId
from tasks.upgrade.manual import confirm_manual_step, manual_missing
from tasks.upgrade.plan import accept_plan, update_plan
from tests.support.plan import full_answers
from tests.support.sshd import sshd_available
from tests.support.world import World

pytestmark = [
    pytest.mark.sshd,
    pytest.mark.slow,
    pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available())),
]
ROOT = Path(__file__).resolve().parents[2]
LABEL = "before-v1.3.5-20240502"
CHANGE = "CRQ-88412"


class Rehearsal:
    def __init__(self, world: World) -> None:
        self.world = world
        self.ws = Workspace(world.state_path)
        self.session = Session(installation="Ruritania CRVS")

    def save(self) -> None:
        save_session(self.ws.state_path, self.session)

    async def run(
        self,
        phase: str,
        step: str,
        argv: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        *,
        record: bool = True,
    ) -> int:
        run = ProcessRun(
            Command(tuple(argv), cwd),
            log_file=log_path_for(self.ws.logs_dir, phase, step),
            journal=self.ws.journal,
            phase=phase,
            step=step,
            env=env,
        )
        if not record:  # a helper command the screen journals without a step record
            result = await run.run()
            return -1 if result.exit_code is None else result.exit_code
        result = await run_step(
            Step(step, step, tuple(argv), cwd), run, phase_id=phase, session=self.session,
            save=self.save,
        )  # fmt: skip
        self.duration = result.duration_s
        return -1 if result.exit_code is None else result.exit_code

    async def health(self, environment: str) -> HealthSnapshot:
        inventory = self.world.environment(environment).inventory
        nodes = load_inventory(inventory).nodes()
        results = await check_cluster(nodes, self.world.ssh_options(), deadline_s=60)
        snapshot = HealthSnapshot(environment, now_iso(), results, str(inventory))
        save_snapshot(self.session, snapshot)
        return snapshot

    async def deploy(self, environment: str, tag: str) -> None:
        world, env = self.world, self.world.environment(environment)
        req = DeployRequest(environment, env.domain, "v1.3.5", tag, env.replicas, use_yarn=False)
        argv = build_deploy_argv(req)
        phase = "deploy_qa" if environment == "qa" else "deploy_production"
        code = await self.run(
            phase, "deploy", argv, world.config, world.local_env() | world.env_values(environment)
        )
        assert code == 0, self.ws.logs_dir / f"{phase}-deploy.log"
        live = LiveGateCheck(now_iso(), compute_gate(self.session, self.ws.journal).open)
        record_deploy(self.session, self.ws.journal, req, argv, how="run in crvs-migrate",
                      exit_code=code, duration_s=self.duration,
                      gate_check=live if environment == "production" else None)  # fmt: skip
        m = env.manager
        async with ssh_runner(m.address, None, m.user, world.ssh_options(), timeout=60) as run:
            probe = await wait_for_stack(run, timeout_s=60, interval_s=0.2, node=m.name)
            checks = await run_post_deploy_checks(run, environment, m.name, env.domain)
        assert probe.up, probe.summary()
        record_stack(self.session, environment, probe)
        assert checks.ok, [(r.title, r.summary) for r in checks.failed]
        record_checks(self.session, environment, checks)
        snapshot = await self.health(environment)
        record_health(self.session, environment, snapshot)
        for by_hand in manual_missing(self.session, phase):
            confirm_manual_step(self.session, self.ws.journal, phase, by_hand.id, "done as noted")
        assert settle_phase(self.session, environment), settle_problems(self.session, environment)
        self.save()


async def test_report_of_a_rehearsal_upgrade_holds_true_figures(
    rehearsal_world: World, tmp_path: Path
) -> None:
    world = rehearsal_world
    r = Rehearsal(world)
    s, journal = r.session, r.ws.journal
    answers = full_answers(config_path=str(world.config), core_path=str(world.core))
    answers.environment(EnvironmentId.QA).inventory_path = str(world.qa.inventory)
    answers.environment(EnvironmentId.PRODUCTION).inventory_path = str(world.production.inventory)
    s.replace_section(answers)
    assert Answers.of(s).complete, Answers.of(s).problems()
    update_plan(s)
    s.phase("prepare").finish()
    accept_plan(s, now_iso())
    before = await r.health("production")

    # Phases 3 and 4 as the plan says them: the release tag, never master.
    for step, argv in (
        ("fetch", ["git", "fetch", "--tags", "origin"]),
        ("checkout_master", ["git", "checkout", "-q", "v1.3.5"]),
        ("yarn_install", ["yarn", "--force"]),
    ):
        assert await r.run("update_core", step, argv, world.core) == 0, step
    s.phase("update_core").finish()
    cfg = world.config
    for step, argv in (
        ("fetch_all", ["git", "fetch", "--all"]),
        ("upgrade_branch", ["git", "checkout", "-q", "-b", "upgrade-countryconfig-v1.3.5"]),
    ):
        assert await r.run("merge_config", step, argv, cfg) == 0, step
    assert (
        await r.run("merge_config", "merge_upstream", ["git", "merge", "--no-edit", "v1.3.5"], cfg)
        == 1
    )
    world.resolve_conflicts()
    journal.confirmation("commit merge: git commit --no-edit", phase="merge_config")
    commit = ["git", "commit", "-q", "--no-edit"]
    assert await r.run("merge_config", "merge_commit", commit, cfg, record=False) == 0
    s.phase("merge_config").step("merge_upstream").succeed(
        note="conflicts resolved by the operator and committed"
    )
    assert await r.run("merge_config", "yarn_install", ["yarn", "--force"], cfg) == 0
    s.phase("merge_config").finish()
    confirm_local_ok(s, journal)

    # Phase 6: merged, tagged v1.3.5-ruritania.2 (the plan proposed v1.3.5), pushed, env checked.
    tag = "v1.3.5-ruritania.2"
    subprocess.run(["git", "checkout", "-q", "master"], cwd=cfg, check=True)
    subprocess.run(
        ["git", "merge", "-q", "--ff-only", "upgrade-countryconfig-v1.3.5"], cwd=cfg, check=True
    )
    record_merge_checked(s, "upgrade-countryconfig-v1.3.5", "master")
    record_tag(s, tag, create_tag(cfg, tag, journal))
    push_tag(cfg, "origin", tag, journal, confirmed=True)
    record_tag_pushed(s, "origin")
    record_image_tag(s, tag)
    for environment in ("qa", "production"):
        world.set_env_var(environment, "CONTENT_SECURITY_POLICY_WILDCARD",
                          f"*.{world.environment(environment).domain}")  # fmt: skip
    record_env_check(s, check_env_files([world.production.env_file], cfg, "1.3.5"))
    s.phase("release").finish()

    # Phase 7, then the gate on real evidence.
    await r.deploy("qa", tag)
    open_gate(s, journal)
    v = load_inventory(world.production.inventory).all_vars
    target = BackupTarget(
        str(v["external_backup_server_user"]), str(v["external_backup_server_ip"]),
        int(v["external_backup_server_ssh_port"]), str(v["external_backup_server_remote_directory"]),
        str(v["manager_production_server_ip"]), 3,
    )  # fmt: skip
    m, b, qa = world.production.manager, world.backup, world.qa.manager
    plan_backup(s, target, LABEL)
    argv = backup_argv(target, LABEL)
    async with ssh_runner(m.address, None, m.user, world.ssh_options(), timeout=120) as run:
        taken = await run([argv[0], m.backup_script, *argv[2:]])
    assert taken.exit_status == 0, taken.stderr[-2000:]
    confirm_backup_outside(s, journal, target, LABEL, argv)
    async with ssh_runner(b.address, b.port, b.user, world.ssh_options()) as run:
        verification = await verify_backup(
            run, "backup", world.backup_remote_dir, LABEL, BackupRecord.of(s).gate_opened_at
        )
    assert verification.ok, verification.problems
    record_verification(s, verification)
    restore = restore_argv(LABEL, 1)
    restored = subprocess.run(
        ["ssh", "qa1", " ".join([restore[0], qa.restore_script, *restore[2:]])],
        env=world.local_env(), input="y\nyes\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stdout[-2000:]
    confirm_restored_outside(s, journal, LABEL, qa.address, 1)
    await r.health("qa")
    confirm_records_ok(s, journal)
    acknowledge_drafts(s, journal)
    acknowledge_risk(s, journal, "in_place")
    assert refresh_gate(s, journal).open

    # The change board, then production.
    now = datetime.now(UTC)
    set_change_details(s, journal, CHANGE, (now - timedelta(minutes=30)).isoformat(),
                       (now + timedelta(hours=2)).isoformat())  # fmt: skip
    add_approver(s, journal, "Amina Okafor", "Change board chair")
    record_sign_off(s, journal, "Amina Okafor")
    await r.deploy("production", tag)

    md_out, html_out = tmp_path / "change.md", tmp_path / "change.html"
    for out in (md_out, html_out):
        cli = [
            sys.executable,
            "-m",
            "tui",
            "report",
            "--state",
            str(world.state_path),
            "-o",
            str(out),
        ]
        done = subprocess.run(cli, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
    md = md_out.read_text()

    # The versions running at the end, as the managers showed them.
    images = {}
    for env in ("qa", "production"):
        manager = world.environment(env).manager.name
        listed = subprocess.run(
            ["ssh", manager, "docker service ls --format '{{.Name}} {{.Image}}'"],
            env=world.local_env(), capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        images[env] = dict(line.split(" ", 1) for line in listed.splitlines() if line)
    prod = images["production"]
    assert prod["opencrvs_gateway"] == "opencrvs/ocrvs-gateway:v1.3.5"
    assert prod["opencrvs_countryconfig"] == f"ruritania/ocrvs-ruritania:{tag}"
    core_services = sum(1 for image in prod.values() if image.startswith("opencrvs/ocrvs-"))
    row = next(line for line in md.splitlines() if line.startswith("| Production | "))
    assert row.startswith(
        f"| Production | v1.3.5 | {tag} | opencrvs/ocrvs-gateway:v1.3.5, "
        f"ruritania/ocrvs-ruritania:{tag} ({core_services} core services) | deployed "
    )
    stack = DeployRecord.of(r.session).production.stack
    assert stack is not None and stack.images == prod
    # The services counted agree everywhere they appear, and with the manager.
    async with ssh_runner(m.address, None, m.user, world.ssh_options()) as run:
        from tasks.release.deploy import probe_stack

        probe = await probe_stack(run)
    long_running = [svc for svc in probe.services if not is_one_shot(svc)]
    figure = f"{len(long_running)} of {len(long_running)} services at full replicas"
    assert md.count(figure) == 3, figure  # versions, steps and deploys
    assert not re.search(r"\b\d+/\d+ (?:svc|services)\b", md)

    # Downtime: the production deploy's start to its checks passing.
    deploy_step = r.session.phase("deploy_production").steps["deploy"]
    finished = r.session.phase("deploy_production").finished_at
    seconds = seconds_between(deploy_step.started_at, finished)
    assert seconds is not None and seconds >= 0
    assert f"**Production downtime (measured)**: {duration(seconds)}, from " in md
    assert "inside the planned maintenance window" in md

    # Planned against actual, the merge with conflicts, the by-hand step and the sign-off.
    assert "| Country config release tag | v1.3.5 | v1.3.5-ruritania.2 | differs |" in md
    assert re.search(r"\| Command failed \| Merge the country config › Merge v1\.3\.5 into the "
                     r"upgrade branch \| `git merge --no-edit v1\.3\.5` exited with code 1 after "
                     r"\d+ s; the step succeeded afterwards \(conflicts resolved by the operator "
                     r"and committed\)", md)  # fmt: skip
    assert "| Merge v1.3.5 into the upgrade branch | ✓ succeeded |" in md
    assert "| merge commit |" not in md.split("## Part 3")[0]
    assert "| Resolve merge conflicts (by hand) | ✓ done |" in md
    assert "| Done by hand | Verify locally › Start OpenCRVS locally |" in md
    assert "| Amina Okafor | Change board chair | ✓ " in md
    assert "Sign-off missing" not in md and "Late sign-off" not in md

    # Health as measured, in GiB and %: the manager's /data free space from its df.
    manager1 = next(res for res in before.results if res.node.name == "manager1")
    assert manager1.resources is not None and manager1.resources.disk_free_bytes
    health_rows = [line for line in md.splitlines() if line.startswith("| manager1 | manager |")]
    assert health_rows and all("GiB free of" in line and "% used" in line for line in health_rows)
    # The rollback plan stands on the verified backup, with its real size.
    assert f"**Verified backup**: {LABEL}: 12 parts, " in md and "**Ready:" in md
    # No raw keys or dumps anywhere.
    for raw in ("ram_total_bytes", "disk_free_bytes", "gate_open", "services_up", "checked_at",
                "duration_s", "exit_code", "current_version", "real_citizens", "True", "False"):  # fmt: skip
        assert raw not in md, raw
    assert "Not named yet" not in md
    page = html_out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    # No value of a secret deploy variable, in either form.
    secrets = [v for k, v in world.env_values("production").items() if is_secret_name(k)]
    assert len(secrets) >= 6
    for value in secrets:
        assert value not in md and value not in page, value
    if keep := os.environ.get("CRVS_KEEP_REPORT"):
        Path(keep).write_text(md)
