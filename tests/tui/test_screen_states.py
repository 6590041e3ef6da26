"""Snapshots of the screens an operator meets when something needs an answer or went wrong:
every dialog, and the state-error screen. Grouped per feature; ``--snapshot-update`` to redo.

Deterministic: fixed session ids and times, relative or fixed paths only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text

from screens.modals import ChoiceModal, ConfirmModal, ErrorModal, TextPromptModal, TrustHostKey
from tasks.servers.inventory import Node, Role
from tasks.servers.ssh import HostKeyInfo
from tasks.session.state import Session
from tests.support.app import make_app
from tui.app import CrvsMigrateApp

SIZE = (80, 24)


def _app(tmp_path: Path) -> CrvsMigrateApp:
    session = Session(session_id="snapshot", created_at="2026-01-01T00:00:00+00:00")
    session.current_view = "merge_config"
    return make_app(tmp_path / "state.toml", session=session)


def _pushing(screen: object):
    async def push(pilot) -> None:
        await pilot.pause()
        pilot.app.push_screen(screen)
        await pilot.pause()
        await pilot.pause()

    return push


class TestDialogs:
    def test_confirm_a_command(self, snap_compare, tmp_path: Path) -> None:
        body = Text("Run `git merge --abort` in ~/opencrvs-farajaland? This throws away the merge.")
        modal = ConfirmModal("Abort the merge?", body, "Abort the merge", danger=True)
        assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_pushing(modal))

    def test_choose_one_of_a_few(self, snap_compare, tmp_path: Path) -> None:
        modal = ChoiceModal(
            "node v20.20.2 is not node 16",
            Text("yarn refuses packages whose engines field asks for another node version."),
            [("plain", "Run yarn --force"), ("ignore", "Run with --ignore-engines")],
        )
        assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_pushing(modal))

    def test_type_an_answer(self, snap_compare, tmp_path: Path) -> None:
        modal = TextPromptModal(
            "No upstream remote",
            Text("Type the URL of the upstream country config repository."),
            "https://github.com/opencrvs/opencrvs-countryconfig.git",
            "Add the remote",
        )
        assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_pushing(modal))

    def test_trust_an_unknown_host_key(self, snap_compare, tmp_path: Path) -> None:
        key = HostKeyInfo(
            "backup.prod.gov.example",
            2222,
            "ssh-ed25519",
            "SHA256:Q2Fy0Zb7Nb2J3x4w1nO5yZkW6mC8eVqT0b1c2d3e4f5",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTheSnapshotOnly",
        )
        node = Node("backup", "backup.prod.gov.example", Role.BACKUP, 2222, "backup")
        modal = TrustHostKey(node, key)
        assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_pushing(modal))

    def test_an_error(self, snap_compare, tmp_path: Path) -> None:
        modal = ErrorModal(
            "Production is locked",
            "The production gate is not open. Still missing:\n- 2. Stored off the production "
            "server: not verified on the backup server yet",
        )
        assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_pushing(modal))


class TestUnusableSession:
    @pytest.mark.parametrize(
        "content",
        [b"schema_version = 1\n[phases\n", b"schema_version = 99\n"],
        ids=["damaged", "newer"],
    )
    def test_state_error_screen(
        self, snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
    ) -> None:
        # The screen shows absolute paths and a time-stamped new file: fixed here, so it
        # reads the same on every machine and every run.
        folder = Path("/tmp/crvs-migrate-snapshot")
        folder.mkdir(exist_ok=True)
        state = folder / "session.toml"
        state.write_bytes(content)
        monkeypatch.setattr(
            "tui.app.new_session_path", lambda path: folder / "session-20260101-000000.toml"
        )
        app = make_app(state, load=True)
        assert app.state_error is not None

        async def settle(pilot) -> None:
            await pilot.pause()

        assert snap_compare(app, terminal_size=SIZE, run_before=settle)
