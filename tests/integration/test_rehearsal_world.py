"""The rehearsal world works without the app's UI: health over SSH on every node, a local deploy
that changes the manager, the emergency backup verified on the backup server, the restore on QA,
and repositories shaped like the real ones (see tests/support/world)."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from tasks.demo.countryconfig import COUNTRYCONFIG_MASTER_VERSION, run_git
from tasks.release.backup import BackupTarget, backup_argv, restore_argv, verify_backup
from tasks.release.deploy import DeployRequest, build_deploy_argv, probe_stack, wait_for_stack
from tasks.servers.health import Health, check_cluster
from tasks.servers.inventory import Role, load_inventory
from tasks.servers.runner import ssh_runner
from tasks.session.state import now_iso
from tests.support.sshd import sshd_available
from tests.support.world import World, WorldOptions
from tests.support.world.repos import CONFLICTS

pytestmark = [
    pytest.mark.sshd,
    pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available())),
]
LABEL = "before-v1.3.5-20240502"


def ssh(world: World, host: str, argv: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    """Plain OpenSSH through the world's ssh config (what deploy.sh and an operator use)."""
    return subprocess.run(
        ["ssh", host, shlex.join(argv)],
        env=world.local_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def backup_command(world: World, label: str = LABEL) -> list[str]:
    """The product's backup argv, with the script where this world keeps it."""
    inv = load_inventory(world.production.inventory)
    v = inv.all_vars
    target = BackupTarget(
        ssh_user=str(v["external_backup_server_user"]),
        ssh_host=str(v["external_backup_server_ip"]),
        ssh_port=int(v["external_backup_server_ssh_port"]),
        remote_dir=str(v["external_backup_server_remote_directory"]),
        production_ip=str(v["manager_production_server_ip"]),
        replicas=inv.cluster_size,
    )
    argv = backup_argv(target, label)
    assert argv[1] == "/opt/opencrvs/infrastructure/emergency-backup-metadata.sh"
    return [argv[0], world.production.manager.backup_script, *argv[2:]]


async def take_backup(world: World, label: str = LABEL):
    m = world.production.manager
    async with ssh_runner(m.address, None, m.user, world.ssh_options(), timeout=60) as run:
        return await run(backup_command(world, label))


async def test_health_over_ssh_on_every_node(rehearsal_world: World) -> None:
    world = rehearsal_world
    nodes = (
        load_inventory(world.production.inventory).nodes()
        + load_inventory(world.qa.inventory).nodes()
    )
    assert [n.role for n in nodes] == [
        Role.MANAGER,
        Role.WORKER,
        Role.WORKER,
        Role.BACKUP,
        Role.MANAGER,
    ]
    assert all(n.port is None for n in nodes if n.role is not Role.BACKUP)  # ssh config decides
    results = await check_cluster(nodes, world.ssh_options(), deadline_s=60, cluster_size=3)
    by = {r.node.name: r for r in results}
    assert set(by) == {"manager1", "worker1", "worker2", "backup", "qa1"}
    for r in results:
        assert r.failure is None, (r.node.name, r.reason)
        assert r.check("disk").status is not Health.UNKNOWN, r.check("disk").detail
    # /data is there (the node's data directory), as on a real OpenCRVS server.
    assert "/data not found" not in by["worker1"].check("disk").detail
    assert by["manager1"].check("swarm").summary.startswith("3/3 nodes · ")
    assert by["qa1"].check("swarm").summary.startswith("1/1 nodes · ")
    assert "swarm" not in {c.key for c in by["worker1"].checks}


async def test_cluster_health_passes_on_a_healthy_1_3_stack(rehearsal_world: World) -> None:
    world = rehearsal_world
    nodes = load_inventory(world.production.inventory).nodes()
    results = await check_cluster(nodes, world.ssh_options(), deadline_s=60)
    swarm = next(r for r in results if r.node.name == "manager1").check("swarm")
    assert swarm.status is Health.PASS, swarm.detail


async def test_lenient_one_shot_services_pass_todays_health_check(make_rehearsal_world) -> None:
    world = make_rehearsal_world(WorldOptions(one_shot_services="lenient"))
    nodes = load_inventory(world.qa.inventory).nodes()
    (result,) = await check_cluster(nodes, world.ssh_options(), deadline_s=60)
    assert result.check("swarm").status is Health.PASS, result.check("swarm").detail


async def test_local_deploy_changes_what_the_manager_runs(make_rehearsal_world) -> None:
    # Lenient one-shot services: the product's wait does not know 1.3's yet (see below).
    world = make_rehearsal_world(WorldOptions(one_shot_services="lenient", converge_after=2))
    m = world.production.manager
    assert m.deployed() == ("v1.3.0", world.country_tag)
    req = DeployRequest(
        "production", world.production.domain, "v1.3.5", "v1.3.5-ruritania.2", 3, use_yarn=False
    )
    env = world.local_env() | world.env_values("production")
    done = subprocess.run(
        build_deploy_argv(req),
        cwd=world.config,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Deploying VERSION v1.3.5 to crvs.ruritania.invalid..." in done.stdout
    assert "rehearsal stand-in" in done.stdout
    assert m.deployed() == ("v1.3.5", "v1.3.5-ruritania.2")
    assert m.state()["stack"]["environment"] == "production"
    # deploy.sh copied the fork's infrastructure/ to the server, as the real one does.
    assert (m.infrastructure_dir / "deploy.sh").exists()
    progress: list[str] = []
    async with ssh_runner(m.address, None, m.user, world.ssh_options()) as run:
        probe = await wait_for_stack(
            run,
            timeout_s=30,
            interval_s=0.05,
            on_progress=lambda p, t: progress.append(p.summary()),
        )
    assert probe.up, probe.summary()
    assert len(progress) == 3 and "migrations running" in progress[0]
    assert "MIGRATED UP: 20240201123539-join-given-name.js" in "\n".join(
        probe.migration_log_tail
        + [
            line
            for line in ssh(
                world, "manager1", ["docker", "service", "logs", "--raw", "opencrvs_migration"]
            ).stdout.splitlines()
        ]
    )
    images = ssh(
        world, "manager1", ["docker", "service", "ls", "--format", "{{.Name}} {{.Image}}"]
    ).stdout
    assert "opencrvs_gateway opencrvs/ocrvs-gateway:v1.3.5" in images
    assert "opencrvs_countryconfig ruritania/ocrvs-ruritania:v1.3.5-ruritania.2" in images


async def test_the_wait_after_a_deploy_ends_on_a_real_1_3_stack(rehearsal_world: World) -> None:
    world = rehearsal_world
    m = world.production.manager
    async with ssh_runner(m.address, None, m.user, world.ssh_options()) as run:
        probe = await wait_for_stack(run, timeout_s=1, interval_s=0.1)
    assert probe.up, probe.summary()


async def test_one_shot_services_show_0_of_1_after_their_run(rehearsal_world: World) -> None:
    world = rehearsal_world
    m = world.production.manager
    async with ssh_runner(m.address, None, m.user, world.ssh_options()) as run:
        probe = await probe_stack(run)
    replicas = {s.name: f"{s.running}/{s.desired}" for s in probe.services}
    assert len(replicas) == 37 and replicas["opencrvs_gateway"] == "2/2"
    assert replicas["opencrvs_migration"] == "0/1" and replicas["opencrvs_mongo-on-update"] == "0/1"
    assert replicas["opencrvs_metricbeat"] == "3/3"  # mode global
    assert probe.migration == "finished"
    workers = ssh(world, "worker1", ["docker", "service", "ls"])
    assert workers.returncode == 1 and "not a swarm manager" in workers.stderr


async def test_backup_lands_on_the_backup_server_and_verifies(rehearsal_world: World) -> None:
    world = rehearsal_world
    since = now_iso()
    result = await take_backup(world)
    assert result.exit_status == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "rehearsal stand-in for emergency-backup-metadata.sh" in result.stdout
    assert "Copied VSExport backup files to remote server." in result.stdout
    b = world.backup
    async with ssh_runner(b.address, b.port, b.user, world.ssh_options()) as run:
        verification = await verify_backup(run, "backup", world.backup_remote_dir, LABEL, since)
    assert verification.ok, verification.problems
    assert world.production.manager.events("backup")[-1]["label"] == LABEL
    # Last night's cron backup is there too, and too old to count.
    async with ssh_runner(b.address, b.port, b.user, world.ssh_options()) as run:
        nightly = sorted(
            p.name for p in __import__("pathlib").Path(world.backup_remote_dir).iterdir()
        )
        old = await verify_backup(run, "backup", world.backup_remote_dir, nightly[0], since)
    assert not old.ok and any("older than the gate" in p for p in old.problems)


async def test_servers_running_the_1_3_0_script_lose_parts_of_the_backup(
    make_rehearsal_world,
) -> None:
    world = make_rehearsal_world(WorldOptions(installed_scripts="1.3.0"))
    since = now_iso()
    result = await take_backup(world)
    assert result.exit_status == 0  # as the real script: no error, parts missing
    assert 'backups/minio/before-v1.3.5-20240502" failed' in result.stdout
    b = world.backup
    async with ssh_runner(b.address, b.port, b.user, world.ssh_options()) as run:
        verification = await verify_backup(run, "backup", world.backup_remote_dir, LABEL, since)
    assert not verification.ok and "does not exist" in verification.error


async def test_restore_on_qa_asks_twice_then_reads_the_backup_back(rehearsal_world: World) -> None:
    world = rehearsal_world
    assert (await take_backup(world)).exit_status == 0
    qa = world.qa.manager
    argv = restore_argv(LABEL, 1)
    argv[1] = qa.restore_script
    for answers in ("n\n", ""):  # "no", or stdin closed (no answer at all)
        refused = ssh(world, "qa1", argv, stdin=answers)
        assert refused.returncode == 0 and "Skipped." in refused.stdout  # exit 0, nothing restored
    assert qa.restored() == [] and qa.state()["data_from"]["label"] == "own"
    done = ssh(world, "qa1", argv, stdin="y\nyes\n")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"restored {LABEL} (data from manager1)" in done.stdout
    assert [(r["label"], r["from"]) for r in qa.restored()] == [(LABEL, "manager1")]
    assert (qa.data_dir / "minio" / "ocrvs" / "birth-declaration-attachment-1.png").read_text() == (
        "attachment on manager1\n"
    )
    # The restore restarts the migration service, as the real script does.
    assert len(qa.state()["migration_runs"]) == 2


async def test_restore_without_the_backup_on_qa_fails(make_rehearsal_world) -> None:
    world = make_rehearsal_world(WorldOptions(restore_fetches=False))
    assert (await take_backup(world)).exit_status == 0
    argv = restore_argv(LABEL, 1)
    argv[1] = world.qa.manager.restore_script
    done = ssh(world, "qa1", argv, stdin="y\ny\n")
    assert done.returncode == 1 and "restore of before-v1.3.5-20240502 is incomplete" in done.stdout
    assert world.qa.manager.state()["data_from"]["label"] == "cleared"


def test_merging_v1_3_5_conflicts_in_the_customised_files(rehearsal_world: World) -> None:
    world = rehearsal_world
    cfg = world.config
    run_git(cfg, "fetch", "-q", "--all")
    assert run_git(cfg, "tag", "--list", "v1.3.5") == "v1.3.5"  # fetch --all brings upstream's tags
    run_git(cfg, "checkout", "-q", "-b", "upgrade-countryconfig-v1.3.5")
    merge = subprocess.run(
        ["git", "merge", "--no-edit", "v1.3.5"], cwd=cfg, capture_output=True, text=True
    )
    assert merge.returncode == 1
    assert sorted(world.conflicted()) == sorted(CONFLICTS)
    assert sorted(world.resolve_conflicts()) == sorted(CONFLICTS)
    run_git(cfg, "commit", "-q", "--no-edit")
    assert json.loads((cfg / "package.json").read_text())["version"] == "1.3.5"
    deploy = (cfg / "infrastructure" / "deploy.sh").read_text()
    assert "Error: Missing environment variable CONTENT_SECURITY_POLICY_WILDCARD." in deploy
    app = (cfg / "src/api/application/application-config-default.ts").read_text()
    assert "'Ruritania CRVS'" in app and "SIGNATURE_REQUIRED_FOR_ROLES" in app
    cert = (
        cfg / "src/data-seeding/certificates/source/Farajaland-birth-certificate-v2.svg"
    ).read_text()
    assert "Republic of Ruritania" in cert and "{{location districtPlaceofbirthId 'name'}}" in cert
    assert "<<<<<<<" not in app + cert


def test_merging_upstream_master_is_visibly_wrong(rehearsal_world: World) -> None:
    world = rehearsal_world
    cfg = world.config
    run_git(cfg, "fetch", "-q", "--all")
    subprocess.run(
        ["git", "merge", "--no-edit", f"{world.upstream_remote}/master"],
        cwd=cfg,
        capture_output=True,
    )
    assert json.loads((cfg / "package.json").read_text())["version"] == COUNTRYCONFIG_MASTER_VERSION
    assert not (cfg / "infrastructure" / "emergency-backup-metadata.sh").exists()


@pytest.mark.parametrize("remote", ["farajaland", "upstream"])
def test_the_upstream_remote_name_is_a_parameter(make_rehearsal_world, remote: str) -> None:
    world = make_rehearsal_world(WorldOptions(upstream_remote=remote, ansible_user_in="group_vars"))
    assert sorted(run_git(world.config, "remote").split()) == sorted(["origin", remote])
    url = run_git(world.config, "remote", "get-url", remote)
    assert url.endswith(
        "opencrvs-farajaland.git" if remote == "farajaland" else "opencrvs-countryconfig.git"
    )
    assert run_git(world.config, "rev-parse", f"{remote}/master") == run_git(
        world.config, "rev-parse", "v1.3.0^{commit}"
    )
    inventory = world.production.inventory.read_text()
    assert "ansible_user" not in inventory
    assert (
        f"ansible_user: {world.user}"
        in (world.production.inventory.parent / "group_vars" / "all.yml").read_text()
    )


def test_repositories_and_env_files_as_the_operator_has_them(rehearsal_world: World) -> None:
    world = rehearsal_world
    assert run_git(world.config, "describe", "--tags") == world.country_tag
    assert run_git(world.config, "status", "--porcelain") == ""
    assert run_git(world.core, "rev-parse", "HEAD") == run_git(
        world.core_origin, "rev-parse", "v1.3.0^{commit}"
    )
    assert (
        json.loads(run_git(world.core_origin, "show", "master:package.json"))["version"] == "2.0.0"
    )
    values = world.env_values("production")
    assert values["SSH_USER"] == world.user and "CONTENT_SECURITY_POLICY_WILDCARD" not in values
    world.set_env_var(
        "production", "CONTENT_SECURITY_POLICY_WILDCARD", f"*.{world.production.domain}"
    )
    assert (
        world.env_values("production")["CONTENT_SECURITY_POLICY_WILDCARD"]
        == "*.crvs.ruritania.invalid"
    )


def test_the_real_health_cli_reaches_the_world(make_rehearsal_world) -> None:
    import sys
    from pathlib import Path

    world = make_rehearsal_world(WorldOptions(one_shot_services="lenient"))
    cli = str(Path(sys.executable).parent / "crvs-migrate")
    argv = [
        cli,
        "health",
        "-i",
        str(world.production.inventory),
        "--ssh-config",
        str(world.ssh_config),
    ]
    argv += ["--known-hosts", str(world.known_hosts), "--identity", str(world.client_key), "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=world.local_env())
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert sorted(n["node"]["name"] for n in report["nodes"]) == [
        "backup",
        "manager1",
        "worker1",
        "worker2",
    ]


def test_qa_deploy_with_clear_data_wipes_qa_and_reruns_migrations(rehearsal_world: World) -> None:
    world = rehearsal_world
    qa = world.qa.manager
    req = DeployRequest("qa", world.qa.domain, "v1.3.5", "v1.3.5-ruritania.2", 1, True, False)
    argv = build_deploy_argv(req, typed_confirmation=world.qa.domain)
    env = world.local_env() | world.env_values("qa")
    done = subprocess.run(
        argv, cwd=world.config, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Clearing all existing data..." in done.stdout
    assert qa.deployed() == ("v1.3.5", "v1.3.5-ruritania.2")
    assert qa.state()["data_from"]["label"] == "cleared"
    assert [r["reason"] for r in qa.state()["migration_runs"]][-2:] == [
        "deploy",
        "service update --force",
    ]
    assert world.production.manager.deployed() == ("v1.3.0", world.country_tag)  # untouched
