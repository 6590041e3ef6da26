"""Release-phase SSH servers (backup server, swarm manager) on the shared sshd fixtures.

``release_server(sshd_factory, ssh_client_key, address, extra)`` starts one more sshd
through the shared ``sshd_factory`` (tests/conftest.py) and gives the ``SshOptions``
that trust it, plus a directory the login user can read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tasks.servers.runner import ssh_runner
from tasks.servers.ssh import SshOptions
from tests.support.sshd import KeyPair, Sshd, shared_tempdir


@dataclass
class SshServer:
    sshd: Sshd
    options: SshOptions
    # Readable by the login user (pytest's tmp_path is 0700 under root).
    shared: Path

    def runner(self):
        return ssh_runner(self.sshd.address, self.sshd.port, self.sshd.user, self.options)


def release_server(
    sshd_factory: Callable[..., Sshd],
    client_key: KeyPair,
    address: str,
    *,
    extra: list[str] | None = None,
    shared: Path | None = None,
) -> SshServer:
    sshd = sshd_factory(address, extra=extra or [])
    shared = shared or shared_tempdir("crvs-release-")
    known = shared / "known_hosts"
    known.write_text(sshd.known_hosts_line() + "\n")
    options = SshOptions(
        known_hosts=known,
        config_files=(),
        client_keys=(client_key.private,),
        agent_path="",
        connect_timeout=5,
        login_timeout=5,
        command_timeout=10,
    )
    return SshServer(sshd, options, shared)
