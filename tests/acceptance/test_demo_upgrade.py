"""The demo (``--demo``): the whole upgrade through the UI, Prepare to the exported report.

Keys and clicks only (the app as ``make_app`` builds it for a demo sandbox): the checkouts
the demo answers are kept, every other answer is typed; the merge's conflict is resolved
in the test as the operator would in an editor, then the screen's keys conclude it; the PR
is merged in the operator's shell. At each phase the test reads what the operator sees.
"""

from __future__ import annotations

from pathlib import Path

from tasks.demo.sandbox import build_demo_sandbox
from tasks.session.state import load_session
from tests.support import walk
from tests.support.app import make_app
from tests.support.pilot import click, rendered, sidebar_line, started

TAG = "v1.3.5-farajaland.1"


async def test_the_demo_upgrade_from_prepare_to_the_report(tmp_path: Path) -> None:
    sandbox = build_demo_sandbox(tmp_path / "demo")
    app = make_app(sandbox.state_path, demo=sandbox)
    async with app.run_test(size=(110, 50)) as pilot:
        await started(pilot)
        assert sidebar_line(app, "prepare").startswith("○ 1 ")
        await walk.answer_prepare(pilot)
        await walk.accept_plan(pilot)
        await walk.update_core(pilot)
        files = await walk.merge_config(
            pilot, lambda files: walk.resolve_keeping_both(sandbox.config_path, files)
        )
        assert files == ["src/config.ts"]
        await walk.verify_local(pilot)
        walk.merge_the_pull_request(sandbox.config_path)
        await walk.release(pilot, TAG, str(sandbox.config_path / ".env.production"))

        await walk.go_to(pilot, "7", "DeployQaScreen")
        assert app.screen.query_one("#deploy-config-version").value == TAG  # from Release
        await walk.deploy(pilot, "qa", {})
        walk.assert_phase_done(app, "deploy_qa", 7)

        await walk.back_up_production(pilot, "demo-qa1", trust_backup_key=True)
        await click(pilot, "#to-production")
        assert type(app.screen).__name__ == "DeployProductionScreen"
        status = await walk.deploy(pilot, "production", {}, typed="production")
        assert f"v1.3.5 / {TAG} (run in crvs-migrate)" in status
        assert "✓ Gate verified again" in rendered(app, "#live-gate")
        walk.assert_phase_done(app, "deploy_production", 9)

        report = await walk.export_report(pilot)
    text = report.read_text()
    phases = walk.assert_report_done(text)
    # The demo's deploy.sh deployed onto the demo cluster: its managers run the release now.
    for env in ("QA", "Production"):
        row = next(line for line in text.splitlines() if line.startswith(f"| {env} | v1.3.5 |"))
        assert f"opencrvs/ocrvs-gateway:v1.3.5, farajaland/demo-countryconfig:{TAG}" in row, row
    assert "Version differs" not in text
    assert "OpenCRVS 1.3.0 to 1.3.5 was completed on QA and production" in text
    assert (
        "conflicts resolved by the operator and committed" in phases["4. Merge the country config"]
    )
    gate = phases["8. Back up production"]
    assert "run in crvs-migrate" in gate, gate
    assert "Evidence without its journal record" not in text
    assert report.with_suffix(".html").is_file()
    session = load_session(sandbox.state_path)
    assert session is not None
    assert all(session.phase(p).status.value == "done" for p in walk.PHASE_IDS)
