"""Running commands on one server: ``RemoteRun`` takes an argv and returns a ``RemoteResult``.

The app gets one from ``ssh_runner`` (``tasks.servers.ssh``: known_hosts checked, the
operator's ssh config honoured); tests may pass any other. Failures to connect raise
``tasks.servers.ssh.SshFailure`` (a ``CrvsError``), never a bare exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from tasks.lean import dataclass

if TYPE_CHECKING:
    from tasks.servers.ssh import SshOptions


@dataclass(frozen=True)
class RemoteResult:
    exit_status: int | None
    stdout: str
    stderr: str = ""


RemoteRun = Callable[[Sequence[str]], Awaitable[RemoteResult]]


@contextlib.asynccontextmanager
async def ssh_runner(
    host: str,
    port: int | None = None,
    user: str | None = None,
    options: SshOptions | None = None,
    *,
    timeout: float = 60.0,
    key_file: str | None = None,
) -> AsyncIterator[RemoteRun]:
    """One SSH connection for several commands; closed on exit."""
    from tasks.servers.ssh import SshOptions, SshTarget, open_node, run

    options = options or SshOptions()
    async with open_node(SshTarget(host, port, user, key_file), options) as conn:

        async def remote(argv: Sequence[str]) -> RemoteResult:
            result = await run(conn, list(argv), timeout=timeout)
            status = None if result.timed_out else result.exit_status
            return RemoteResult(status, result.stdout, result.stderr)

        yield remote
