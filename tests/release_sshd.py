"""A real sshd on loopback for the release-phase tests (backup server, swarm manager).

Built from ``tests/sshd.py``. Everything the login user reads lives in a world-readable
temp dir: sshd reads authorized_keys as that user, outside root's 0700 pytest dir.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tasks.remote import ssh_runner
from tasks.ssh import SshOptions
from tests.sshd import Sshd, ensure_test_user, make_key


@dataclass
class SshServer:
    sshd: Sshd
    options: SshOptions
    # A directory the login user can read (and write: chmod 0o777 where needed).
    shared: Path

    def runner(self):
        return ssh_runner(self.sshd.address, self.sshd.port, self.sshd.user, self.options)


@contextlib.contextmanager
def sshd_server(
    address: str, extra: list[str] | None = None, shared: Path | None = None
) -> Iterator[SshServer]:
    user = ensure_test_user()
    work = Path(tempfile.mkdtemp(prefix="crvs-release-sshd-"))
    work.chmod(0o755)
    shared = shared or work / "shared"
    shared.mkdir(exist_ok=True)
    shared.chmod(0o755)
    try:
        client = make_key(work / "client" / "id_ed25519")
        with Sshd(work / "sshd", user, client, address, extra=extra) as sshd:
            known = work / "known_hosts"
            known.write_text(sshd.known_hosts_line() + "\n")
            options = SshOptions(
                known_hosts=known, config_files=(), client_keys=(client.private,), agent_path=""
            )
            yield SshServer(sshd, options, shared)
    finally:
        shutil.rmtree(work, ignore_errors=True)
