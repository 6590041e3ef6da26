"""The ``world`` fixture of the gate's tests (import it into a test module to use it)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.gate_world import GateWorld, make_gate_world
from tests.support.sshd import KeyPair, Sshd, shared_tempdir


@pytest.fixture
def world(
    sshd_factory: Callable[..., Sshd],
    ssh_client_key: KeyPair,
    ssh_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> GateWorld:
    world = make_gate_world(shared_tempdir("crvs-gate-"), ssh_user, ssh_client_key, sshd_factory)
    # The operator's own OpenSSH setup is the world's: the app has no demo flag.
    monkeypatch.setenv("HOME", str(world.home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return world
