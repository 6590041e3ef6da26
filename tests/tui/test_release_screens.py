"""Pilot tests: the gate screen (locked until the evidence holds), production locked, report export."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, RadioButton

from tasks.release.backup import verify_backup
from tasks.release.deploy import DeployRecord
from tasks.release.gate import BackupRecord, compute_gate, record_verification
from tasks.sections import open_session
from tests.support.app import make_app
from tests.support.backupdir import make_backup_dir
from tests.support.evidence import qa_health
from tests.support.localrun import local_run
from tests.support.pilot import press_when_shown, started, static_text, text_when_shown
from tui.app import CrvsMigrateApp

LABEL = "before-v1.3.5"


def _app(tmp_path: Path, view: str) -> CrvsMigrateApp:
    return make_app(
        tmp_path / "state" / "session.toml",
        view=view,
        installation="Farajaland",
        answers={"target_version": "1.3.5"},
    )


async def test_gate_screen_locked_until_every_condition_holds(tmp_path: Path) -> None:
    """The screen's own path when the scripts ran outside the app (the in-app runs against
    sshd nodes are in tests/integration/test_gate_runs.py)."""
    app = _app(tmp_path, "backup_production")
    async with app.run_test(size=(100, 50)) as pilot:
        await started(pilot)
        panel = static_text(app, "#gate-panel")
        assert "LOCKED" in panel and panel.count("✗") == 5
        assert app.screen.query_one("#to-production", Button).disabled
        # Nothing can apply before the gate is opened.
        for wid in (
            "#backup-run",
            "#backup-outside",
            "#backup-verify",
            "#restore-run",
            "#restore-outside",
            "#qa-health",
            "#records-ok",
        ):
            assert app.screen.query_one(wid, Button).disabled, wid

        await press_when_shown(pilot, app, "#gate-open")
        since = BackupRecord.of(app.session).gate_opened_at
        assert since
        assert "✓ Gate opened" in static_text(app, "#gate-open-hint")
        assert "@" in static_text(app, "#gate-open-hint")  # who

        # An uppercase label is refused in the command itself.
        app.screen.query_one("#backup-label", Input).value = "Before-Upgrade"
        for wid, value in [
            ("#backup-user", "backup"),
            ("#backup-host", "203.0.113.50"),
            ("#backup-port", "22"),
            ("#backup-dir", str(tmp_path / "remote")),
            ("#backup-prod-ip", "203.0.113.10"),
            ("#backup-replicas", "3"),
            ("#restore-replicas", "1"),
        ]:
            app.screen.query_one(wid, Input).value = value
        await pilot.pause()
        assert "uppercase" in static_text(app, "#backup-command")
        app.screen.query_one("#backup-label", Input).value = LABEL
        await pilot.pause()
        command = static_text(app, "#backup-command")
        assert "/opt/opencrvs/infrastructure/emergency-backup-metadata.sh" in command
        assert "--replicas=1" in static_text(app, "#restore-command")  # QA's, not production's
        assert app.screen.query_one("#backup-verify", Button).disabled  # nothing taken yet

        await press_when_shown(pilot, app, "#backup-outside")
        await press_when_shown(pilot, app, "#confirm")  # the confirmation modal
        taken = BackupRecord.of(app.session).taken
        assert taken is not None and taken.label == LABEL and taken.how == "run outside the app"
        result = static_text(app, "#backup-result")
        assert "✓ Backup" in result and "run outside the app" in result and "@" in result
        assert not compute_gate(app.session, app.workspace.journal).open
        assert "run outside the app" in static_text(app, "#gate-panel")

        # Stored off-server: the evidence a verification leaves (the SSH path is in test_backup_ssh).
        make_backup_dir(tmp_path / "remote", LABEL)
        record_verification(
            app.session,
            await verify_backup(local_run, "backup", str(tmp_path / "remote"), LABEL, since),
        )
        app.screen.refresh_from_session()
        await pilot.pause()
        assert not app.screen.query_one("#restore-run", Button).disabled
        assert app.screen.query_one("#records-ok", Button).disabled  # no QA check yet
        await press_when_shown(pilot, app, "#restore-outside")
        await press_when_shown(pilot, app, "#confirm")
        assert "run outside the app" in static_text(app, "#restore-result")
        qa_health(app.session)
        app.screen.refresh_from_session()
        await pilot.pause()
        await press_when_shown(pilot, app, "#records-ok")
        assert "✓ The restored records on QA look right" in static_text(app, "#qa-health-result")
        await press_when_shown(pilot, app, "#drafts-ack")
        assert "✓ Staff were told" in static_text(app, "#drafts-result")
        assert app.screen.query_one("#drafts-ack", Button).disabled  # said once
        panel = static_text(app, "#gate-panel")
        assert "LOCKED" in panel and panel.count("✗") == 1 and "Migration-duration" in panel
        assert app.screen.query_one("#to-production", Button).disabled

        # Acknowledging without a strategy is refused.
        await press_when_shown(pilot, app, "#risk-ack")
        assert BackupRecord.of(app.session).risk is None
        await pilot.press("escape")
        await pilot.pause()
        app.screen.query_one("#strategy").query(RadioButton).last().value = True
        await pilot.pause()
        await press_when_shown(pilot, app, "#risk-ack")
        risk = BackupRecord.of(app.session).risk
        assert risk is not None and risk.strategy == "new_servers"
        assert "✓ Risk acknowledged" in static_text(app, "#risk-result")
        assert "OPEN" in static_text(app, "#gate-panel")
        assert not app.screen.query_one("#to-production", Button).disabled
        await press_when_shown(pilot, app, "#to-production")
        assert app.screen.view_id == "deploy_production"
        await app.screen.body_shown()  # a first visit: the body comes a frame later
        assert not app.screen.query_one("#deploy-run", Button).disabled

    # Saved, and the saved state loads (its evidence holds).
    loaded = open_session(app.workspace.state_path)
    assert loaded is not None and compute_gate(loaded, app.workspace.journal).open
    whats = [e["step"] for e in app.workspace.journal.entries() if e["kind"] == "confirmation"]
    assert whats == ["gate", "backup", "restore", "restore_records", "drafts", "risk"]


async def test_production_locked_when_reached_by_palette_or_number_key(tmp_path: Path) -> None:
    app = _app(tmp_path, "prepare")
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        app.action_navigate("deploy_production")  # what the palette's "Go to" calls
        await pilot.pause()
        assert app.screen.view_id == "deploy_production"
        await app.screen.body_shown()
        assert "LOCKED" in static_text(app, "#gate-lock")
        assert app.screen.query_one("#deploy-run", Button).disabled
        assert app.screen.query_one("#deploy-recorded", Button).disabled
        # Even if the button were pressed, the deploy refuses.
        app.screen.query_one("#deploy-run", Button).disabled = False
        app.screen.query_one("#deploy-run", Button).press()
        await pilot.pause()
        assert "Production is locked" in await text_when_shown(pilot, app, "#error-title")
    assert DeployRecord.of(app.session).production is None


async def test_export_report_from_the_palette_command(tmp_path: Path) -> None:
    app = _app(tmp_path, "prepare")
    app.workspace.journal.command(
        ["git", "fetch", "--all"], tmp_path, "t0", "t1", 0, duration_s=1.5
    )
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        app.action_export_report()
        await pilot.pause()
        assert app.screen.view_id == "report"
        await app.screen.body_shown()  # a first visit: the body comes a frame later
        paths = static_text(app, "#report-paths")
        assert "Report written" in paths
        out = app.screen.last_export
        assert out is not None and str(out.html) in paths
        assert "git fetch --all" in out.markdown.read_text()
        assert out.html.read_text().startswith("<!DOCTYPE html>")
