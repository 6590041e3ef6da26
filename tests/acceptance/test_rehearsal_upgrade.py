"""A rehearsal installation without the demo flag: the whole upgrade through the UI.

The world of tests/support/world: upstream's country config, the country's fork (package.json
versions, its own tags), an opencrvs-core checkout, the inventories qa.ini and production.ini
(with the external_backup_server_* variables), the env files, and five real OpenSSH sshd nodes
on loopback (qa1 127.0.0.41; manager1, worker1, worker2 .42-.44; backup .45) with a stand-in
docker and OpenCRVS's scripts acting over SSH. The app reaches them as an operator's would:
HOME holds the world's ssh config and known_hosts, the world's ssh first on PATH for
deploy.sh. Every Prepare answer is typed; the merge's conflicts are resolved in the test as
the operator would in an editor, the PR merged in their shell, the missing env variable added
to the env file; everything else is keys and clicks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.session.state import load_session
from tests.support import walk
from tests.support.app import make_app
from tests.support.pilot import click, rendered, sidebar_line, started
from tests.support.world.fixtures import as_the_operator
from tests.support.world.world import World, WorldOptions

pytestmark = [pytest.mark.sshd]
TAG = "v1.3.5-ruritania.1"


@pytest.fixture
def world(
    make_rehearsal_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> World:
    # The real restore reads only QA's own /data/backups: the app copies the backup there.
    world = make_rehearsal_world(WorldOptions(restore_fetches=False))
    as_the_operator(world, monkeypatch, tmp_path / "home")
    # The operator works from the directory holding both checkouts (short paths to type).
    monkeypatch.chdir(world.config.parent)
    return world


async def test_a_rehearsal_upgrade_from_prepare_to_the_report(world: World) -> None:
    manager, qa = world.production.manager, world.qa.manager
    assert manager.deployed() == ("v1.3.0", world.country_tag)
    app = make_app(world.state_path)
    async with app.run_test(size=(110, 50)) as pilot:
        await started(pilot)
        assert sidebar_line(app, "prepare").startswith("○ 1 ")
        await walk.answer_prepare(
            pilot,
            config=world.config.name,
            core=world.core.name,
            inventories=(
                "infrastructure/server-setup/qa.ini",
                "infrastructure/server-setup/production.ini",
            ),
        )
        await walk.accept_plan(pilot)
        await walk.update_core(pilot)
        files = await walk.merge_config(pilot, lambda files: world.resolve_conflicts())
        assert files, "the fork's customisations conflict with the release"
        await walk.verify_local(pilot)
        walk.merge_the_pull_request(world.config)

        def add_to_env_file(missing: list[str]) -> None:
            assert missing == ["CONTENT_SECURITY_POLICY_WILDCARD"], missing
            world.set_env_var("production", missing[0], f"*.{world.production.domain}")

        await walk.release(pilot, TAG, str(world.production.env_file), add_to_env_file)

        await walk.go_to(pilot, "7", "DeployQaScreen")
        assert app.screen.query_one("#deploy-config-version").value == TAG  # from Release
        await walk.deploy(pilot, "qa", {"#deploy-host": world.qa.domain})
        walk.assert_phase_done(app, "deploy_qa", 7)
        assert qa.deployed() == ("v1.3.5", TAG)

        scripts = {
            "#backup-scripts": str(Path(manager.backup_script).parent),
            "#restore-scripts": str(Path(qa.restore_script).parent),
        }
        await walk.back_up_production(pilot, qa.address, scripts)
        await click(pilot, "#to-production")
        assert type(app.screen).__name__ == "DeployProductionScreen"
        status = await walk.deploy(
            pilot, "production", {"#deploy-host": world.production.domain}, typed="production"
        )
        assert f"v1.3.5 / {TAG} (run in crvs-migrate)" in status
        assert "✓ Gate verified again" in rendered(app, "#live-gate")
        walk.assert_phase_done(app, "deploy_production", 9)
        report = await walk.export_report(pilot)
    assert manager.deployed() == ("v1.3.5", TAG)
    text = report.read_text()
    phases = walk.assert_report_done(text)
    assert "OpenCRVS 1.3.0 to 1.3.5 was completed on QA and production" in text
    assert "Evidence without its journal record" not in text
    assert "run in crvs-migrate" in phases["8. Back up production"]
    session = load_session(world.state_path)
    assert session is not None and not session.demo
    assert all(session.phase(p).status.value == "done" for p in walk.PHASE_IDS)
