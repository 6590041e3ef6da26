"""The gate and the production deploy through the UI on the rehearsal world (tests/support/world).

No demo flag: the app reaches the world's five sshd nodes through the operator's own OpenSSH
setup (``HOME`` is the world's), runs the world's stand-in emergency-backup-metadata.sh on
production's manager (it sends the parts to the backup server over ssh), copies the backup
onto QA itself (``restore_fetches=False``: the stand-in restore reads only QA's own
/data/backups, like the real one), restores it there, checks QA, then deploys production with
the world's deploy.sh (which deploys over ssh) after typing "production"; the gate is verified
again over SSH first, and the checks after the deploy (services, migrations, /ping, login)
run on the world's manager before the phase is done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input

from screens.widgets.form import TickBox
from tasks.release.deploy import DeployRecord
from tasks.release.env_check import check_env_files
from tasks.release.gate import BackupRecord
from tasks.release.publish import record_env_check
from tasks.session.phases import PhaseStatus
from tasks.upgrade.answers import Answers, EnvironmentId
from tests.support.app import make_app
from tests.support.gate_world.ui import confirm_by_hand, errors, type_answer, until
from tests.support.pilot import phase_shown, press_when_shown, static_text
from tests.support.world.fixtures import as_the_operator
from tests.support.world.world import World, WorldOptions

pytestmark = [pytest.mark.sshd, pytest.mark.slow]
LABEL = "before-v1.3.5-rehearsal"


@pytest.fixture
def world(
    make_rehearsal_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> World:
    world = make_rehearsal_world(WorldOptions(restore_fetches=False))
    as_the_operator(world, monkeypatch, tmp_path / "home")
    return world


def _answers(world: World) -> Answers:
    answers = Answers(target_version="1.3.5", current_version="1.3.0", deployed=True)
    answers.config_path = str(world.config)
    answers.core_path = str(world.core)
    answers.environment(EnvironmentId.QA).inventory_path = str(world.qa.inventory)
    answers.environment(EnvironmentId.PRODUCTION).inventory_path = str(world.production.inventory)
    return answers


async def test_gate_and_production_deploy_on_the_rehearsal_world(
    world: World, tmp_path: Path
) -> None:
    app = make_app(world.state_path, view="backup_production", answers=_answers(world))
    # What Release's env check leaves (the world's env file for production).
    record_env_check(
        app.session, check_env_files([world.production.env_file], world.config, "1.3.0")
    )
    manager, qa = world.production.manager, world.qa.manager
    async with app.run_test(size=(110, 60)) as pilot:
        await phase_shown(pilot)
        await until(
            pilot, lambda: app.screen.query_one("#backup-host", Input).value == world.backup.address
        )
        assert app.screen.query_one("#backup-replicas", Input).value == "3"
        assert app.screen.query_one("#restore-replicas", Input).value == "1"
        app.screen.query_one("#backup-label", Input).value = LABEL
        app.screen.query_one("#backup-scripts", Input).value = str(
            Path(manager.backup_script).parent
        )
        app.screen.query_one("#restore-scripts", Input).value = str(Path(qa.restore_script).parent)
        await press_when_shown(pilot, app, "#gate-open")
        await press_when_shown(pilot, app, "#backup-run")
        await press_when_shown(pilot, app, "#confirm")
        await until(
            pilot, lambda: BackupRecord.of(app.session).verification is not None or errors(app)
        )
        assert not errors(app), errors(app)
        ver = BackupRecord.of(app.session).verification
        assert ver is not None and ver.ok, ver.problems
        assert f"mongo/hearth-dev-{LABEL}.gz" in world.backup_listing(LABEL)

        await press_when_shown(pilot, app, "#restore-run")
        await type_answer(pilot, app, qa.address)
        await until(pilot, lambda: BackupRecord.of(app.session).restore is not None or errors(app))
        assert not errors(app), errors(app)
        restore = BackupRecord.of(app.session).restore
        assert restore is not None and restore.problems == [], restore.problems
        assert [r["label"] for r in qa.restored()] == [LABEL]
        assert qa.restored()[0]["from"] == manager.name  # production's data, now on QA

        await press_when_shown(pilot, app, "#qa-health")
        await until(pilot, lambda: not app.screen.query_one("#records-ok").disabled or errors(app))
        assert not errors(app), errors(app)
        await press_when_shown(pilot, app, "#records-ok")
        await press_when_shown(pilot, app, "#drafts-ack")
        from textual.widgets import RadioButton

        app.screen.query_one("#strategy").query(RadioButton).first().value = True
        await pilot.pause()
        await press_when_shown(pilot, app, "#risk-ack")
        assert "OPEN" in static_text(app, "#gate-panel")

        await press_when_shown(pilot, app, "#to-production")
        assert app.screen.query_one("#deploy-host", Input).value  # the manager, from the inventory
        app.screen.query_one("#deploy-host", Input).value = world.production.domain
        app.screen.query_one("#deploy-config-version", Input).value = world.country_tag
        app.screen.query_one("#deploy-yarn", TickBox).value = False
        await pilot.pause()
        assert await confirm_by_hand(pilot, app) == ["inform_staff", "ansible_playbook"]
        await press_when_shown(pilot, app, "#deploy-run")
        await type_answer(pilot, app, "production")
        await until(
            pilot,
            lambda: (
                app.session.phase("deploy_production").status is PhaseStatus.DONE or errors(app)
            ),
            180,
        )
        assert not errors(app), errors(app)
        prod = DeployRecord.of(app.session).production
        assert prod is not None and prod.gate_check is not None and prod.gate_check.ok
        assert prod.checks is not None and prod.checks.ok, [r.summary for r in prod.checks.failed]
        assert prod.health is not None and prod.health.manager == manager.name
    assert manager.deployed() == ("v1.3.5", world.country_tag)


async def test_a_production_still_carrying_1_3_0s_backup_script(
    make_rehearsal_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """deploy.sh copies the scripts at each deploy: a production last deployed at 1.3.0 has
    1.3.0's backup script, whose backup the gate can never verify. The app says so, and runs the
    upgraded checkout's script instead when there is one."""
    from tasks.release.backup import BackupTarget
    from tasks.release.emergency import plan_backup_run
    from tasks.servers.runner import ssh_runner

    world = make_rehearsal_world(WorldOptions(installed_scripts="1.3.0"))
    m, b = world.production.manager, world.backup
    target = BackupTarget(b.user, b.address, b.port, world.backup_remote_dir, m.address, 3)
    scripts = str(Path(m.backup_script).parent)
    upgraded = Path(__file__).parents[1] / "support" / "gate_world" / "emergency-backup-metadata.sh"
    async with ssh_runner(m.address, None, m.user, world.ssh_options()) as run:
        refused = await plan_backup_run(run, target, LABEL, scripts_dir=scripts, manager=m.name)
        used = await plan_backup_run(
            run, target, LABEL, scripts_dir=scripts, checkout_script=upgraded, manager=m.name
        )
    assert not refused.ok and "1.3.0's backup script" in refused.problems[0]
    assert "never copies MinIO, Metabase or vsexport" in refused.problems[0]
    assert used.ok and used.file is not None and used.argv[1] == "./emergency-backup-metadata.sh"
