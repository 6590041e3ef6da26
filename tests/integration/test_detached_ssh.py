"""Detached remote runs on a real OpenSSH sshd: a cut connection costs nothing.

A 20-second stand-in step runs detached on the server; mid-run every connection of the
sshd is killed (SIGKILL of the per-connection sshd processes and the session's follower);
the follower reconnects by itself and finds the step finished with its real exit code and
its complete log. The same after "the app restarted": a second follower, built from the
record as saved in a session file, reattaches and finishes the job.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.servers.detached import (
    FollowEvents,
    RemoteRunRecord,
    RunState,
    follow_run,
    new_run_id,
    remote_status,
    ssh_connect,
)
from tasks.servers.ssh import open_node
from tasks.session import records
from tasks.session.state import now_iso
from tests.support.detached import cut_connections, run_dir
from tests.support.release_sshd import SshServer, release_server
from tests.support.sshd import KeyPair, Sshd

pytestmark = [pytest.mark.sshd, pytest.mark.slow]


def step(lines: int) -> list[str]:
    """``lines`` lines, one every half second, then exit 3: the stand-in for a long backup."""
    return [
        "sh",
        "-c",
        f'i=0; while [ $i -lt {lines} ]; do i=$((i+1)); echo "line $i"; sleep 0.5; done; exit 3',
    ]


def expected(lines: int) -> str:
    return "".join(f"line {i}\n" for i in range(1, lines + 1))


STEP = step(40)  # 20 seconds
EXPECTED = expected(40)


@pytest.fixture
def server(sshd_factory: Callable[..., Sshd], ssh_client_key: KeyPair) -> SshServer:
    return release_server(sshd_factory, ssh_client_key, "127.0.0.61")


def _record(
    server: SshServer, tmp_path: Path, kind: str = "cut", argv: list[str] | None = None
) -> RemoteRunRecord:
    return RemoteRunRecord(
        run_id=new_run_id(kind),
        node="server",
        host=server.sshd.address,
        port=server.sshd.port,
        user=server.sshd.user,
        argv=list(argv or STEP),
        started_at=now_iso(),
        log_file=str(tmp_path / "logs" / f"{kind}.log"),
    )


def _cleanup(server: SshServer, record: RemoteRunRecord) -> None:
    shutil.rmtree(run_dir(server.sshd.user, record.run_id), ignore_errors=True)


async def test_a_cut_connection_mid_run_costs_nothing(server: SshServer, tmp_path: Path) -> None:
    record = _record(server, tmp_path)
    lines: list[str] = []
    drops: list[str] = []
    reattached = asyncio.Event()
    events = FollowEvents(
        on_lines=lines.extend,
        on_reconnecting=lambda n, wait, why: drops.append(why),
        on_reattached=reattached.set,
    )
    t0 = time.monotonic()
    task = asyncio.create_task(
        follow_run(ssh_connect(record, server.options), record, events=events, start=True)
    )
    try:
        async with asyncio.timeout(15):
            while len(lines) < 6:
                await asyncio.sleep(0.1)
        killed = cut_connections(server.sshd)
        assert killed, "no connection to cut"
        async with asyncio.timeout(20):
            await reattached.wait()
        done = await asyncio.wait_for(task, 40)
    finally:
        task.cancel()
        _cleanup(server, record)
    assert drops, "the follower never noticed the cut"
    assert time.monotonic() - t0 >= 19
    assert done.state == RunState.FINISHED
    assert done.exit_code == 3  # the step's own exit code, not the connection's
    assert Path(record.log_file).read_text() == EXPECTED  # every line once, in order
    assert lines == [f"line {i}" for i in range(1, 41)]
    assert done.log_bytes == len(EXPECTED)
    assert done.finished_at and done.duration_s() is not None


async def test_reattached_after_the_app_restarted(server: SshServer, tmp_path: Path) -> None:
    record = _record(server, tmp_path, "restart", step(16))
    first: list[str] = []
    task = asyncio.create_task(
        follow_run(
            ssh_connect(record, server.options),
            record,
            events=FollowEvents(on_lines=first.extend),
            start=True,
        )
    )
    try:
        async with asyncio.timeout(15):
            while len(first) < 4:
                await asyncio.sleep(0.1)
        # The app is killed: its follower goes, and so do the server's sessions.
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        cut_connections(server.sshd)
        saved = records.to_state(record)  # what the session file kept

        restarted = records.from_state(RemoteRunRecord, saved)
        assert restarted.state == RunState.RUNNING
        async with _conn(server) as conn:
            status = await remote_status(conn, restarted.run_id)
        assert status.found and status.alive and status.exit_code is None
        second: list[str] = []
        done = await asyncio.wait_for(
            follow_run(
                ssh_connect(restarted, server.options),
                restarted,
                events=FollowEvents(on_lines=second.extend),
            ),
            40,
        )
    finally:
        _cleanup(server, record)
    assert done.exit_code == 3 and done.state == RunState.FINISHED
    assert Path(record.log_file).read_text() == expected(16)
    # The second follower went on from the byte the first one had.
    assert len(second) < 16 and second[-1] == "line 16"


def _conn(server: SshServer):
    from tasks.servers.ssh import SshTarget

    return open_node(
        SshTarget(server.sshd.address, server.sshd.port, server.sshd.user), server.options
    )


async def test_a_run_whose_supervisor_died_is_interrupted_with_its_log(
    server: SshServer, tmp_path: Path
) -> None:
    import os
    import signal

    record = _record(server, tmp_path, "dies", step(16))
    lines: list[str] = []
    task = asyncio.create_task(
        follow_run(
            ssh_connect(record, server.options),
            record,
            events=FollowEvents(on_lines=lines.extend),
            start=True,
        )
    )
    try:
        async with asyncio.timeout(15):
            while len(lines) < 3:
                await asyncio.sleep(0.1)
        where = run_dir(server.sshd.user, record.run_id)
        # The server "reboots": supervisor and command die without a status.
        child = int((where / "child").read_text())
        supervisor = int((where / "pid").read_text())
        os.killpg(child, signal.SIGKILL)
        os.kill(supervisor, signal.SIGKILL)
        done = await asyncio.wait_for(task, 30)
    finally:
        task.cancel()
        _cleanup(server, record)
    assert done.state == RunState.INTERRUPTED and done.exit_code is None
    assert "without an exit status" in done.note
    assert Path(record.log_file).read_text().startswith("line 1\nline 2\nline 3\n")


def test_values_are_positional_never_in_the_script() -> None:
    from tasks.servers.detached import FOLLOW, START, start_argv

    hostile = ["sh", "-c", "echo $(touch /tmp/pwned)", "'; rm -rf / #"]
    argv = start_argv("20240101t000000z-x-abc123", hostile, "y\ny\n")
    assert argv[:3] == ["sh", "-c", START]
    assert argv[-4:] == hostile and "y\ny\n" in argv
    assert all(v not in START + FOLLOW for v in hostile[2:])
    with pytest.raises(Exception, match="run id"):
        start_argv("../../etc", ["true"])
