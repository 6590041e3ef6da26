"""A way back: when production's checks fail after the upgrade, a guided rollback.

The steps, each recorded with the same evidence as the way there (the exact command, its
run, its exit code and log, the journal):

  redeploy                 deploy.sh with the version tags production ran before the
                           upgrade (read from its manager just before the deploy), always
                           ``--clear_data=no``
  copy                     where data was migrated: the verified backup copied from the
                           backup server onto production's ``/data/backups``
  restore                  emergency-restore-metadata.sh on the production manager: it
                           DROPS every database and restores the backup taken behind the
                           gate; registrations made after that backup are lost, so the
                           operator types the production manager's host to allow it
  redeploy_after_restore   deploy.sh again (the restore leaves old database secrets, and
                           search refuses connections until a redeploy: the 1.3 docs)
  checks                   the checks after a deploy, on production

Data was migrated when the migration service applied migrations on production (its log,
as the post-deploy wait recorded it) or the plan says the upgrade crosses releases with
automatic migrations.
"""

from __future__ import annotations

from tasks.errors import CrvsError
from tasks.release.deploy import (
    DeployRecord,
    DeployRequest,
    RollbackRecord,
    RollbackStep,
    reseal_rollback,
    rollback_sealed,
)
from tasks.release.gate import BackupRecord
from tasks.session.journal import Journal
from tasks.session.seal import TAMPERED
from tasks.session.state import Session, now_iso

PHASE = "deploy_production"
TITLES = {
    "redeploy": "Redeploy the previous version",
    "copy": "Copy the verified backup onto production",
    "restore": "Restore the verified backup on production",
    "redeploy_after_restore": "Redeploy after the restore",
    "checks": "Checks after the rollback",
}


class RollbackRefused(CrvsError):
    title = "Rollback"


def data_migrated(session: Session) -> bool:
    """Did the upgrade change production's data (so going back needs the backup)?"""
    production = DeployRecord.of(session).production
    if production is not None and production.stack is not None:
        if production.stack.migrations_applied:
            return True
    if production is not None and production.checks is not None:
        result = production.checks.result("migrations")
        if result is not None and any(d.startswith("MIGRATED UP") for d in result.details):
            return True
    from tasks.upgrade.answers import Answers
    from tasks.upgrade.plan import migrations_of
    from tasks.upgrade.versions import parse_version, upgrade_path

    answers = Answers.of(session)
    try:
        path = upgrade_path(
            parse_version(answers.current_version), parse_version(answers.target_version)
        )
    except (CrvsError, ValueError):
        return True  # unknown: assume the data changed (the safe side)
    return bool(path is not None and path.proceeds and migrations_of(path.crossed))


def rollback_target(session: Session) -> tuple[str, str]:
    """(core tag, country config tag) to go back to."""
    production = DeployRecord.of(session).production
    previous = production.previous if production is not None else None
    core = previous.core if previous is not None else ""
    config = previous.country_config if previous is not None else ""
    if not core:
        from tasks.upgrade.answers import Answers

        current = Answers.of(session).current_version.strip()
        core = f"v{current.lstrip('v')}" if current else ""
    return core, config


def plan_rollback(session: Session) -> RollbackRecord:
    """The rollback's steps for this session (not started, not stored)."""
    production = DeployRecord.of(session).production
    if production is None:
        raise RollbackRefused("Nothing was deployed to production: there is nothing to roll back.")
    core, config = rollback_target(session)
    restore = data_migrated(session)
    ids = ["redeploy"]
    if restore:
        ids += ["copy", "restore", "redeploy_after_restore"]
    ids.append("checks")
    return RollbackRecord(
        why="",
        started_at="",
        by="",
        core=core,
        country_config=config,
        restore_data=restore,
        label=BackupRecord.of(session).label,
        steps=[RollbackStep(i, TITLES[i]) for i in ids],
    )


def start_rollback(session: Session, journal: Journal, reason: str) -> RollbackRecord:
    """The operator chose to go back (journalled)."""
    existing = DeployRecord.of(session).rollback
    if existing is not None and rollback_sealed(session) and not existing.outcome:
        return existing
    plan = plan_rollback(session)
    if not plan.core or not plan.country_config:
        raise RollbackRefused(
            "The versions production ran before the upgrade are not known (they are read "
            "from the manager just before the production deploy). Give them in the fields."
        )
    entry = journal.confirmation(
        f"Rollback of production to {plan.core} / {plan.country_config} started: {reason}",
        phase=PHASE,
        step="rollback",
    )
    plan.why = reason
    plan.started_at = entry.at
    plan.by = entry.by or ""
    plan.journal_id = entry.id
    DeployRecord.of(session).rollback = plan
    reseal_rollback(session)
    return plan


def current_rollback(session: Session) -> RollbackRecord | None:
    """The rollback in progress or done, if its record holds up."""
    rollback = DeployRecord.of(session).rollback
    return rollback if rollback is not None and rollback_sealed(session) else None


def rollback_problem(session: Session) -> str:
    rollback = DeployRecord.of(session).rollback
    if rollback is not None and not rollback_sealed(session):
        return f"the rollback's record was {TAMPERED}"
    return ""


def next_step(rollback: RollbackRecord) -> RollbackStep | None:
    return next((s for s in rollback.steps if s.state not in ("succeeded", "skipped")), None)


def step_started(session: Session, step_id: str, argv: list[str] | None = None) -> RollbackStep:
    rollback = _require(session)
    step = rollback.step(step_id)
    if step is None:
        raise RollbackRefused(f"The rollback has no step {step_id!r}.")
    for before in rollback.steps:
        if before.id == step_id:
            break
        if before.state not in ("succeeded", "skipped"):
            raise RollbackRefused(f"Do “{before.title}” first.")
    step.state = "running"
    step.at = now_iso()
    step.finished_at = ""
    step.exit_code = None
    step.note = ""
    step.argv = list(argv or [])
    reseal_rollback(session)
    return step


def step_finished(
    session: Session,
    step_id: str,
    ok: bool,
    *,
    exit_code: int | None = None,
    note: str = "",
    journal_id: str = "",
    run: object | None = None,
) -> RollbackRecord:
    from tasks.servers.detached import RemoteRunRecord

    rollback = _require(session)
    step = rollback.step(step_id)
    if step is None:
        raise RollbackRefused(f"The rollback has no step {step_id!r}.")
    step.state = "succeeded" if ok else "failed"
    step.finished_at = now_iso()
    step.exit_code = exit_code
    step.note = note
    step.journal_id = journal_id
    if isinstance(run, RemoteRunRecord):
        step.run = run
    if ok and next_step(rollback) is None:
        rollback.outcome = "rolled back"
        rollback.finished_at = step.finished_at
    elif not ok:
        rollback.outcome = ""
    reseal_rollback(session)
    return rollback


def rollback_request(session: Session, host: str, replicas: int, use_yarn: bool) -> DeployRequest:
    rollback = _require(session)
    return DeployRequest(
        "production",
        host,
        rollback.core,
        rollback.country_config,
        replicas,
        clear_data=False,
        use_yarn=use_yarn,
    )


def _require(session: Session) -> RollbackRecord:
    rollback = current_rollback(session)
    if rollback is None:
        raise RollbackRefused(rollback_problem(session) or "No rollback was started.")
    return rollback
