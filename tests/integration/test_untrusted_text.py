"""Untrusted text from a real node (OpenSSH sshd on loopback) in ``health --json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sshd

# The node runs the checks as usual, but its docker answers with service names holding
# escapes, an OSC title, a C1 CSI, bidi overrides and isolates.
FAKE_DOCKER = r"""#!/bin/sh
case "$1" in
  service)
    printf 'opencrvs_gateway\033[2J\342\200\256exe.txt\treplicated\t0/1\n'
    printf 'opencrvs_\033]0;owned\007auth\302\233\342\201\246x\342\201\251\treplicated\t0/2\n' ;;
  node)
    printf 'manager1\tReady\tActive\tLeader\n' ;;
esac
"""
FORCE = """#!/bin/sh
PATH={bin}:$PATH exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
"""
FORBIDDEN = ["\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u2069", "\u200f"]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_health_json_holds_no_escape_or_bidi(
    sshd_factory, ssh_user, ssh_workdir, ssh_client_key, tmp_path: Path
) -> None:
    fake_bin = ssh_workdir / "hostile-docker-bin"
    fake_bin.mkdir(exist_ok=True)
    (fake_bin / "docker").write_text(FAKE_DOCKER)
    (fake_bin / "docker").chmod(0o755)
    script = ssh_workdir / "hostile-docker.sh"
    script.write_text(FORCE.format(bin=fake_bin))
    script.chmod(0o755)
    s = sshd_factory("127.0.0.8", extra=[f"ForceCommand {script}"])
    kh = tmp_path / "kh"
    kh.write_text(s.known_hosts_line() + "\n")
    out = subprocess.run(
        [sys.executable, "-m", "tui", "health", "--json", "--node",
         f"{ssh_user}@{s.address}:{s.port}=manager", "--known-hosts", str(kh),
         "--identity", str(ssh_client_key.private), "--ssh-config", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    data = json.loads(out.stdout)
    strings = list(_strings(data))
    # The hostile names did arrive, in the reasons too.
    assert any("exe.txt" in t for t in strings), out.stdout[:3000]
    assert any("opencrvs_gateway" in r["reason"] for r in data["nodes"]), out.stdout[:3000]
    for text in strings:
        assert not any(ch in text for ch in FORBIDDEN), repr(text)
    assert "\\u001b" not in out.stdout and "\\u202e" not in out.stdout
