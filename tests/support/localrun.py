"""Run a "remote" command on this machine (for tests that need no SSH)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from tasks.servers.runner import RemoteResult, RemoteRun


def local_runner(path_prefix: str | None = None) -> RemoteRun:
    env = dict(os.environ)
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env.get('PATH', '')}" if path_prefix else "/nonexistent"

    async def run(argv: Sequence[str]) -> RemoteResult:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            return RemoteResult(127, "", f"{argv[0]}: command not found ({exc.strerror})")
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        return RemoteResult(
            proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
        )

    return run


local_run = local_runner()
