"""``crvs-migrate status``: where a session stands, for a second operator or a supervisor.

Phases and steps, the steps running now (pid, log, elapsed time), the production gate and
who holds the session. It never takes the session's lock and never changes its file, so it
may run beside the app (``watch crvs-migrate status``). Never imports textual: ``tasks`` only.

Exit codes: 0 the status was printed, 3 bad input (no session file, or one that cannot
be used).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_BAD_INPUT = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    from tasks.session import locations

    p = subparsers.add_parser(
        "status",
        help="where the session stands: phases, running steps, the gate, who holds it",
        description=(
            "Print where an upgrade session stands: every phase and step, the steps running "
            "now (pid, log, elapsed time), the production gate and who holds the session. "
            "Read only: the session's lock is never taken and its file never changed, so it "
            "can run beside crvs-migrate."
        ),
        epilog="Exit codes: 0 printed, 3 bad input (no session file, or a damaged one).",
    )
    p.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help=f"the session file (default: {locations.default_state_path()})",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    from tasks.errors import StateFileError
    from tasks.session import locations
    from tasks.session.status import NoSession, session_status
    from tasks.text import strip_control

    state = Path(args.state).expanduser() if args.state else locations.default_state_path()
    try:
        doc = session_status(state)
    except NoSession:
        print(f"crvs-migrate status: no session file at {state}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StateFileError as exc:
        first = strip_control(exc.message.split("\n", 1)[0])
        print(f"crvs-migrate status: {first}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(render(doc))
    return EXIT_OK


GLYPHS = {
    "not_started": "○",
    "in_progress": "◐",
    "done": "✓",
    "skipped": "»",
    "blocked": "✗",
    "running": "◐",
    "succeeded": "✓",
    "failed": "✗",
    "cancelled": "■",
    "interrupted": "!",
}


def _elapsed(seconds: float | None) -> str:
    from tasks.units import fmt_elapsed

    if seconds is None:
        return "?"
    return f"{seconds:.1f} s" if seconds < 60 else fmt_elapsed(seconds)


def render(doc: dict[str, Any]) -> str:
    """The status as plain text: no colour, no wrapping (pipes and files read it whole)."""
    s = doc["session"]
    out = [
        f"Session {s['path']} ({s['id']}"
        + (f", {s['installation']})" if s["installation"] else ")")
    ]
    holder = doc["holder"]
    if holder is None:
        out.append("Held by: nobody (no crvs-migrate has it open)")
    else:
        state = "" if holder["running"] else " — that process has ended (a stale lock)"
        out.append(
            f"Held by: {holder['by']} on {holder['host']} (process {holder['pid']}) since "
            f"{holder['since']}{state}"
        )
    plan = doc["plan"]
    if plan["current"] or plan["target"]:
        accepted = "accepted" if plan["accepted"] else "not accepted yet"
        out.append(f"Upgrade {plan['current'] or '?'} → {plan['target'] or '?'} (plan {accepted})")
    out.append("")
    for phase in doc["phases"]:
        word = phase["status"].replace("_", " ")
        line = f"{GLYPHS.get(phase['status'], '?')} {phase['number']} {phase['title']}  {word}"
        if phase["reason"]:
            line += f": {phase['reason']}"
        out.append(line)
        for step in phase["steps"]:
            if step["status"] in ("not_started", "skipped"):
                continue
            detail = step["status"].replace("_", " ")
            if step["exit_code"] is not None:
                detail += f", exit code {step['exit_code']}"
            if step["duration_s"] is not None:
                detail += f", {_elapsed(step['duration_s'])}"
            if step["by"]:
                detail += f", by {step['by']}"
            if step["note"]:
                detail += f": {step['note']}"
            out.append(f"    {GLYPHS.get(step['status'], '?')} {step['id']}  {detail}")
    running = doc["running"]
    out += ["", f"Running steps ({len(running)})"]
    for r in running:
        where = f"{r['phase']} / {r['step']}"
        if r["pid"] is None:
            out.append(f"  ! {where}: no record of its run (interrupted?); log {r['log_file']}")
            continue
        if r["ended"] is not None:
            end = r["ended"]
            how = "cancelled" if end["cancelled"] else f"exit code {end['exit_code']}"
            state = (
                f"ended at {end['finished_at']} ({how}); crvs-migrate records it when it next opens"
            )
        elif r["alive"]:
            state = f"running for {_elapsed(r['elapsed_s'])}"
        else:
            state = "interrupted: its supervisor is gone"
        out.append(f"  ◐ {where}: {r['command']}")
        out.append(f"      pid {r['pid']} (supervisor {r['supervisor_pid']}), {state}")
        out.append(f"      log {r['log_file']}")
    if not running:
        out.append("  none")
    gate = doc["gate"]
    met = sum(1 for c in gate["conditions"] if c["met"])
    out += [
        "",
        f"Production gate: {'OPEN' if gate['open'] else 'LOCKED'} "
        f"({met} of {len(gate['conditions'])} conditions hold)",
    ]
    for c in gate["conditions"]:
        out.append(
            f"  {'✓' if c['met'] else '✗'} {c['title']}" + ("" if c["met"] else f": {c['missing']}")
        )
    return "\n".join(out)
