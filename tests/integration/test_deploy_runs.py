"""Deploys on a gate world (real sshd nodes, stand-in docker and curl), through the UI.

After every deploy the app waits for the stack, runs the checks (services, migrations,
gateway and /ping through traefik, login, encrypted /data) and Cluster health; the phase is
done only when they pass on the manager. A failed check names its known fixes. Production
is deployed only after the operator typed its name and the gate was verified again over
SSH; when its checks fail, the way back redeploys the previous version tags and restores
the verified backup (data was migrated), each step with its evidence and journal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from screens.widgets.form import TickBox
from tasks.release.deploy import DeployRecord
from tasks.release.gate import BackupRecord
from tasks.sections import open_session
from tasks.session.phases import PhaseStatus
from tests.support.app import make_app
from tests.support.gate_world import HEALTHY_SERVICES, GateWorld
from tests.support.gate_world.ui import (
    answers_for,
    config_checkout,
    confirm_by_hand,
    deployed,
    errors,
    type_answer,
    until,
    walk_gate,
)
from tests.support.pilot import press_when_shown, started, static_text

pytestmark = [pytest.mark.sshd, pytest.mark.slow]
LABEL = "before-v1.3.5"


def _fields(app, config_version: str) -> None:
    app.screen.query_one("#deploy-config-version", Input).value = config_version
    app.screen.query_one("#deploy-yarn", TickBox).value = False


async def test_qa_deploy_is_checked_and_a_failed_check_names_its_fixes(
    world: GateWorld, tmp_path: Path
) -> None:
    config = config_checkout(tmp_path / "config")
    app = make_app(
        tmp_path / "state" / "session.toml", view="deploy_qa", answers=answers_for(world, config)
    )
    async with app.run_test(size=(110, 50)) as pilot:
        await started(pilot)
        # B2: nothing to wait for or check before a deploy.
        for wid in ("#deploy-wait", "#deploy-checks", "#deploy-health"):
            assert app.screen.query_one(wid).disabled, wid
        # B6: --version is opencrvs-core's tag, the host and replicas QA's own.
        assert app.screen.query_one("#deploy-version", Input).value == "v1.3.5"
        assert app.screen.query_one("#deploy-host", Input).value == world.qa.address
        assert app.screen.query_one("#deploy-replicas", Input).value == "1"
        _fields(app, "v1.3.5-fj")
        await pilot.pause()
        # B5: the phase's by-hand steps (Ansible on QA, the integrations) confirmed first.
        assert await confirm_by_hand(pilot, app) == ["ansible_playbook", "test_integrations"]
        await press_when_shown(pilot, app, "#deploy-run")
        await press_when_shown(pilot, app, "#confirm")
        await until(
            pilot, lambda: app.session.phase("deploy_qa").status is PhaseStatus.DONE or errors(app)
        )
        assert not errors(app), errors(app)
        rec = DeployRecord.of(app.session).qa
        assert rec is not None and rec.checks is not None and rec.checks.ok
        assert rec.stack is not None and rec.stack.node == "qa1"
        assert rec.stack.migrations_applied == [
            "20231025175023-fix-crude-birth-rates.js",
            "20240201123539-join-given-name.js",
        ]
        assert rec.health is not None and rec.health.manager == "qa1"
        assert "✓ qa deployed and checked" in static_text(app, "#settle-status")
        assert deployed(config) == ["qa v1.3.5 v1.3.5-fj no"]

        # Break what the known fixes are for, and check again.
        rows = [(n, m, "0/1" if n == "opencrvs_dashboards" else r) for n, m, r in HEALTHY_SERVICES]
        world.qa.services(rows)
        world.qa.set_state("http_gateway", '{"auth":true,"search":false}')
        world.qa.set_state("migration_state", "Failed 1 minute ago\n")
        world.qa.set_state(
            "migration_log",
            "MongoServerError: E11000 duplicate key error collection: user-mgnt.users\n",
        )
        world.qa.set_state("data_fs", "/dev/vda1")
        await press_when_shown(pilot, app, "#deploy-checks")
        await until(pilot, lambda: not DeployRecord.of(app.session).qa.checks.ok)
        await pilot.pause()
        shown = static_text(app, "#checks-result")
        assert "✗ Every service at n/n" in shown and "opencrvs_dashboards 0/1" in shown
        assert "metabase.mv.db" in shown  # the Metabase fix
        assert "docker stack down opencrvs" in shown  # redeploy after a restore
        assert "email-mobile-unique-index" in shown  # the migration's own fix
        assert "decrypt.sh" in shown  # /data not the encrypted volume
        assert "search: not answering" in shown
        assert app.session.phase("deploy_qa").status is not PhaseStatus.DONE
        assert "checks failed" in static_text(app, "#settle-status")


async def test_production_deploy_checked_then_rolled_back(world: GateWorld, tmp_path: Path) -> None:
    config = config_checkout(tmp_path / "config")
    app = make_app(
        tmp_path / "state" / "session.toml",
        view="backup_production",
        answers=answers_for(world, config),
    )
    ws = app.workspace
    async with app.run_test(size=(110, 60)) as pilot:
        await started(pilot)
        await walk_gate(pilot, app, world, LABEL)
        await press_when_shown(pilot, app, "#to-production")
        assert app.screen.view_id == "deploy_production"
        for wid in (
            "#deploy-wait",
            "#deploy-checks",
            "#deploy-health",
            "#rollback-start",
            "#rollback-next",
        ):
            assert app.screen.query_one(wid).disabled, wid  # nothing deployed yet
        _fields(app, "v1.3.5-fj")
        await pilot.pause()
        assert await confirm_by_hand(pilot, app) == ["inform_staff", "ansible_playbook"]
        # B19: the production deploy asks for the environment's name or the manager's host.
        await press_when_shown(pilot, app, "#deploy-run")
        await type_answer(pilot, app, "prod")
        await pilot.pause()
        assert DeployRecord.of(app.session).production is None and deployed(config) == []
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
        assert prod is not None and prod.gate_check is not None and prod.gate_check.ok
        assert prod.gate_check.verification is not None and prod.gate_check.verification.ok
        assert prod.previous is not None
        assert (prod.previous.core, prod.previous.country_config) == ("v1.3.0", "v1.3.0-fj")
        assert "Gate verified again" in static_text(app, "#live-gate")
        assert deployed(config) == ["production v1.3.5 v1.3.5-fj no"]

        # The gateway stops answering: the checks fail, the way back is offered.
        world.manager.clear_state("http_gateway")
        await press_when_shown(pilot, app, "#deploy-checks")
        await until(pilot, lambda: not DeployRecord.of(app.session).production.checks.ok)
        await pilot.pause()
        assert "checks after the production deploy failed" in static_text(app, "#rollback-status")
        await press_when_shown(pilot, app, "#rollback-start")
        await type_answer(pilot, app, "gateway down after the upgrade")
        rollback = DeployRecord.of(app.session).rollback
        assert rollback is not None and rollback.restore_data  # migrations ran on production
        assert [s.id for s in rollback.steps] == [
            "redeploy",
            "copy",
            "restore",
            "redeploy_after_restore",
            "checks",
        ]
        for step in ("redeploy", "copy", "restore", "redeploy_after_restore", "checks"):
            if step == "checks":
                world.manager.set_state(
                    "http_gateway",
                    '{"auth":true,"search":true,"user-mgnt":true,"metrics":true,"notification":true,"countryconfig":true,"workflow":true}',
                )
            await press_when_shown(pilot, app, "#rollback-next")
            await type_answer(pilot, app, world.manager.address)
            await until(
                pilot,
                lambda s=step: (
                    DeployRecord.of(app.session).rollback.step(s).state in ("succeeded", "failed")
                    or errors(app)
                ),
                60,
            )
            assert not errors(app), errors(app)
            done = DeployRecord.of(app.session).rollback.step(step)
            assert done.state == "succeeded", (step, done.note)
        rollback = DeployRecord.of(app.session).rollback
        assert rollback.outcome == "rolled back"
        assert "✓ rolled back" in static_text(app, "#rollback-status")
        assert app.session.phase("deploy_production").status is not PhaseStatus.DONE
    assert deployed(config) == [
        "production v1.3.5 v1.3.5-fj no",
        "production v1.3.0 v1.3.0-fj no",
        "production v1.3.0 v1.3.0-fj no",
    ]
    assert world.manager.restored() == [LABEL]  # the verified backup, restored on production
    # Nothing pressed on the way made the session unloadable.
    assert open_session(app.workspace.state_path) is not None
    steps = [e.get("step") for e in ws.journal.entries() if e["kind"] == "confirmation"]
    assert "deploy_allowed" in steps and "rollback" in steps and "rollback_restore" in steps
    assert BackupRecord.of(app.session).label == LABEL


async def test_production_is_not_deployed_when_the_backup_vanished_since_the_gate_opened(
    world: GateWorld, tmp_path: Path
) -> None:
    import shutil

    config = config_checkout(tmp_path / "config")
    app = make_app(
        tmp_path / "state" / "session.toml",
        view="backup_production",
        answers=answers_for(world, config),
    )
    async with app.run_test(size=(110, 60)) as pilot:
        await started(pilot)
        await walk_gate(pilot, app, world, LABEL)
        await press_when_shown(pilot, app, "#to-production")
        _fields(app, "v1.3.5-fj")
        # Someone cleans the backup server between the gate and the deploy.
        shutil.rmtree(world.backup_tree(LABEL) / "minio")
        await pilot.pause()
        await press_when_shown(pilot, app, "#deploy-run")  # the stored evidence still holds
        await type_answer(pilot, app, "production")
        await until(pilot, lambda: bool(errors(app)), 60)
        assert "gate no longer holds" in " ".join(errors(app))
        assert "MinIO archive missing" in " ".join(errors(app))
        await pilot.press("escape")
        await pilot.pause()
        assert "✗ The gate no longer holds" in static_text(app, "#live-gate")
        assert "LOCKED" in static_text(app, "#gate-lock")
    assert DeployRecord.of(app.session).production is None
    assert deployed(config) == []  # deploy.sh never ran
    ver = BackupRecord.of(app.session).verification
    assert ver is not None and not ver.ok  # the fresh listing is the evidence now
    assert open_session(app.workspace.state_path) is not None
