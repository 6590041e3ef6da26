"""Operating the gate screen as an operator does, on a gate world (Pilot helpers)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, RadioButton

from tasks.release.gate import BackupRecord
from tasks.upgrade.answers import Answers, EnvironmentId
from tests.support.gate_world import GateWorld
from tests.support.pilot import errors, press_when_shown, type_answer, until

DEPLOY_SH = """#!/usr/bin/env bash
# Test stand-in for infrastructure/deploy.sh: its arguments, and a line per deploy in deployed.log.
for i in "$@"; do
  case $i in
    --clear_data=*) CLEAR_DATA="${i#*=}" ;;
    --environment=*) ENV="${i#*=}" ;;
    --host=*) HOST="${i#*=}" ;;
    --version=*) VERSION="${i#*=}" ;;
    --country_config_version=*) COUNTRY_CONFIG_VERSION="${i#*=}" ;;
    --replicas=*) REPLICAS="${i#*=}" ;;
  esac
done
echo "Deploying VERSION $VERSION / $COUNTRY_CONFIG_VERSION to $HOST ($ENV, clear_data=$CLEAR_DATA, replicas=$REPLICAS)"
echo "$ENV $VERSION $COUNTRY_CONFIG_VERSION $CLEAR_DATA" >> "$(dirname "$0")/deployed.log"
"""


def answers_for(world: GateWorld, config: Path | None = None) -> Answers:
    answers = Answers(target_version="1.3.5", current_version="1.3.0", deployed=True)
    answers.environment(EnvironmentId.PRODUCTION).inventory_path = str(world.production_inventory)
    answers.environment(EnvironmentId.QA).inventory_path = str(world.qa_inventory)
    if config is not None:
        answers.config_path = str(config)
    return answers


def config_checkout(root: Path) -> Path:
    """A country config checkout holding the deploy.sh stand-in."""
    (root / "infrastructure").mkdir(parents=True, exist_ok=True)
    script = root / "infrastructure" / "deploy.sh"
    script.write_text(DEPLOY_SH)
    script.chmod(0o755)
    return root


def deployed(config: Path) -> list[str]:
    log = config / "infrastructure" / "deployed.log"
    return log.read_text().splitlines() if log.exists() else []


async def confirm_by_hand(pilot, app, note: str = "done as the notes say") -> list[str]:
    """Confirm every by-hand step the phase still shows as to do, as an operator does:
    the step highlighted in "By hand", Enter, a note typed. Returns the steps' ids."""
    from screens.widgets.manual_steps import ManualSteps
    from tasks.upgrade.manual import manual_missing

    widget = app.screen.query_one("#manual-steps", ManualSteps)
    done = []
    for step in manual_missing(app.session, app.screen.view_id):
        widget.focus()
        ids = [widget.get_option_at_index(i).id for i in range(widget.option_count)]
        widget.highlighted = ids.index(step.id)
        await pilot.pause()
        await pilot.press("enter")
        await type_answer(pilot, app, note)
        await until(pilot, lambda s=step: s not in manual_missing(app.session, app.screen.view_id))
        done.append(step.id)
    return done


async def walk_gate(pilot, app, world: GateWorld, label: str) -> None:
    """Every condition of the gate, from the screen: it ends open."""
    await until(
        pilot, lambda: app.screen.query_one("#backup-host", Input).value == world.backup.address
    )
    app.screen.query_one("#backup-label", Input).value = label
    app.screen.query_one("#backup-scripts", Input).value = world.manager.scripts_dir
    app.screen.query_one("#restore-scripts", Input).value = world.qa.scripts_dir
    await press_when_shown(pilot, app, "#gate-open")
    await press_when_shown(pilot, app, "#backup-run")
    await press_when_shown(pilot, app, "#confirm")
    await until(pilot, lambda: BackupRecord.of(app.session).verification is not None or errors(app))
    assert not errors(app), errors(app)
    await press_when_shown(pilot, app, "#restore-run")
    await type_answer(pilot, app, world.qa.address)
    await until(pilot, lambda: BackupRecord.of(app.session).restore is not None or errors(app))
    assert not errors(app), errors(app)
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
