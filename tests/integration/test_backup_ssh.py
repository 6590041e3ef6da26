"""Backup verification over REAL SSH: OpenSSH sshd on loopback, a directory laid out like a backup."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.release.backup import expected_parts, verify_backup
from tasks.servers.runner import ssh_runner
from tasks.servers.ssh import FailureKind, SshFailure, SshOptions
from tasks.session.state import now_iso
from tests.support.backupdir import break_part, make_backup_dir
from tests.support.release_sshd import SshServer, release_server
from tests.support.sshd import sshd_available

pytestmark = [
    pytest.mark.sshd,
    pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available())),
]
LABEL = "before-v1.3.5"
PARTS = expected_parts(LABEL)


@pytest.fixture(scope="module")
def backup_server(sshd_factory, ssh_client_key) -> Iterator[SshServer]:
    server = release_server(sshd_factory, ssh_client_key, "127.0.0.6")
    yield server
    shutil.rmtree(server.shared, ignore_errors=True)


def _fresh(server: SshServer, name: str) -> Path:
    d = server.shared / name
    base = make_backup_dir(d, LABEL)
    for root, _dirs, files in os.walk(d):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return base


async def test_complete_backup_verified_over_ssh(backup_server: SshServer) -> None:
    since = now_iso()
    _fresh(backup_server, "complete")
    async with backup_server.runner() as run:
        ver = await verify_backup(
            run, "backup", str(backup_server.shared / "complete"), LABEL, since
        )
    assert ver.ok, ver.problems
    assert {p.path for p in ver.parts} == {p.path for p in PARTS}


@pytest.mark.parametrize("how", ["missing", "empty"])
async def test_each_part_missing_or_empty_over_ssh(backup_server: SshServer, how: str) -> None:
    """Every part broken in turn (one backup directory each), over one SSH connection."""
    since = now_iso()
    async with backup_server.runner() as run:
        for i, part in enumerate(PARTS):
            name = f"{how}-{i}"
            base = _fresh(backup_server, name)
            break_part(base, LABEL, part.path, how)
            ver = await verify_backup(run, "backup", str(backup_server.shared / name), LABEL, since)
            bad = [(p.name, p.problem) for p in ver.parts if not p.ok]
            assert len(bad) == 1 and bad[0][0] == part.name, (part, bad)
            assert how in bad[0][1]


async def test_unknown_host_key_is_refused(backup_server: SshServer, tmp_path: Path) -> None:
    options = SshOptions(
        known_hosts=tmp_path / "empty_known_hosts",
        config_files=(),
        client_keys=backup_server.options.client_keys,
        agent_path="",
    )
    with pytest.raises(SshFailure) as info:
        async with ssh_runner(
            backup_server.sshd.address, backup_server.sshd.port, backup_server.sshd.user, options
        ):
            pass
    assert info.value.kind is FailureKind.UNKNOWN_HOST_KEY
