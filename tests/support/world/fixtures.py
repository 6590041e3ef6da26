"""pytest fixtures of the rehearsal world (imported by tests/conftest.py).

rehearsal_template       session: the five sshd nodes and the ssh files, started once; the
                         repositories are written on first use (per repository option set)
make_rehearsal_world     per test: ``make_rehearsal_world(WorldOptions(...)) -> World``, a
                         private copy of the repositories and every node reset
rehearsal_world          per test: ``make_rehearsal_world()`` with the default options

The nodes are the session's: one world is live at a time (making another resets them).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.sshd import KeyPair, Sshd, shared_tempdir
from tests.support.world.world import World, WorldOptions, WorldTemplate


@pytest.fixture(scope="session")
def rehearsal_template(
    ssh_user: str, ssh_client_key: KeyPair, sshd_factory: Callable[..., Sshd]
) -> Iterator[WorldTemplate]:
    root = shared_tempdir("crvs-world-")
    template = WorldTemplate.build(root, ssh_user, ssh_client_key, sshd_factory)
    try:
        yield template
    finally:
        template.servers.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def make_rehearsal_world(rehearsal_template: WorldTemplate, tmp_path: Path) -> Callable[..., World]:
    made: list[int] = []

    def make(options: WorldOptions | None = None) -> World:
        made.append(1)
        return rehearsal_template.instance(
            tmp_path / f"world-{len(made)}", options or WorldOptions()
        )

    return make


@pytest.fixture
def rehearsal_world(make_rehearsal_world: Callable[..., World]) -> World:
    return make_rehearsal_world()


def as_the_operator(world: World, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """The app's SSH as an operator's: HOME holds the world's ssh config and known hosts,
    no agent, and the world's ssh first on PATH (deploy.sh reaches the servers with it)."""
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    shutil.copy(world.ssh_config, home / ".ssh" / "config")
    shutil.copy(world.known_hosts, home / ".ssh" / "known_hosts")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.setenv("PATH", world.local_env()["PATH"])
