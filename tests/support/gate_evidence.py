"""A session whose production gate is open, made through the functions the screens call.

``full_evidence(tmp_path, how=...)`` gives (session, journal): the gate opened, the backup
taken (a finished run on the production manager, journalled as the app journals it, or the
operator's word that it ran outside the app), verified on a backup directory laid out like
the real one, restored on QA, a passing QA health check after it, the records confirmed,
drafts and risk acknowledged. Tests of one condition break one piece of it.

(The acceptance tests make every piece of evidence through the UI instead.)
"""

from __future__ import annotations

from pathlib import Path

from tasks.release.backup import BackupTarget, backup_argv, restore_argv, verify_backup
from tasks.release.gate import (
    BackupRecord,
    acknowledge_drafts,
    acknowledge_risk,
    backup_finished,
    confirm_backup_outside,
    confirm_records_ok,
    confirm_restored_outside,
    open_gate,
    plan_backup,
    record_verification,
    restore_finished,
    start_backup_run,
    start_restore_run,
)
from tasks.servers.detached import RemoteRunRecord, RunState
from tasks.servers.health import Health
from tasks.session.journal import Journal
from tasks.session.state import Session, now_iso
from tests.support.backupdir import make_backup_dir
from tests.support.evidence import qa_health
from tests.support.localrun import local_run

LABEL = "before-v1.3.5-20240502"
TARGET = BackupTarget("backup", "203.0.113.50", 22, "/backups/opencrvs", "203.0.113.10", 3)


def finished_run(
    journal: Journal, argv: list[str], node: str, host: str, log: Path
) -> RemoteRunRecord:
    """A run as follow_run leaves it when the command ended with exit 0, journalled."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("done\n")
    started = now_iso()
    run = RemoteRunRecord(
        run_id=f"20240502t120000z-{node}-abc123",
        node=node,
        host=host,
        argv=list(argv),
        started_at=started,
        user="root",
        state=RunState.FINISHED,
        finished_at=now_iso(),
        exit_code=0,
        log_file=str(log),
        log_bytes=5,
    )
    entry = journal.command(argv, None, started, run.finished_at, 0, host=host, step=run.run_id)
    run.journal_id = entry.id
    return run


async def full_evidence(
    tmp_path: Path,
    how: str = "app",
    session: Session | None = None,
    journal: Journal | None = None,
) -> tuple[Session, Journal]:
    session = session or Session()
    journal = journal or Journal(tmp_path / "journal.jsonl")
    open_gate(session, journal)
    plan_backup(session, TARGET, LABEL)
    make_backup_dir(tmp_path / "remote", LABEL)
    argv = backup_argv(TARGET, LABEL)
    if how == "app":
        running = RemoteRunRecord(
            "20240502t120000z-manager1-abc123",
            "manager1",
            "203.0.113.10",
            argv,
            now_iso(),
            log_file=str(tmp_path / "logs" / "backup.log"),
        )
        start_backup_run(session, journal, running)
        done = finished_run(
            journal, argv, "manager1", "203.0.113.10", tmp_path / "logs" / "backup.log"
        )
        backup_finished(session, journal, done)
    else:
        confirm_backup_outside(session, journal, TARGET, LABEL, argv)
    ver = await verify_backup(
        local_run,
        "backup",
        str(tmp_path / "remote"),
        LABEL,
        BackupRecord.of(session).gate_opened_at,
    )
    assert ver.ok, ver.problems
    record_verification(session, ver)
    if how == "app":
        rargv = restore_argv(LABEL, 1)
        running = RemoteRunRecord(
            "20240502t130000z-qa1-def456", "qa1", "203.0.113.20", rargv, now_iso()
        )
        start_restore_run(session, journal, running)
        done = finished_run(
            journal, rargv, "qa1", "203.0.113.20", tmp_path / "logs" / "restore.log"
        )
        restore_finished(session, done, 1, [])
    else:
        confirm_restored_outside(session, journal, LABEL, "203.0.113.20", 1)
    qa_health(session, Health.PASS)
    confirm_records_ok(session, journal)
    acknowledge_drafts(session, journal)
    acknowledge_risk(session, journal, "in_place")
    return session, journal
