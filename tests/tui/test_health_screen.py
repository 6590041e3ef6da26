"""Pilot tests of the Cluster health view against the demo cluster (in-process asyncssh on loopback)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Log

from tasks.demo.sandbox import DemoSandbox, build_demo_sandbox
from tasks.sections import open_session
from tasks.servers.health import (
    Health,
    HealthRecord,
    evaluate_node,
    load_node_resources,
    load_snapshot,
)
from tasks.servers.inventory import Node, Role
from tasks.servers.ssh import CommandResult
from tasks.upgrade.answers import Answers, EnvironmentId
from tests.support.app import demo_inventories, make_app
from tui.app import CrvsMigrateApp


@pytest.fixture(scope="module")
def sandbox_template(tmp_path_factory) -> Path:
    return build_demo_sandbox(tmp_path_factory.mktemp("demo") / "sandbox").root


@pytest.fixture
def app(sandbox_template: Path, tmp_path: Path) -> CrvsMigrateApp:
    root = tmp_path / "sandbox"
    shutil.copytree(sandbox_template, root, symlinks=True)
    sandbox = DemoSandbox(root)
    return make_app(sandbox.state_path, demo=sandbox, answers=demo_inventories(sandbox))


async def wait_for(pilot, predicate, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")


def table(app):
    return app.screen.query_one("#node-table")


def settled(app, names=("manager1", "worker1", "worker2", "backup")):
    if not app.screen.query("#node-table"):
        return False  # the body mounts a frame after the screen
    results = table(app).results
    return all(
        n in results and results[n].status not in (Health.PENDING, Health.CHECKING) for n in names
    )


async def test_demo_cluster_health_and_details(app: CrvsMigrateApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: app.screen.id != "_default" and settled(app))
        results = table(app).results
        assert (
            results["worker2"].status is Health.WARN
            and "/data is 71% used" in results["worker2"].reason
        )
        assert results["manager1"].status is Health.PASS
        assert results["manager1"].check("swarm").summary.startswith("3/3 nodes")
        assert results["backup"].status is Health.UNTRUSTED
        # saved for the report and for Prepare
        snapshot = load_snapshot(app.session, "production")
        assert snapshot is not None and len(snapshot.results) == 4
        assert {r.node for r in load_node_resources(app.session, "production")} >= {"worker2"}
        saved = open_session(app.workspace.state_path)
        assert saved is not None
        saved_snapshot = HealthRecord.of(saved).snapshots["production"]
        assert saved_snapshot.results[0].node.name == "manager1"
        # each environment once: the demo cluster is production (and QA), not a third entry
        options = app.screen.query_one("#health-env")._options
        assert [str(label) for label, _value in options] == ["QA", "Production"]
        # Enter on worker1 opens its raw outputs
        table(app).focus()
        table(app).move_cursor(row=1)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: app.screen.__class__.__name__ == "NodeDetails" and app.screen.query(Log)
        )
        log = app.screen.query_one(Log)
        assert any(line.startswith("$ df -P -B1 / /data") for line in log.lines)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HealthScreen")


async def test_unknown_host_key_needs_explicit_trust(app: CrvsMigrateApp) -> None:
    known_hosts = app.workspace.demo.cluster_dir / "known_hosts"
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: app.screen.id != "_default" and settled(app))
        before = known_hosts.read_text()
        table(app).focus()
        table(app).move_cursor(row=3)
        fingerprint = table(app).results["backup"].host_key.fingerprint
        await pilot.press("t")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "TrustHostKey")
        assert fingerprint in str(app.screen.query_one("#trust-text").render())
        await pilot.press("enter")  # focus starts on Cancel: Enter must not trust
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HealthScreen")
        assert known_hosts.read_text() == before
        await pilot.press("t")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "TrustHostKey")
        await pilot.click("#trust-yes")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HealthScreen")
        await wait_for(pilot, lambda: table(app).results["backup"].status is Health.PASS)
        assert known_hosts.read_text().startswith(before) and len(known_hosts.read_text()) > len(
            before
        )
        confirmations = [e for e in app.workspace.journal.entries() if e["kind"] == "confirmation"]
        assert len(confirmations) == 1 and fingerprint in confirmations[0]["what"]


async def test_typed_node_and_environment_switch(app: CrvsMigrateApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: app.screen.id != "_default" and settled(app))
        app.screen.query_one("#health-env").value = "qa"
        await wait_for(pilot, lambda: settled(app, ("qa1",)))
        assert table(app).results["qa1"].status is Health.PASS
        screen = app.screen
        table(app).focus()
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.query_one("#add-host").has_focus)
        screen.query_one("#add-host").value = "127.0.0.1"
        screen.query_one("#add-port").value = "1"
        await pilot.click("#add-node")
        await wait_for(pilot, lambda: "127.0.0.1:1" in table(app).node_by_name)
        assert HealthRecord.of(app.session).typed_nodes("qa")[0].host == "127.0.0.1"
        table(app).focus()
        await pilot.press("r")
        await wait_for(pilot, lambda: settled(app, ("qa1", "127.0.0.1:1")))
        assert table(app).results["127.0.0.1:1"].failure == "refused"
        # the auto-refresh interval is saved
        screen.query_one("#health-refresh").value = "30"
        await pilot.pause()
        assert HealthRecord.of(app.session).auto_refresh_s == 30


async def test_hostile_text_is_shown_literally(app: CrvsMigrateApp) -> None:
    hostile = "[bold red]PWNED[/bold red] \x1b[2J\x1b]0;owned\x07 [link=http://x]y[/link]\n"
    out = {
        k: CommandResult((k,), 0, hostile, "", 0.0)
        for k in ("disk", "memory", "cpus", "load", "uptime")
    }
    result = evaluate_node(Node("evil", "10.9.9.9", Role.WORKER), out)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: app.screen.id != "_default")
        table(app).show_result(result)
        from screens.modals import NodeDetails

        app.push_screen(NodeDetails(result))
        await wait_for(pilot, lambda: isinstance(app.screen, NodeDetails) and app.screen.query(Log))
        await wait_for(pilot, lambda: len(app.screen.query_one(Log).lines) > 5)
        lines = app.screen.query_one(Log).lines
        assert any("[bold red]PWNED[/bold red]" in ln and "[link=http://x]" in ln for ln in lines)
        assert not any("\x1b" in ln or "\x07" in ln for ln in lines)


async def test_inventory_from_prepare_answers_and_bad_file(
    app: CrvsMigrateApp, tmp_path: Path
) -> None:
    bad = tmp_path / "qa.ini"
    bad.write_text("[docker-workers]\nworker1 ansible_host='10.0.0.1\n")
    Answers.of(app.session).environment(EnvironmentId.QA).inventory_path = str(bad)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: app.screen.id != "_default" and settled(app))
        app.screen.query_one("#health-env").value = "qa"
        await wait_for(
            pilot, lambda: "line 2" in str(app.screen.query_one("#health-source").render())
        )
        assert table(app).row_count == 0  # a bad inventory is a message, not a crash


async def test_opening_cluster_health_never_runs_an_injected_command(
    tmp_path: Path, monkeypatch
) -> None:
    """The reported injection, opened in the app: ansible_host with spaces and an option,
    ~/.ssh/config with ProxyCommand ... %h. One red row naming the host; nothing runs."""
    from tasks.session.state import Session, save_session
    from tests.support.inventories import write_server_setup

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        "Host *\n  ProxyCommand ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=2 "
        "-W %h:%p 127.0.0.1\n"
    )
    monkeypatch.setenv("HOME", str(home))
    marker = tmp_path / "pwned"
    payload = f"127.0.0.1:22 '-oProxyCommand=touch {marker}' -oUser=x"
    inventory = write_server_setup(
        tmp_path / "config",
        f'[docker-manager-first]\nmanager1 ansible_host="{payload}"\n'
        "[docker-workers]\nworker1 ansible_host=127.0.0.1 ansible_port=1\n",
    )
    s = Session(session_id="injection", created_at="2026-01-01T00:00:00+00:00")
    Answers.of(s).environment(EnvironmentId.PRODUCTION).inventory_path = str(inventory)
    HealthRecord.of(s).environment = "production"
    s.current_view = "health"
    state = tmp_path / "s.toml"
    save_session(state, s)
    app = make_app(state, load=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HealthScreen")
        await wait_for(pilot, lambda: settled(app, ("manager1", "worker1")))
        rows = table(app).results
        # the valid node was really checked (through the ProxyCommand) ...
        assert rows["worker1"].failure is not None and rows["worker1"].failure != "invalid"
        # ... the hostile one is a red row naming the host and the line, never connected to
        bad = rows["manager1"]
        assert bad.status is Health.FAIL and bad.failure == "invalid"
        assert "manager1" in bad.reason and "line 2" in bad.reason
        assert "refused for their values" in str(app.screen.query_one("#health-source").render())
        await pilot.press("r")
        await wait_for(pilot, lambda: settled(app, ("manager1", "worker1")))
    assert not marker.exists()


async def test_typed_hostile_node_is_refused_and_a_hand_edited_one_is_a_red_row(
    app: CrvsMigrateApp,
) -> None:
    HealthRecord.of(app.session).nodes = {
        "qa": [{"host": "127.0.0.1 -oProxyCommand=touch /tmp/crvs-x", "name": "evil"}]
    }
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: app.screen.id != "_default" and settled(app))
        screen = app.screen
        screen.query_one("#health-env").value = "qa"
        await wait_for(pilot, lambda: settled(app, ("qa1", "evil")))
        assert table(app).results["evil"].failure == "invalid"
        assert "it contains spaces" in table(app).results["evil"].reason
        table(app).focus()
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.query_one("#add-host").has_focus)
        screen.query_one("#add-host").value = "$(touch /tmp/crvs-x)"
        await pilot.click("#add-node")
        await pilot.pause()
        assert len(HealthRecord.of(app.session).nodes["qa"]) == 1  # nothing saved
        assert screen.query_one("#add-host").value == "$(touch /tmp/crvs-x)"
        screen.query_one("#add-host").value = "10.0.0.1"
        screen.query_one("#add-user").value = "-oProxyCommand=x"
        await pilot.click("#add-node")
        await pilot.pause()
        assert len(HealthRecord.of(app.session).nodes["qa"]) == 1


async def test_trust_dialog_says_when_the_key_is_the_jump_hosts(app: CrvsMigrateApp) -> None:
    from screens.modals import TrustHostKey
    from tasks.servers.ssh import HostKeyInfo

    key = HostKeyInfo(
        "bastion.gov.example", 22, "ssh-ed25519", "SHA256:abc", "ssh-ed25519 AAAA", "10.0.0.1"
    )
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(TrustHostKey(Node("manager1", "10.0.0.1", Role.MANAGER), key))
        await wait_for(
            pilot, lambda: isinstance(app.screen, TrustHostKey) and app.screen.query("#trust-no")
        )
        text = str(app.screen.query_one("#trust-text").render())
        assert "JUMP HOST" in text and "ProxyJump" in text and "bastion.gov.example" in text
        assert "not manager1's" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TrustHostKey))
        own = HostKeyInfo("10.0.0.1", 22, "ssh-ed25519", "SHA256:abc", "ssh-ed25519 AAAA")
        app.push_screen(TrustHostKey(Node("manager1", "10.0.0.1", Role.MANAGER), own))
        await wait_for(
            pilot, lambda: isinstance(app.screen, TrustHostKey) and app.screen.query("#trust-no")
        )
        assert "JUMP" not in str(app.screen.query_one("#trust-text").render())
