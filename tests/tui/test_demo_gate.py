"""The demo walks Back up production without bash: the backup, the restore and the checks run
from the app against the demo cluster, which really writes the backup onto its backup server,
copies it onto QA and reads it back there."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, RadioButton

from tasks.demo.cluster import BACKUP_REMOTE_DIR
from tasks.release.gate import BackupRecord, compute_gate
from tests.support.app import demo_inventories, make_app
from tests.support.pilot import errors, phase_shown, press_when_shown, static_text, until


async def test_demo_phase_8_from_the_app(tmp_path: Path) -> None:
    from tasks.demo.sandbox import build_demo_sandbox

    sandbox = build_demo_sandbox(tmp_path / "demo")
    answers = demo_inventories(sandbox)
    answers.target_version = "1.3.5"
    app = make_app(sandbox.state_path, demo=sandbox, view="backup_production", answers=answers)
    ws = app.workspace
    async with app.run_test(size=(110, 50)) as pilot:
        await phase_shown(pilot)
        await until(pilot, lambda: app.demo_cluster is not None and app.demo_cluster.ready.is_set())
        # Filled from the production inventory the demo cluster writes when it starts.
        await until(
            pilot, lambda: app.screen.query_one("#backup-host", Input).value == "demo-backup"
        )
        assert app.screen.query_one("#backup-dir", Input).value == BACKUP_REMOTE_DIR
        assert app.screen.query_one("#restore-replicas", Input).value == "1"  # QA's one server
        await press_when_shown(pilot, app, "#gate-open")
        label = app.screen.query_one("#backup-label", Input).value

        # 1. the backup, run on manager1 from the app; 2. verified by itself after it.
        await press_when_shown(pilot, app, "#backup-run")
        await press_when_shown(pilot, app, "#confirm")
        # The demo backup server is not in known_hosts: its fingerprint is shown first.
        await until(pilot, lambda: bool(app.screen.query("#trust-yes")))
        assert BackupRecord.of(app.session).taken is not None  # the backup finished first
        # The safe default has the focus once the dialog is up.
        await until(pilot, lambda: app.focused is app.screen.query_one("#trust-no", Button))
        await pilot.press("enter")  # not trusted: said, and nothing verified
        await until(pilot, lambda: not app.screen.query("#trust-no"))
        assert any("Host key not trusted" in n.message for n in app._notifications)
        assert BackupRecord.of(app.session).verification is None
        await press_when_shown(pilot, app, "#backup-verify")
        await until(pilot, lambda: bool(app.screen.query("#trust-yes")))
        app.screen.query_one("#trust-yes", Button).press()
        await until(pilot, lambda: BackupRecord.of(app.session).verification is not None)
        ver = BackupRecord.of(app.session).verification
        assert ver is not None and ver.ok, ver.problems
        backup_tree = app.demo_cluster.files.backup_fs / BACKUP_REMOTE_DIR.lstrip("/") / label
        assert (backup_tree / "mongo" / f"hearth-dev-{label}.gz").is_file()
        panel = static_text(app, "#gate-panel")
        assert "✓ 1. Emergency backup taken (run in crvs-migrate)" in panel
        assert "✓ 2. Stored off" in panel
        log = static_text(app, "#backup-result")
        assert "finished on manager1" in log

        # 3. the restore on QA: only after typing the QA host.
        await press_when_shown(pilot, app, "#restore-run")
        app.screen.query_one("#answer", Input).value = "qa1.example"  # wrong
        await press_when_shown(pilot, app, "#confirm")
        await pilot.pause()
        assert BackupRecord.of(app.session).restore_run is None  # nothing ran
        await press_when_shown(pilot, app, "#restore-run")
        app.screen.query_one("#answer", Input).value = "demo-qa1"
        await press_when_shown(pilot, app, "#confirm")
        try:
            await until(pilot, lambda: BackupRecord.of(app.session).restore is not None)
        except TimeoutError:
            raise AssertionError(f"{errors(app)}") from None
        restore = BackupRecord.of(app.session).restore
        assert restore is not None and restore.problems == [], restore.problems
        copied = app.demo_cluster.files.node_fs("qa1") / "data" / "backups"
        assert (copied / "mongo" / f"user-mgnt-{label}.gz").is_file()
        assert "restored on QA" in static_text(app, "#restore-result")
        assert app.screen.query_one("#records-ok", Button).disabled  # no QA check after it yet

        await press_when_shown(pilot, app, "#qa-health")
        await until(pilot, lambda: not app.screen.query_one("#records-ok", Button).disabled)
        await press_when_shown(pilot, app, "#records-ok")
        await press_when_shown(pilot, app, "#drafts-ack")
        app.screen.query_one("#strategy").query(RadioButton).first().value = True
        await pilot.pause()
        await press_when_shown(pilot, app, "#risk-ack")
        assert "OPEN" in static_text(app, "#gate-panel"), static_text(app, "#gate-panel")
        assert compute_gate(app.session, ws.journal).open
    commands = [e for e in ws.journal.entries() if e["kind"] == "command"]
    hosts = {c.get("host") for c in commands}
    assert {"demo-manager1", "demo-qa1"} <= hosts
    assert [c["exit_code"] for c in commands] == [0] * len(commands)


async def test_demo_phases_7_to_9_from_the_app(tmp_path: Path) -> None:
    """Deploy to QA (checked), the gate, Deploy to production (typed, gate re-verified over
    SSH, checked): the demo cluster answers every check; no bash anywhere."""
    from tasks.demo.sandbox import build_demo_sandbox
    from tasks.demo.seed import ENV_FILE
    from tasks.release.deploy import DeployRecord
    from tasks.release.env_check import EnvCheckRecord
    from tasks.release.publish import ReleaseRecord
    from tasks.session.phases import PhaseStatus
    from tasks.session.state import now_iso
    from tests.support.gate_world.ui import errors, type_answer, until

    sandbox = build_demo_sandbox(tmp_path / "demo")
    answers = demo_inventories(sandbox)
    answers.target_version = "1.3.5"
    app = make_app(sandbox.state_path, demo=sandbox, view="deploy_qa", answers=answers)
    # What Release's env check leaves (its own screen is tested in test_release_flow_screens).
    ReleaseRecord.of(app.session).env_check = EnvCheckRecord(
        now_iso(), True, files=[str(sandbox.config_path / ENV_FILE)]
    )
    async with app.run_test(size=(110, 60)) as pilot:
        await phase_shown(pilot)
        await until(pilot, lambda: app.demo_cluster is not None and app.demo_cluster.ready.is_set())
        await until(pilot, lambda: app.screen.query_one("#deploy-host", Input).value == "demo-qa1")
        app.screen.query_one("#deploy-config-version", Input).value = "v1.3.5"
        await pilot.pause()
        await press_when_shown(pilot, app, "#deploy-run")
        await press_when_shown(pilot, app, "#confirm")
        await until(
            pilot, lambda: app.session.phase("deploy_qa").status is PhaseStatus.DONE or errors(app)
        )
        assert not errors(app), errors(app)
        assert "✓ qa deployed and checked" in static_text(app, "#settle-status")

        app.action_navigate("backup_production")
        await pilot.pause()
        await press_when_shown(pilot, app, "#gate-open")
        await press_when_shown(pilot, app, "#backup-run")
        await press_when_shown(pilot, app, "#confirm")
        await until(pilot, lambda: bool(app.screen.query("#trust-yes")))
        app.screen.query_one("#trust-yes", Button).press()
        await until(pilot, lambda: BackupRecord.of(app.session).verification is not None)
        await press_when_shown(pilot, app, "#restore-run")
        await type_answer(pilot, app, "demo-qa1")
        await until(pilot, lambda: BackupRecord.of(app.session).restore is not None or errors(app))
        await press_when_shown(pilot, app, "#qa-health")
        await until(pilot, lambda: not app.screen.query_one("#records-ok", Button).disabled)
        await press_when_shown(pilot, app, "#records-ok")
        await press_when_shown(pilot, app, "#drafts-ack")
        app.screen.query_one("#strategy").query(RadioButton).first().value = True
        await pilot.pause()
        await press_when_shown(pilot, app, "#risk-ack")
        await press_when_shown(pilot, app, "#to-production")

        assert app.screen.view_id == "deploy_production"
        await app.screen.body_shown()  # a first visit: the body comes a frame later
        app.screen.query_one("#deploy-config-version", Input).value = "v1.3.5"
        await pilot.pause()
        await press_when_shown(pilot, app, "#deploy-run")
        await type_answer(pilot, app, "production")
        await until(
            pilot,
            lambda: (
                app.session.phase("deploy_production").status is PhaseStatus.DONE or errors(app)
            ),
            90,
        )
        assert not errors(app), errors(app)
        prod = DeployRecord.of(app.session).production
        assert prod is not None and prod.checks is not None and prod.checks.ok
        assert prod.previous is not None and prod.previous.core == "v1.3.0"
        assert "✓ production deployed and checked" in static_text(app, "#settle-status")
