"""The release phases against the demo cluster (in-process asyncssh servers, tasks.demo.cluster)."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tasks.demo.cluster import BACKUP_REMOTE_DIR, DemoCluster, backup_label, build_backup_tree
from tasks.demo.sandbox import DemoSandbox
from tasks.release.backup import verify_backup
from tasks.release.deploy import wait_for_stack
from tasks.servers.environments import backup_vars, manager_runner, ssh_options
from tasks.servers.runner import ssh_runner
from tasks.servers.ssh import FailureKind, SshFailure, trust_host_key
from tasks.session.state import Session, now_iso
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers, EnvironmentId

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory):
    # One cluster for the module: starting it generates host keys (seconds).
    sandbox = DemoSandbox(tmp_path_factory.mktemp("demo") / "sandbox")
    async with DemoCluster(sandbox.cluster_dir) as cluster:
        yield Workspace(sandbox.state_path, demo=sandbox), cluster


def _answered(workspace: Workspace) -> Session:
    """A demo session whose Prepare answers name the demo cluster's inventories (as typed)."""
    assert workspace.demo is not None
    session = Session(demo=True)
    answers = Answers.of(session)
    answers.deployed = True
    for env in (EnvironmentId.QA, EnvironmentId.PRODUCTION):
        answers.environment(env).inventory_path = str(
            workspace.demo.cluster_dir / f"{env.value}.ini"
        )
    return session


async def test_demo_backup_server_nightly_backup_is_too_old_a_fresh_one_verifies(demo) -> None:
    workspace, cluster = demo
    session = _answered(workspace)
    target = backup_vars(session)
    assert target["remote_dir"] == BACKUP_REMOTE_DIR and target["ssh_host"] == "demo-backup"
    options = ssh_options(workspace)
    since = now_iso()
    # The demo leaves the backup server out of known_hosts: the operator must trust it.
    with pytest.raises(SshFailure) as info:
        async with ssh_runner(target["ssh_host"], None, target["ssh_user"], options):
            pass
    assert info.value.kind is FailureKind.UNKNOWN_HOST_KEY
    trust_host_key(options.known_hosts, info.value.host_key)
    async with ssh_runner(target["ssh_host"], None, target["ssh_user"], options) as run:
        nightly = await verify_backup(run, "backup", target["remote_dir"], backup_label(), since)
        assert not nightly.ok
        assert all("older than the gate" in p.problem for p in nightly.parts)
        build_backup_tree(cluster.files.backup_fs, "before-v1.3.5")
        fresh = await verify_backup(run, "backup", target["remote_dir"], "before-v1.3.5", since)
    assert fresh.ok, fresh.problems


async def test_demo_qa_manager_stack_is_up(demo) -> None:
    workspace, _cluster = demo
    async with manager_runner(_answered(workspace), workspace, "qa") as run:
        probe = await wait_for_stack(run, timeout_s=5, interval_s=0.1)
    assert probe.up, probe.summary()
    assert probe.migration == "finished"
