"""SSH trust against a real OpenSSH sshd: revoked keys, certificate authorities, unreadable
known_hosts, jump-host keys, and values that must never reach asyncssh's config expansion."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tasks.servers.health import Health, check_cluster
from tasks.servers.inventory import Node, Role
from tasks.servers.ssh import (
    FailureKind,
    SshFailure,
    SshOptions,
    SshTarget,
    open_node,
    run,
    trust_host_key,
)
from tests.support.sshd import KeyPair, make_key

pytestmark = pytest.mark.sshd


async def failure_of(target: SshTarget, options: SshOptions) -> SshFailure:
    with pytest.raises(SshFailure) as info:
        async with open_node(target, options) as conn:
            await run(conn, ["true"])
    return info.value


def with_known_hosts(options: SshOptions, path: Path, **more) -> SshOptions:
    return SshOptions(**{**options.__dict__, "known_hosts": path, **more})


def sign_host_key(ca: KeyPair, host_key: KeyPair, principals: str) -> Path:
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-s",
            str(ca.private),
            "-I",
            "crvs-test-host",
            "-h",
            "-n",
            principals,
            "-V",
            "-5m:+1d",
            str(host_key.public),
        ],
        check=True,
        capture_output=True,
    )
    return host_key.private.with_name(host_key.private.name + "-cert.pub")


async def test_revoked_key_is_refused_never_offered(
    sshd_nodes, ssh_user, ssh_options, tmp_path: Path
) -> None:
    s = sshd_nodes[0]
    kh = tmp_path / "known_hosts"
    name = f"[{s.address}]:{s.port}"
    kh.write_text(f"# ours\n{s.known_hosts_line()}\n@revoked {name} {s.host_key.public_line}\n")
    before = kh.read_bytes()
    options = with_known_hosts(ssh_options, kh)
    f = await failure_of(SshTarget(s.address, s.port, ssh_user), options)
    assert f.kind is FailureKind.REVOKED_HOST_KEY and f.host_key is None
    assert "@revoked" in f.message and "(line 3)" in f.message
    # revoked alone (no trusted line): still revoked, not "unknown"
    kh.write_text(f"@revoked {name} {s.host_key.public_line}\n")
    f = await failure_of(SshTarget(s.address, s.port, ssh_user), options)
    assert f.kind is FailureKind.REVOKED_HOST_KEY and f.host_key is None
    # Cluster health: a red row, no trust offered
    [r] = await check_cluster([Node("m", s.address, Role.WORKER, s.port, ssh_user)], options)
    assert r.status is Health.FAIL and r.host_key is None and r.failure == "revoked_host_key"
    # and trust_host_key itself refuses it, leaving the file as it was
    from tasks.servers.ssh import HostKeyInfo

    info = HostKeyInfo(s.address, s.port, "ssh-ed25519", "SHA256:x", s.host_key.public_line)
    kh.write_bytes(before)
    with pytest.raises(SshFailure) as refused:
        trust_host_key(kh, info)
    assert refused.value.kind is FailureKind.REVOKED_HOST_KEY
    assert kh.read_bytes() == before


async def test_non_utf8_known_hosts_is_named_not_quoted(
    sshd_nodes, ssh_user, ssh_options, tmp_path: Path
) -> None:
    s = sshd_nodes[1]
    kh = tmp_path / "known_hosts"
    kh.write_bytes(s.known_hosts_line().encode() + b"\nbroken-\xff\xfe-TOPSECRET line\n")
    options = with_known_hosts(ssh_options, kh)
    f = await failure_of(SshTarget(s.address, s.port, ssh_user), options)
    assert f.kind is FailureKind.CONFIG
    assert "is not UTF-8 text (line 2)" in f.message
    assert "TOPSECRET" not in f.message and "\\xff" not in f.message
    [r] = await check_cluster([Node("m", s.address, Role.WORKER, s.port, ssh_user)], options)
    assert r.status is Health.FAIL and "internal error" not in r.reason
    assert "TOPSECRET" not in r.reason and "line 2" in r.reason
    # a line that is not an entry: named by number, not echoed
    kh.write_text(s.known_hosts_line() + "\n@bogus-marker TOPSECRET x y\n")
    f = await failure_of(SshTarget(s.address, s.port, ssh_user), options)
    assert "line 2, is not a known_hosts entry" in f.message and "TOPSECRET" not in f.message


async def test_certificate_authority_failures_are_named(
    sshd_factory, ssh_user, ssh_options, tmp_path: Path
) -> None:
    ca = make_key(tmp_path / "ca" / "host_ca", "crvs-test-ca")
    other_ca = make_key(tmp_path / "other" / "host_ca", "other-ca")
    signed_key = make_key(tmp_path / "signed" / "ssh_host_ed25519_key", "host")
    wrong_name_key = make_key(tmp_path / "wrong" / "ssh_host_ed25519_key", "host")
    good = sshd_factory(
        "127.0.0.8",
        host_key=signed_key,
        extra=[f"HostCertificate {sign_host_key(ca, signed_key, '127.0.0.8')}"],
    )
    wrong_name = sshd_factory(
        "127.0.0.9",
        host_key=wrong_name_key,
        extra=[f"HostCertificate {sign_host_key(ca, wrong_name_key, 'db.example')}"],
    )
    plain = sshd_factory("127.0.0.10")
    kh = tmp_path / "known_hosts"
    kh.write_text(f"@cert-authority 127.0.0.* {ca.public_line}\n")
    options = with_known_hosts(ssh_options, kh)
    # a certificate signed by the trusted authority: connects, no prompt
    async with open_node(SshTarget(good.address, good.port, ssh_user), options) as conn:
        assert (await run(conn, ["true"])).ok
    f = await failure_of(SshTarget(wrong_name.address, wrong_name.port, ssh_user), options)
    assert f.kind is FailureKind.CERT_AUTHORITY and "not issued for the name" in f.message
    f = await failure_of(SshTarget(plain.address, plain.port, ssh_user), options)
    assert f.kind is FailureKind.CERT_AUTHORITY and "plain host key" in f.message
    assert f.host_key is None and "line 1" in f.message
    kh.write_text(f"@cert-authority 127.0.0.* {other_ca.public_line}\n")
    f = await failure_of(SshTarget(good.address, good.port, ssh_user), options)
    assert f.kind is FailureKind.CERT_AUTHORITY and "not trusted for it" in f.message
    [r] = await check_cluster([Node("db", good.address, Role.WORKER, good.port, ssh_user)], options)
    assert r.status is Health.FAIL and r.host_key is None  # never offered for trust


async def test_unknown_jump_host_key_says_it_is_the_jump_hosts(
    sshd_nodes, ssh_user, ssh_client_key, tmp_path: Path
) -> None:
    jump, target = sshd_nodes[0], sshd_nodes[2]
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host bastion\n  HostName {jump.address}\n  Port {jump.port}\n  User {ssh_user}\n"
        f"  IdentityFile {ssh_client_key.private}\n"
        f"Host inner\n  HostName {target.address}\n  Port {target.port}\n  User {ssh_user}\n"
        f"  IdentityFile {ssh_client_key.private}\n  ProxyJump bastion\n"
    )
    kh = tmp_path / "known_hosts"
    kh.write_text(target.known_hosts_line() + "\n")
    options = SshOptions(known_hosts=kh, config_files=(config,), agent_path="", connect_timeout=5)
    f = await failure_of(SshTarget("inner"), options)
    assert f.kind is FailureKind.UNKNOWN_HOST_KEY and f.host_key is not None
    assert f.host_key.jump_for == "inner"
    assert f.host_key.fingerprint == jump.host_key_fingerprint
    assert f.host_key.host == jump.address


# With "ProxyCommand ssh -W %h:%p bastion" this host hands the inner ssh a ProxyCommand of its
# own: "ssh -W 127.0.0.1:22 -oProxyCommand=touch ... -oUser=x:22 bastion", which ssh runs.
PAYLOAD = "127.0.0.1:22 '-oProxyCommand=touch {marker}' -oUser=x"


async def test_hostile_values_never_reach_the_ssh_config(
    sshd_nodes, ssh_user, ssh_options, tmp_path: Path
) -> None:
    """The reported injection: a ProxyCommand with %h/%r and a host or user carrying options."""
    marker = tmp_path / "pwned"
    config = tmp_path / "ssh_config"
    # Without validation %h would put "-oProxyCommand=touch ..." into the inner ssh's argv.
    config.write_text("Host *\n  ProxyCommand ssh -F /dev/null -W %h:%p 127.0.0.1\n")
    options = SshOptions(
        **{**ssh_options.__dict__, "config_files": (config,), "connect_timeout": 3}
    )
    hostile = [
        SshTarget(PAYLOAD.format(marker=marker)),
        SshTarget("127.0.0.1", user=f"-oProxyCommand=touch {marker}"),
        SshTarget("127.0.0.1", user=f"root' '-oProxyCommand=touch {marker}"),
        SshTarget(f"$(touch {marker})"),
        SshTarget("127.0.0.1", key_file=f"/tmp/k;touch {marker}"),
    ]
    for target in hostile:
        f = await failure_of(target, options)
        assert f.kind is FailureKind.INVALID, f.message
        assert "Not connected" in f.message
    assert not marker.exists()
