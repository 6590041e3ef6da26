"""Run a "remote" command on this machine (for tests that need no SSH)."""

from __future__ import annotations

import asyncio

from tasks.deploy import RemoteResult


async def local_run(command: str) -> RemoteResult:
    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-c",
        command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return RemoteResult(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
