"""Shared fixtures. The sshd ones are small and composable (backup verification reuses them):

ssh_user          the account tests log in as (skips the test when sshd is absent)
ssh_client_key    a client keypair (tests.support.sshd.KeyPair)
sshd_factory      start(address, extra=[...], host_key=...) -> tests.support.sshd.Sshd, stopped at the end
sshd_nodes        three sshd on 127.0.0.2, 127.0.0.3, 127.0.0.4 (session-wide)
ssh_options       tasks.servers.ssh.SshOptions trusting sshd_nodes, logging in with ssh_client_key
rehearsal_world   a whole 1.3.0 installation (repositories + five sshd nodes), see tests/support/world
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.sandbox import sandbox, sandbox_template  # noqa: F401 (Update and merge)
from tests.support.sshd import (
    KeyPair,
    Sshd,
    ensure_test_user,
    make_key,
    shared_tempdir,
    sshd_available,
)
from tests.support.world.fixtures import (  # noqa: F401 (the rehearsal world)
    make_rehearsal_world,
    rehearsal_template,
    rehearsal_world,
)

# pytest-xdist starts its workers with COLUMNS=80 and LINES=24 in the environment: the CLI
# started in tmux would take them over the pane's own size (Textual reads them first).
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files with a slow test first, each file's tests kept together and in order:
    on several workers (``./dev.sh test``) the long runs start at once, not last."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture(scope="session", autouse=True)
def evidence_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The evidence key (tasks.session.seal) in a temp dir: tests never touch the user's own
    data directory. Subprocesses (the CLI in tmux, serve) inherit the variable."""
    from tasks.session.seal import DATA_DIR_ENV, forget_cached_key

    path = tmp_path_factory.mktemp("crvs-data")
    old = os.environ.get(DATA_DIR_ENV)
    os.environ[DATA_DIR_ENV] = str(path)
    forget_cached_key()
    yield path
    if old is None:
        os.environ.pop(DATA_DIR_ENV, None)
    else:
        os.environ[DATA_DIR_ENV] = old
    forget_cached_key()


@pytest.fixture(scope="session")
def ssh_user() -> str:
    reason = sshd_available()
    if reason:
        pytest.skip(reason)
    return ensure_test_user()


@pytest.fixture(scope="session")
def ssh_workdir() -> Iterator[Path]:
    path = shared_tempdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def ssh_client_key(ssh_workdir: Path, ssh_user: str) -> KeyPair:
    return make_key(ssh_workdir / "client" / "id_ed25519", "crvs-test-client")


@pytest.fixture(scope="session")
def sshd_factory(
    ssh_workdir: Path, ssh_user: str, ssh_client_key: KeyPair
) -> Iterator[Callable[..., Sshd]]:
    started: list[Sshd] = []

    def start(address: str = "127.0.0.2", **kwargs) -> Sshd:
        server = Sshd(
            ssh_workdir / f"sshd-{len(started)}-{address}",
            ssh_user,
            ssh_client_key,
            address,
            **kwargs,
        )
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def sshd_nodes(sshd_factory: Callable[..., Sshd]) -> list[Sshd]:
    return [sshd_factory(f"127.0.0.{i}") for i in (2, 3, 4)]


@pytest.fixture
def known_hosts(tmp_path: Path, sshd_nodes: list[Sshd]) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text("".join(s.known_hosts_line() + "\n" for s in sshd_nodes))
    return path


@pytest.fixture
def ssh_options(known_hosts: Path, ssh_client_key: KeyPair):
    from tasks.servers.ssh import SshOptions

    return SshOptions(
        known_hosts=known_hosts,
        config_files=(),
        client_keys=(ssh_client_key.private,),
        agent_path="",
        connect_timeout=5,
        login_timeout=5,
        command_timeout=10,
    )


@pytest.fixture
def app_factory(tmp_path: Path) -> Callable[..., object]:
    """``app_factory(view=..., answers={...})``: ``tests.support.app.make_app`` with a state
    file in this test's temp dir (``state_path=`` to choose another)."""
    from tests.support.app import make_app

    def build(state_path: Path | None = None, **kwargs: object) -> object:
        return make_app(state_path or tmp_path / "state" / "session.toml", **kwargs)  # type: ignore[arg-type]

    return build
