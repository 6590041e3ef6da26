"""The gate's runs against real sshd nodes (tests/support/gate_world), no demo flag.

Through the UI: the emergency backup runs on production's manager (its stand-in writes the
backup and sends it to the backup server over ssh), the verification that follows lists it
there, the backup is copied onto QA and restored there (the prompts answered only after the
QA host was typed), QA's health is checked, and the gate opens. Without the UI: what stops a
backup that would do nothing, a restore that answered "no", and a run followed again after a
restart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Button, Input, RadioButton

from tasks.release.backup import BackupTarget
from tasks.release.emergency import plan_backup_run, plan_restore_run, restore_problems, skipped
from tasks.release.gate import BackupRecord, compute_gate
from tasks.servers.runner import ssh_runner
from tasks.servers.ssh import SshOptions
from tasks.upgrade.answers import Answers, EnvironmentId
from tests.support.app import make_app
from tests.support.gate_world import GateWorld
from tests.support.pilot import errors, phase_shown, press_when_shown, static_text, until

pytestmark = [pytest.mark.sshd, pytest.mark.slow]
LABEL = "before-v1.3.5"


def _answers(world: GateWorld) -> Answers:
    answers = Answers(target_version="1.3.5", current_version="1.3.0", deployed=True)
    answers.environment(EnvironmentId.PRODUCTION).inventory_path = str(world.production_inventory)
    answers.environment(EnvironmentId.QA).inventory_path = str(world.qa_inventory)
    return answers


async def test_the_gate_through_the_ui_on_sshd_nodes(world: GateWorld, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "state" / "session.toml", view="backup_production", answers=_answers(world)
    )
    ws = app.workspace
    async with app.run_test(size=(110, 50)) as pilot:
        await phase_shown(pilot)
        # Prefilled from production's inventory (its external_backup_server_* variables).
        await until(
            pilot, lambda: app.screen.query_one("#backup-host", Input).value == world.backup.address
        )
        assert app.screen.query_one("#backup-dir", Input).value == str(world.remote_dir)
        assert app.screen.query_one("#backup-replicas", Input).value == "1"
        app.screen.query_one("#backup-label", Input).value = LABEL
        app.screen.query_one("#backup-scripts", Input).value = world.manager.scripts_dir
        app.screen.query_one("#restore-scripts", Input).value = world.qa.scripts_dir
        await press_when_shown(pilot, app, "#gate-open")

        await press_when_shown(pilot, app, "#backup-run")
        await press_when_shown(pilot, app, "#confirm")
        await until(
            pilot,
            lambda: BackupRecord.of(app.session).verification is not None or errors(app),
        )
        assert not errors(app), errors(app)
        b = BackupRecord.of(app.session)
        assert b.taken is not None and b.taken.run is not None and b.taken.run.ok
        assert b.taken.run.node == "manager1" and b.taken.how == "run in crvs-migrate"
        assert b.verification is not None and b.verification.ok, b.verification.problems
        # The stand-in really wrote the backup on the backup server.
        assert (world.backup_tree(LABEL) / "mongo" / f"hearth-dev-{LABEL}.gz").is_file()
        log = Path(b.taken.run.log_file).read_text()
        assert "Copied hearth backup files to remote server." in log
        pane_lines = app.screen.query_one("#backup-pane").lines
        assert any("Copied performance backup files" in ln for ln in pane_lines)

        await press_when_shown(pilot, app, "#restore-run")
        app.screen.query_one("#answer", Input).value = world.qa.address
        await press_when_shown(pilot, app, "#confirm")
        await until(pilot, lambda: BackupRecord.of(app.session).restore is not None or errors(app))
        assert not errors(app), errors(app)
        restore = BackupRecord.of(app.session).restore
        assert restore is not None and restore.problems == [] and restore.replicas == 1
        assert world.qa.restored() == [LABEL]  # the stand-in restored it, from QA's own copy
        assert (world.qa.data / "backups" / "mongo" / f"webhooks-{LABEL}.gz").is_file()
        assert "update opencrvs_elasticsearch" in world.qa.events()  # the docs' step 3
        copy = BackupRecord.of(app.session).copy
        assert copy is not None and copy.verification is not None and copy.verification.ok

        await press_when_shown(pilot, app, "#qa-health")
        await until(
            pilot, lambda: not app.screen.query_one("#records-ok", Button).disabled or errors(app)
        )
        assert not errors(app), errors(app)
        await press_when_shown(pilot, app, "#records-ok")
        await press_when_shown(pilot, app, "#drafts-ack")
        app.screen.query_one("#strategy").query(RadioButton).first().value = True
        await pilot.pause()
        await press_when_shown(pilot, app, "#risk-ack")
        panel = static_text(app, "#gate-panel")
        assert "OPEN" in panel, panel
        assert "(run in crvs-migrate)" in panel
    assert compute_gate(app.session, ws.journal).open
    commands = [e for e in ws.journal.entries() if e["kind"] == "command"]
    assert [c["host"] for c in commands] == [
        world.manager.address,
        world.qa.address,
        world.qa.address,
    ]
    steps = [e.get("step") for e in ws.journal.entries() if e["kind"] == "confirmation"]
    assert steps == ["gate", "restore_allowed", "restore_records", "drafts", "risk"]


def _target(world: GateWorld, production_ip: str | None = None) -> BackupTarget:
    b = world.backup
    return BackupTarget(
        b.user, b.address, b.port, str(world.remote_dir), production_ip or world.manager.address, 1
    )


def _runner(node):
    return ssh_runner(node.address, node.port, node.user, SshOptions(config_files=None))


async def test_a_backup_that_would_copy_nothing_is_refused(world: GateWorld) -> None:
    async with _runner(world.manager) as run:
        wrong_ip = await plan_backup_run(
            run, _target(world, "203.0.113.10"), LABEL, scripts_dir=world.manager.scripts_dir
        )
        assert not wrong_ip.ok
        assert (
            f"not the production manager's first address ({world.manager.address})"
            in (wrong_ip.problems[0])
        )
        missing = await plan_backup_run(run, _target(world), LABEL, scripts_dir="/opt/nowhere")
        assert (
            not missing.ok
            and "/opt/nowhere/emergency-backup-metadata.sh is not on" in (missing.problems[0])
        )
        ok = await plan_backup_run(
            run, _target(world), LABEL, scripts_dir=world.manager.scripts_dir
        )
        assert ok.ok and ok.file is None, ok.problems


async def test_a_1_3_0_backup_script_is_replaced_by_the_checkouts(
    world: GateWorld, tmp_path: Path
) -> None:
    script = Path(world.manager.scripts_dir) / "emergency-backup-metadata.sh"
    script.write_text(script.read_text().replace('REMOTE_DIR="$REMOTE_DIR/', 'X="'))
    checkout = tmp_path / "emergency-backup-metadata.sh"
    checkout.write_text(
        (Path(__file__).parents[1] / "support/gate_world/emergency-backup-metadata.sh").read_text()
    )
    async with _runner(world.manager) as run:
        refused = await plan_backup_run(
            run, _target(world), LABEL, scripts_dir=world.manager.scripts_dir
        )
        assert not refused.ok and "1.3.0's backup script" in refused.problems[0]
        plan = await plan_backup_run(
            run,
            _target(world),
            LABEL,
            scripts_dir=world.manager.scripts_dir,
            checkout_script=checkout,
        )
    assert plan.ok and plan.file is not None
    assert plan.argv[:2] == ["bash", "./emergency-backup-metadata.sh"]
    assert "1.3.0's script" in plan.notes[0]


async def test_a_restore_answered_no_restores_nothing_and_says_so(
    world: GateWorld, tmp_path: Path
) -> None:
    from tasks.servers.detached import (
        FollowEvents,
        RemoteRunRecord,
        follow_run,
        new_run_id,
        ssh_connect,
    )
    from tasks.session.state import now_iso

    async with _runner(world.qa) as run:
        plan = await plan_restore_run(run, LABEL, 1, scripts_dir=world.qa.scripts_dir)
    assert not plan.problems and plan.backups_dir == str(world.qa.data / "backups")
    q = world.qa
    for n, (stdin, expect_skipped) in enumerate((("", True), ("y\nn\n", True), ("y\ny\n", False))):
        record = RemoteRunRecord(
            new_run_id("restore"),
            q.name,
            q.address,
            plan.argv,
            now_iso(),
            port=q.port,
            user=q.user,
            log_file=str(tmp_path / f"restore-{n}.log"),
        )
        done = await follow_run(
            ssh_connect(record, SshOptions()),
            record,
            events=FollowEvents(),
            start=True,
            stdin_text=stdin,
        )
        text = Path(record.log_file).read_text()
        assert done.exit_code == 0  # the real script's exit status proves nothing
        assert skipped(text) is expect_skipped
        problems = restore_problems(text)
        if expect_skipped:
            assert problems == ["Skipped."]
        else:
            # Nothing was copied onto QA: every part is named as missing, the exit is still 0.
            assert any("Failed: open" in p for p in problems)
            assert any("snapshot_missing_exception" in p for p in problems)


async def _start_backup(pilot, app, world: GateWorld) -> None:
    await until(
        pilot, lambda: app.screen.query_one("#backup-host", Input).value == world.backup.address
    )
    app.screen.query_one("#backup-label", Input).value = LABEL
    app.screen.query_one("#backup-scripts", Input).value = world.manager.scripts_dir
    app.screen.query_one("#restore-scripts", Input).value = world.qa.scripts_dir
    await press_when_shown(pilot, app, "#gate-open")
    await press_when_shown(pilot, app, "#backup-run")
    await press_when_shown(pilot, app, "#confirm")


async def test_a_cut_connection_during_the_backup_costs_nothing(
    world: GateWorld, tmp_path: Path
) -> None:
    from tests.support.detached import cut_connections

    world.manager.set_state("backup_seconds", "20")
    app = make_app(
        tmp_path / "state" / "session.toml", view="backup_production", answers=_answers(world)
    )
    notes: list[str] = []
    async with app.run_test(size=(110, 50)) as pilot:
        await phase_shown(pilot)
        await _start_backup(pilot, app, world)
        pane = app.screen.query_one("#backup-pane")
        await until(pilot, lambda: len(pane.lines) >= 2, 30)
        assert cut_connections(world.sshds["manager1"])

        def noted() -> bool:
            notes.append(str(pane.query_one(".output-status").render()))
            return BackupRecord.of(app.session).taken is not None or bool(errors(app))

        await until(pilot, noted, 60)
        assert not errors(app), errors(app)
    taken = BackupRecord.of(app.session).taken
    assert taken is not None and taken.run is not None and taken.run.exit_code == 0
    assert (taken.run.duration_s() or 0) >= 15
    log = Path(taken.run.log_file).read_text()
    assert log.count("writing ") == 7 and "Copied performance backup files" in log
    assert any("reconnecting" in n for n in notes), notes[-3:]


async def test_a_backup_still_running_is_reattached_after_a_restart(
    world: GateWorld, tmp_path: Path
) -> None:
    world.manager.set_state("backup_seconds", "14")
    state = tmp_path / "state" / "session.toml"
    app = make_app(state, view="backup_production", answers=_answers(world))
    async with app.run_test(size=(110, 50)) as pilot:
        await phase_shown(pilot)
        await _start_backup(pilot, app, world)
        pane = app.screen.query_one("#backup-pane")
        await until(pilot, lambda: len(pane.lines) >= 2, 30)
        running = BackupRecord.of(app.session).backup_run
        assert running is not None and running.running
        # The app goes away (the operator's terminal closed) while the backup runs.
    again = make_app(state, load=True)
    assert BackupRecord.of(again.session).backup_run.running
    async with again.run_test(size=(110, 50)) as pilot:
        await phase_shown(pilot)
        await until(
            pilot, lambda: BackupRecord.of(again.session).taken is not None or errors(again), 60
        )
        assert not errors(again), errors(again)
        assert "reattached" in str(again.screen.query_one("#backup-pane .output-command").render())
    taken = BackupRecord.of(again.session).taken
    assert taken is not None and taken.run is not None and taken.run.exit_code == 0
    assert Path(taken.run.log_file).read_text().count("writing ") == 7  # every line, once
    commands = [e for e in again.workspace.journal.entries() if e["kind"] == "command"]
    assert len(commands) == 1 and commands[0]["exit_code"] == 0


async def test_a_read_only_window_runs_nothing_on_the_servers(
    world: GateWorld, tmp_path: Path
) -> None:
    state = tmp_path / "state" / "session.toml"
    app = make_app(state, view="backup_production", answers=_answers(world))
    async with app.run_test(size=(110, 50)) as pilot:  # the window that holds the session
        await phase_shown(pilot)
        await until(
            pilot, lambda: app.screen.query_one("#backup-host", Input).value == world.backup.address
        )
        await press_when_shown(pilot, app, "#gate-open")
    viewer = make_app(state, load=True)
    viewer.workspace.open_read_only()
    async with viewer.run_test(size=(110, 50)) as pilot:
        await phase_shown(pilot)
        await until(
            pilot,
            lambda: viewer.screen.query_one("#backup-host", Input).value == world.backup.address,
        )
        viewer.screen.query_one("#backup-label", Input).value = LABEL
        viewer.screen.query_one("#backup-scripts", Input).value = world.manager.scripts_dir
        await press_when_shown(pilot, viewer, "#backup-run")
        await press_when_shown(pilot, viewer, "#confirm")
        await until(pilot, lambda: bool(errors(viewer)))
        assert "read-only" in " ".join(errors(viewer))
    assert not (world.manager.dir / "data" / "backups" / "mongo").exists() or not any(
        (world.manager.dir / "data" / "backups" / "mongo").iterdir()
    )
    assert not world.backup_tree(LABEL).exists()


async def test_the_wait_after_a_deploy_reconnects_when_the_link_drops(world: GateWorld) -> None:
    from tasks.release.deploy import wait_on_manager
    from tests.support.detached import cut_connections

    world.manager.set_state("migration_state", "Running 10 seconds ago\n")
    seen: list[tuple[bool, str, float]] = []
    task = asyncio.create_task(
        wait_on_manager(
            lambda: _runner(world.manager),
            timeout_s=60,
            interval_s=0.3,
            on_progress=lambda p, t: seen.append((p.lost, p.migration, t)),
            node="manager1",
        )
    )
    async with asyncio.timeout(20):
        while len(seen) < 2:
            await asyncio.sleep(0.1)
    cut_connections(world.sshds["manager1"])
    async with asyncio.timeout(20):
        while not any(lost for lost, _m, _t in seen):
            await asyncio.sleep(0.1)
    world.manager.set_state("migration_state", "Complete 1 second ago\n")
    probe = await asyncio.wait_for(task, 40)
    assert probe.up and probe.migration == "finished" and probe.node == "manager1"
    assert [m for lost, m, _t in seen if not lost][0] == "running"
    times = [t for _lost, _m, t in seen]
    assert times == sorted(times)  # elapsed keeps counting across the reconnection
