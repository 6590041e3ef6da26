"""Deploy command builder, clear_data rules, and the bounded wait for the stack."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tasks.demo.sandbox import deploy_sh
from tasks.errors import InvalidName
from tasks.release.deploy import (
    ClearDataRefused,
    DeployRequest,
    build_deploy_argv,
    deploy_process_env,
    migration_state,
    wait_for_stack,
)
from tasks.release.env_check import read_env_files
from tasks.upgrade.catalogue import deploy_required_env
from tests.support.localrun import local_runner

QA = DeployRequest("qa", "qa.farajaland.example.org", "v1.3.5", "v1.3.5", 1)


def test_exact_qa_argv() -> None:
    assert build_deploy_argv(QA) == [
        "yarn",
        "deploy",
        "--clear_data=no",
        "--environment=qa",
        "--host=qa.farajaland.example.org",
        "--version=v1.3.5",
        "--country_config_version=v1.3.5",
        "--replicas=1",
    ]
    bash = build_deploy_argv(
        DeployRequest("production", "prod.example.org", "v1.3.5", "v1.3.5", 3, use_yarn=False)
    )
    assert bash[:3] == ["bash", "infrastructure/deploy.sh", "--clear_data=no"]
    assert "--environment=production" in bash


def test_clear_data_needs_the_exact_host_and_never_production() -> None:
    wipe = DeployRequest("qa", "qa.farajaland.example.org", "v1.3.5", "v1.3.5", 1, clear_data=True)
    for typed in (None, "", "qa", "QA.farajaland.example.org", "qa.farajaland.example.org "):
        with pytest.raises(ClearDataRefused):
            build_deploy_argv(wipe, typed)
    assert "--clear_data=yes" in build_deploy_argv(wipe, "qa.farajaland.example.org")
    prod = DeployRequest("production", "prod.example.org", "v1.3.5", "v1.3.5", 3, clear_data=True)
    with pytest.raises(ClearDataRefused, match="always"):
        build_deploy_argv(prod, "prod.example.org")


@pytest.mark.parametrize(
    "bad",
    [
        DeployRequest("staging", "h", "v1", "v1", 1),
        DeployRequest("qa", "-oProxyCommand=x", "v1", "v1", 1),
        DeployRequest("qa", "h", "v1;reboot", "v1", 1),
        DeployRequest("qa", "h", "v1", "v1", 2),
    ],
)
def test_bad_parts_refused(bad: DeployRequest) -> None:
    with pytest.raises(InvalidName):
        build_deploy_argv(bad)


def test_argv_runs_the_real_deploy_sh_with_env_from_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    (cfg / "infrastructure").mkdir(parents=True)
    (cfg / "infrastructure" / "deploy.sh").write_text(deploy_sh("1.3.5"))
    env_file = tmp_path / "qa.env"
    env_file.write_text("".join(f"{n}=x-{n}\n" for n in deploy_required_env("1.3.5")))
    argv = build_deploy_argv(
        DeployRequest("qa", "qa.example.org", "v1.3.5", "v1.3.5", 1, use_yarn=False)
    )
    env = deploy_process_env(read_env_files([env_file]), base={"PATH": "/usr/bin:/bin"})
    done = subprocess.run(argv, cwd=cfg, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Deploying VERSION v1.3.5 to qa.example.org" in done.stdout
    env.pop("CONTENT_SECURITY_POLICY_WILDCARD")
    done = subprocess.run(argv, cwd=cfg, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "CONTENT_SECURITY_POLICY_WILDCARD" in done.stdout


def test_migration_state() -> None:
    assert migration_state("Complete 2 minutes ago\nShutdown 3 minutes ago") == "finished"
    assert migration_state("Running 5 seconds ago") == "running"
    assert migration_state("Failed 1 second ago") == "failed"
    assert migration_state("") == "not found"


def _fake_docker(tmp_path: Path, ready_after: int) -> Path:
    """A `docker` on PATH whose stack comes up after ``ready_after`` looks (no docker here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    counter = tmp_path / "count"
    counter.write_text("0")
    script = bin_dir / "docker"
    script.write_text(
        f"""#!/bin/sh
n=$(cat {counter})
case "$1 $2" in
  "service ls")
    n=$((n+1)); echo $n > {counter}
    if [ $n -ge {ready_after} ]; then printf 'opencrvs_gateway\\treplicated\\t3/3\\nopencrvs_migration\\treplicated\\t0/1\\n'
    else printf 'opencrvs_gateway\\treplicated\\t1/3 (max 1 per node)\\nopencrvs_migration\\treplicated\\t1/1\\n'; fi ;;
  "service ps")
    if [ $n -ge {ready_after} ]; then echo "Complete 1 second ago"; else echo "Running 3 seconds ago"; fi ;;
  "service logs") printf '\\033[31mRunning migration 2024\\033[0m\\n' >&2 ;;
esac
"""
    )
    script.chmod(0o755)
    return bin_dir


async def test_wait_until_up_with_progress(tmp_path: Path) -> None:
    bin_dir = _fake_docker(tmp_path, ready_after=3)

    run = local_runner(str(bin_dir))

    seen = []
    probe = await wait_for_stack(
        run, timeout_s=30, interval_s=0.05, on_progress=lambda p, t: seen.append(p.summary())
    )
    assert probe.up
    assert len(seen) == 3
    assert "not up: opencrvs_gateway 1/3" in seen[0] and "migrations running" in seen[0]
    assert probe.migration_log_tail == ["Running migration 2024"]  # escape codes stripped


async def test_wait_is_bounded_and_says_what_is_not_up(tmp_path: Path) -> None:
    bin_dir = _fake_docker(tmp_path, ready_after=10_000)

    run = local_runner(str(bin_dir))

    probe = await wait_for_stack(run, timeout_s=0.3, interval_s=0.1)
    assert not probe.up
    assert probe.not_up == ["opencrvs_gateway 1/3"]
    assert probe.migration == "running"


async def test_docker_missing_is_a_readable_state() -> None:
    run = local_runner("")

    probe = await wait_for_stack(run, timeout_s=0.1, interval_s=0.1)
    assert not probe.up and "docker service ls failed" in probe.error


def test_a_phase_the_plan_blocks_refuses_the_deploy() -> None:
    from tasks.release.deploy import GateLocked, ensure_may_deploy
    from tasks.session.phases import PhaseStatus
    from tasks.session.state import Session

    session = Session()
    ensure_may_deploy(session, None, "qa")  # nothing blocks QA by default
    session.phase("deploy_qa").status = PhaseStatus.BLOCKED
    session.phase("deploy_qa").reason = "No QA environment to deploy to: set one up first"
    with pytest.raises(GateLocked, match="No QA environment"):
        ensure_may_deploy(session, None, "qa")
