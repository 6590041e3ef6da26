"""The post-deploy wait over REAL SSH: a manager whose `docker` is a stand-in (no docker here)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tasks.release.deploy import wait_for_stack
from tests.support.release_sshd import SshServer, release_server
from tests.support.sshd import shared_tempdir, sshd_available

pytestmark = [
    pytest.mark.sshd,
    pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available())),
]

# Answers like `docker service ls/ps/logs` on a swarm manager; the stack comes up on the
# third look and the migration task completes. `MODE` switches to hostile output.
FAKE_DOCKER = r"""#!/bin/sh
dir=$(dirname "$0")
n=$(cat "$dir/count" 2>/dev/null || echo 0)
mode=$(cat "$dir/mode" 2>/dev/null || echo normal)
case "$1 $2" in
  "service ls")
    n=$((n+1)); echo $n > "$dir/count"
    if [ "$mode" = garbage ]; then printf '\033[2J[red]not a table[/red]\n'; exit 0; fi
    if [ $n -ge 3 ]; then
      printf 'opencrvs_gateway\treplicated\t3/3\nopencrvs_search\treplicated\t1/1\nopencrvs_migration\treplicated\t0/1\n'
    else
      printf 'opencrvs_gateway\treplicated\t1/3\nopencrvs_search\treplicated\t0/1\nopencrvs_migration\treplicated\t1/1\n'
    fi ;;
  "service ps")
    if [ $n -ge 3 ]; then echo "Complete 2 seconds ago"; else echo "Running 9 seconds ago"; fi ;;
  "service logs")
    echo "Migrating hearth-dev: 20231113 add-location-ids" >&2 ;;
  *) echo "unexpected docker $*" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def manager(sshd_factory, ssh_client_key) -> Iterator[SshServer]:
    # The stand-in docker, writable by the login user (it counts the looks).
    bin_dir = shared_tempdir("crvs-fake-docker-")
    bin_dir.chmod(0o777)
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    try:
        # sshd's SetEnv puts it first on the session's PATH.
        yield release_server(
            sshd_factory,
            ssh_client_key,
            "127.0.0.7",
            extra=[f"SetEnv PATH={bin_dir}:/usr/bin:/bin"],
            shared=bin_dir,
        )
    finally:
        shutil.rmtree(bin_dir, ignore_errors=True)


async def test_wait_until_every_service_is_up_and_migrations_finished(manager: SshServer) -> None:
    progress = []
    async with manager.runner() as run:
        probe = await wait_for_stack(
            run,
            timeout_s=30,
            interval_s=0.05,
            on_progress=lambda p, t: progress.append(p.summary()),
        )
    assert probe.up, probe.summary()
    assert len(progress) == 3
    assert progress[0] == (
        "0/2 services n/n; migrations running; not up: opencrvs_gateway 1/3, opencrvs_search 0/1"
    )
    assert probe.migration_log_tail == ["Migrating hearth-dev: 20231113 add-location-ids"]


async def test_wait_is_bounded_and_hostile_output_is_one_readable_state(manager: SshServer) -> None:
    (manager.shared / "mode").write_text("garbage\n")
    async with manager.runner() as run:
        probe = await wait_for_stack(run, timeout_s=0.2, interval_s=0.1)
    assert not probe.up
    assert "unexpected" in probe.error
    assert "\x1b" not in probe.summary()
