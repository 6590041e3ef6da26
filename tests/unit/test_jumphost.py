"""Jump-host sessions: the advice rule (pure) and the app showing it once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.session.jumphost import TMUX_COMMAND, inside_multiplexer, jump_host_advice, over_ssh
from tasks.session.phases import PHASE_IDS
from tests.support.app import make_app
from tests.support.pilot import started
from tui.app import CrvsMigrateApp

SSH = {"SSH_CONNECTION": "203.0.113.5 50022 198.51.100.7 22", "TERM": "xterm-256color"}


@pytest.mark.parametrize(
    ("env", "advised"),
    [
        ({}, False),  # local console
        ({"TERM": "xterm-256color"}, False),
        (SSH, True),
        ({**SSH, "SSH_CONNECTION": "  "}, False),
        ({**SSH, "TMUX": "/tmp/tmux-0/default,123,0"}, False),
        ({**SSH, "STY": "4242.pts-0.jump"}, False),  # GNU screen
        ({**SSH, "TERM": "screen-256color"}, False),  # tmux/screen without the variable
        ({**SSH, "TERM": "tmux-256color"}, False),
        ({**SSH, "TERM": "linux"}, True),
        ({"SSH_TTY": "/dev/pts/0", "TERM": "xterm"}, False),  # SSH_CONNECTION is the signal
    ],
)
def test_advice_only_over_ssh_outside_a_multiplexer(env: dict[str, str], advised: bool) -> None:
    advice = jump_host_advice(env)
    assert (advice is not None) is advised
    assert over_ssh(env) == bool(env.get("SSH_CONNECTION", "").strip())
    if advice is not None:
        assert not inside_multiplexer(env)
        assert TMUX_COMMAND in advice.message
        assert "saved" in advice.message  # resumable either way: polite, not alarming


def _app(tmp_path: Path, environ: dict[str, str] | None) -> CrvsMigrateApp:
    return make_app(tmp_path / "state.toml", environ=environ)


def _messages(app: CrvsMigrateApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_app_advises_once_per_run_over_ssh(tmp_path: Path) -> None:
    app = _app(tmp_path, SSH)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await started(pilot)
        assert len(_messages(app)) == 1
        assert TMUX_COMMAND in _messages(app)[0]
        # The toast is on screen, its text kept as written (not parsed as markup).
        (toast,) = app.screen.query("Toast")
        assert TMUX_COMMAND in str(toast.render())
        # Moving around the phases does not repeat it.
        for key in ("2", "3", "h", "1"):
            await pilot.press(key)
        await pilot.pause()
        assert app.session.current_view == PHASE_IDS[0]
        assert len(_messages(app)) == 1


@pytest.mark.parametrize("environ", [None, {**SSH, "TMUX": "/tmp/tmux-0/default,1,0"}, {}])
async def test_no_advice_in_tmux_locally_or_without_a_terminal(
    tmp_path: Path, environ: dict[str, str] | None
) -> None:
    app = _app(tmp_path, environ)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert _messages(app) == []


async def test_no_advice_in_a_browser_session(tmp_path: Path, monkeypatch) -> None:
    # `crvs-migrate serve` runs the app on textual-serve's web driver: no SSH link to lose,
    # even when the server itself was started from an SSH session.
    monkeypatch.setattr(CrvsMigrateApp, "is_web", property(lambda self: True))
    app = _app(tmp_path, SSH)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert _messages(app) == []
