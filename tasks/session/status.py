"""Where a session stands, for a second operator or a supervisor (``crvs-migrate status``).

Read only: the session file is parsed as the app parses it (``tasks.sections.open_session``)
and never written; its lock is never taken: who holds it is read from the lock file's
record (and whether that process still runs). Steps saved as running are looked up in
the files their supervisor keeps beside their log (``tasks.local.detached``): the pid, the
log, the elapsed time, and whether the step ended meanwhile (the app records that when it
next opens the session). The gate is computed from the evidence (``compute_gate``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from tasks.local.detached import RunFiles
from tasks.release.gate import compute_gate
from tasks.sections import open_session
from tasks.session import locations
from tasks.session.files import open_no_follow
from tasks.session.journal import Journal
from tasks.session.lock import LockHolder
from tasks.session.phases import PHASES, StepStatus
from tasks.session.state import Session
from tasks.text import sanitize_tree
from tasks.upgrade.plan import PlanRecord


class NoSession(Exception):
    """There is no session file at the path."""


def lock_holder(state_path: Path) -> dict[str, Any] | None:
    """Who holds the session, from the lock file's record, without taking the lock."""
    path = locations.lock_path(Path(state_path))
    try:
        fd = open_no_follow(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        raw = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    holder = LockHolder.parse(raw)
    if holder is None:
        return None  # released (a clean exit empties the record)
    return {
        "by": holder.by,
        "host": holder.host,
        "pid": holder.pid,
        "since": holder.since,
        # False: the process is gone (a stale lock the next crvs-migrate takes over).
        "running": holder.is_alive_here(),
    }


def running_steps(session: Session) -> list[dict[str, Any]]:
    """Every step saved as running, as its supervisor's files show it now."""
    out: list[dict[str, Any]] = []
    now = time.time()
    for phase_id, phase in session.phases.items():
        for step_id, rec in phase.steps.items():
            if rec.status is not StepStatus.RUNNING:
                continue
            item: dict[str, Any] = {
                "phase": phase_id,
                "step": step_id,
                "log_file": rec.log_file,
                "started_at": rec.started_at,
                "command": None,
                "pid": None,
                "supervisor_pid": None,
                "elapsed_s": None,
                "alive": False,
                "ended": None,
            }
            files = RunFiles(Path(rec.log_file)) if rec.log_file else None
            info = files.read_run() if files is not None else None
            if files is not None and info is not None:
                import shlex

                item.update(
                    command=shlex.join(info.argv),
                    pid=info.child_pid,
                    supervisor_pid=info.supervisor_pid,
                    started_at=info.started_at,
                    elapsed_s=round(max(0.0, now - info.started_epoch), 1),
                    alive=files.supervisor_alive(info),
                )
                status = files.read_status()
                if status is not None:
                    item["alive"] = False
                    item["elapsed_s"] = status.duration_s
                    item["ended"] = {
                        "exit_code": status.exit_code,
                        "cancelled": status.cancelled,
                        "finished_at": status.finished_at,
                    }
            out.append(item)
    return out


def session_status(state_path: Path) -> dict[str, Any]:
    """The whole picture as ``crvs-migrate status --json`` prints it.

    Raises ``NoSession``, or ``tasks.errors.StateFileError`` for a file that cannot be used.
    """
    state_path = Path(state_path).expanduser().absolute()
    session = open_session(state_path)
    if session is None:
        raise NoSession(str(state_path))
    plan = PlanRecord.of(session)
    # The journal read, never written: the gate's confirmations stand on its entries.
    gate = compute_gate(session, Journal(locations.journal_path(state_path), read_only=True))
    phases = []
    for p in PHASES:
        rec = session.phase(p.id)
        phases.append(
            {
                "id": p.id,
                "number": p.number,
                "title": p.title,
                "status": rec.status.value,
                "reason": rec.reason,
                "started_at": rec.started_at,
                "finished_at": rec.finished_at,
                "steps": [
                    {
                        "id": step_id,
                        "status": s.status.value,
                        "note": s.note,
                        "exit_code": s.exit_code,
                        "duration_s": s.duration_s,
                        "started_at": s.started_at,
                        "finished_at": s.finished_at,
                        "by": s.by,
                        "log_file": s.log_file,
                    }
                    for step_id, s in rec.steps.items()
                ],
            }
        )
    document = {
        "session": {
            "path": str(state_path),
            "id": session.session_id,
            "installation": session.installation,
            "demo": session.demo,
            "created_at": session.created_at,
            "updated_at": session.updated_at,
            "current_view": session.current_view,
        },
        "holder": lock_holder(state_path),
        "plan": {
            "current": plan.current.current if plan.current else None,
            "target": plan.current.target if plan.current else None,
            "accepted": plan.is_accepted,
        },
        "phases": phases,
        "running": running_steps(session),
        "gate": {
            "open": gate.open,
            "conditions": [
                {"id": c.id, "title": c.title, "met": c.met, "missing": c.missing}
                for c in gate.conditions
            ],
        },
    }
    return sanitize_tree(document)
