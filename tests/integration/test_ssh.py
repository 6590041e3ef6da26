"""tasks.servers.ssh against a real OpenSSH sshd on loopback: every failure has its own reason."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from tasks.servers.ssh import (
    FailureKind,
    SshFailure,
    SshOptions,
    SshTarget,
    open_node,
    run,
    trust_host_key,
)
from tests.support.sshd import make_key

pytestmark = pytest.mark.sshd


async def failure_of(target: SshTarget, options: SshOptions) -> SshFailure:
    with pytest.raises(SshFailure) as info:
        async with open_node(target, options) as conn:
            await run(conn, ["true"])
    return info.value


async def test_run_command_and_limits(sshd_nodes, ssh_user, ssh_options) -> None:
    s = sshd_nodes[0]
    async with open_node(SshTarget(s.address, s.port, ssh_user), ssh_options) as conn:
        r = await run(conn, ["printf", "%s|", "a b", "$HOME", "; echo x"])
        assert r.ok and r.stdout == "a b|$HOME|; echo x|"  # argv reaches the remote intact
        r = await run(conn, ["sh", "-c", "head -c 500000 /dev/zero | tr '\\0' A"], max_output=1000)
        assert r.truncated and len(r.stdout) == 1000 and r.exit_status is None
        started = time.monotonic()
        r = await run(conn, ["sleep", "5"], timeout=0.5)
        assert r.timed_out and time.monotonic() - started < 2
        r = await run(conn, ["sh", "-c", "echo oops >&2; exit 3"])
        assert (r.exit_status, r.stderr) == (3, "oops\n")


async def test_unknown_key_then_trusted(sshd_nodes, ssh_user, ssh_options, tmp_path: Path) -> None:
    s = sshd_nodes[1]
    options = SshOptions(**{**ssh_options.__dict__, "known_hosts": tmp_path / "new_known_hosts"})
    f = await failure_of(SshTarget(s.address, s.port, ssh_user), options)
    assert f.kind is FailureKind.UNKNOWN_HOST_KEY
    assert f.host_key is not None and f.host_key.fingerprint == s.host_key_fingerprint
    assert f.host_key.fingerprint in f.message
    assert not options.known_hosts.exists() or s.address not in options.known_hosts.read_text()
    trust_host_key(options.known_hosts, f.host_key)
    assert options.known_hosts.read_text() == s.known_hosts_line() + "\n"
    async with open_node(SshTarget(s.address, s.port, ssh_user), options) as conn:
        assert (await run(conn, ["true"])).ok


async def test_changed_key_refused(sshd_nodes, ssh_user, ssh_options, tmp_path: Path) -> None:
    s = sshd_nodes[2]
    other = make_key(tmp_path / "impostor")
    kh = tmp_path / "kh"
    kh.write_text(f"[{s.address}]:{s.port} {other.public_line}\n")
    options = SshOptions(**{**ssh_options.__dict__, "known_hosts": kh})
    f = await failure_of(SshTarget(s.address, s.port, ssh_user), options)
    assert f.kind is FailureKind.CHANGED_HOST_KEY
    assert f"ssh-keygen -R '[{s.address}]:{s.port}'" in f.message
    assert kh.read_text() == f"[{s.address}]:{s.port} {other.public_line}\n"  # untouched


async def test_auth_refused_dns_failures(sshd_nodes, ssh_user, ssh_options, tmp_path: Path) -> None:
    s = sshd_nodes[0]
    stranger = make_key(tmp_path / "stranger")
    options = SshOptions(**{**ssh_options.__dict__, "client_keys": (stranger.private,)})
    assert (
        await failure_of(SshTarget(s.address, s.port, ssh_user), options)
    ).kind is FailureKind.AUTH
    with socket.socket() as sock:  # a port certainly closed: bound, never listening
        sock.bind(("127.0.0.2", 0))
        closed = sock.getsockname()[1]
        f = await failure_of(SshTarget("127.0.0.2", closed, ssh_user), ssh_options)
    assert f.kind is FailureKind.REFUSED and "refused" in f.message
    f = await failure_of(SshTarget("no-such-node.invalid", 22, ssh_user), ssh_options)
    assert f.kind is FailureKind.DNS
    f = await failure_of(
        SshTarget(s.address, s.port, ssh_user, key_file=str(tmp_path / "missing")), ssh_options
    )
    assert f.kind is FailureKind.CONFIG and "missing" in f.message


async def test_silent_listener_times_out(ssh_user, ssh_options) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.5", 0))
        sock.listen(8)  # the kernel completes the TCP handshake; nobody ever speaks SSH
        options = SshOptions(
            **{**ssh_options.__dict__, "connect_timeout": 1.0, "login_timeout": 1.0}
        )
        started = time.monotonic()
        f = await failure_of(SshTarget("127.0.0.5", sock.getsockname()[1], ssh_user), options)
    assert f.kind is FailureKind.TIMEOUT
    assert time.monotonic() - started < 4


async def test_connection_lost_mid_check(
    sshd_factory, ssh_user, ssh_options, tmp_path: Path
) -> None:
    # The forced command kills its own sshd session process: the link drops mid-command.
    s = sshd_factory("127.0.0.6", extra=["ForceCommand kill -9 $PPID"])
    kh = tmp_path / "kh"
    kh.write_text(s.known_hosts_line() + "\n")
    options = SshOptions(**{**ssh_options.__dict__, "known_hosts": kh})
    with pytest.raises(SshFailure) as info:
        async with open_node(SshTarget(s.address, s.port, ssh_user), options) as conn:
            await asyncio.gather(run(conn, ["cat", "/proc/meminfo"]), run(conn, ["nproc"]))
            await run(conn, ["true"])
    assert info.value.kind is FailureKind.LOST


async def test_proxyjump_through_bastion(
    sshd_nodes, ssh_user, ssh_client_key, known_hosts, tmp_path: Path
) -> None:
    jump, target = sshd_nodes[0], sshd_nodes[1]
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host bastion\n  HostName {jump.address}\n  Port {jump.port}\n  User {ssh_user}\n"
        f"  IdentityFile {ssh_client_key.private}\n"
        f"Host inner\n  HostName {target.address}\n  Port {target.port}\n  User {ssh_user}\n"
        f"  IdentityFile {ssh_client_key.private}\n  ProxyJump bastion\n"
    )
    options = SshOptions(
        known_hosts=known_hosts, config_files=(config,), agent_path="", connect_timeout=5
    )
    async with open_node(SshTarget("inner"), options) as conn:
        r = await run(conn, ["sh", "-c", "echo $SSH_CONNECTION"])
    assert r.ok and r.stdout.split()[2] == target.address
    # the bastion forwarded it (its log records the direct-tcpip request to the target)
    assert f"to {target.address} port {target.port}" in jump.log_text()
    # the hop is checked against OUR known_hosts too: an unknown bastion is refused
    only_target = tmp_path / "kh2"
    only_target.write_text(target.known_hosts_line() + "\n")
    f = await failure_of(
        SshTarget("inner"), SshOptions(**{**options.__dict__, "known_hosts": only_target})
    )
    assert f.kind is FailureKind.UNKNOWN_HOST_KEY and "via jump host bastion" in f.message


async def test_run_batch_separates_commands(sshd_nodes, ssh_user, ssh_options) -> None:
    from tasks.servers.ssh import run_batch

    s = sshd_nodes[0]
    async with open_node(SshTarget(s.address, s.port, ssh_user), ssh_options) as conn:
        results = await run_batch(
            conn,
            [
                ["printf", "one"],
                ["sh", "-c", "echo two; echo err >&2; exit 4"],
                ["sleep", "30"],
                ["echo", "$(id) ; 'quoted'"],
            ],
            timeout=1,
        )
    assert [(r.stdout, r.exit_status) for r in results[:2]] == [("one", 0), ("two\n", 4)]
    assert results[1].stderr == "err\n" and results[0].stderr == ""
    assert results[2].timed_out  # killed by the remote timeout(1); the next still ran
    assert results[3].stdout == "$(id) ; 'quoted'\n"
