"""``crvs-migrate plan``: the upgrade plan without the full-screen app (like ``kubeadm upgrade plan``).

Detects the current version from the country config checkout, builds the plan (answers from
``--state``, read without writing or locking it; else the safest assumptions: production with
real citizens) and prints every phase and step with why, and for a command step its exact
argv and directory. Never imports textual: ``tasks`` only.

Exit codes: 0 ready (no blocker), 1 blockers, 3 bad input (paths, version, session file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

EXIT_READY = 0
EXIT_BLOCKED = 1
EXIT_BAD_INPUT = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan",
        help="print the upgrade plan: every phase and step, why, and the commands",
        description=(
            "Detect the current version of the country config checkout and print the "
            "upgrade plan: every phase and step, whether it applies and why, and for a "
            "command step its exact argv and directory. Answers come from --state (read "
            "only: the file is never written or locked), else the safest assumptions "
            "(production with real citizens)."
        ),
        epilog="Exit codes: 0 ready, 1 blockers, 3 bad input.",
    )
    p.add_argument(
        "--config", type=Path, required=True, metavar="DIR", help="the country config checkout"
    )
    p.add_argument("--core", type=Path, metavar="DIR", help="the opencrvs-core checkout")
    p.add_argument(
        "--target", metavar="X.Y.Z", help="the release to upgrade to (default: the latest known)"
    )
    p.add_argument(
        "--state", type=Path, metavar="FILE", help="a session file to take the answers from"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=run_plan)


def _fail(message: str) -> int:
    from tasks.text import strip_control

    print(f"crvs-migrate plan: {strip_control(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run_plan(args: argparse.Namespace) -> int:
    from tasks.errors import StateFileError
    from tasks.sections import open_session
    from tasks.upgrade.answers import Answers
    from tasks.upgrade.catalogue import latest_version
    from tasks.upgrade.detect import detect_current_version, git_checkout_problem
    from tasks.upgrade.headless import ASSUMPTIONS, plan_document, safest_answers, step_commands
    from tasks.upgrade.plan import Finding, build_plan
    from tasks.upgrade.versions import parse_version

    config = Path(args.config).expanduser().absolute()
    if problem := git_checkout_problem(config):
        return _fail(f"--config: {problem}")
    core = Path(args.core).expanduser().absolute() if args.core else None
    if core is not None and (problem := git_checkout_problem(core)):
        return _fail(f"--core: {problem}")
    if args.target is not None:
        try:
            target = str(parse_version(args.target))
        except ValueError as exc:
            return _fail(f"--target: {exc}")
    answers: Answers | None = None
    if args.state is not None:
        state = Path(args.state).expanduser()
        try:
            session = open_session(state)
        except StateFileError as exc:
            return _fail(exc.message.split("\n", 1)[0])
        if session is None:
            return _fail(f"--state: {state} does not exist")
        answers = Answers.of(session)

    detected = asyncio.run(detect_current_version(config))
    current = (answers.current_version.strip() if answers else "") or detected.version
    if not current:
        return _fail(
            f"cannot tell the current version of {config}: {detected.note}. "
            "Give --state with the answer, or check the checkout."
        )
    if args.target is None:
        target = (answers.target_version.strip() if answers else "") or latest_version()
    extra: tuple[Finding, ...] = ()
    if answers is None:
        answers = safest_answers(current, target)
        extra = (ASSUMPTIONS,)
    answers.current_version, answers.target_version = current, target
    answers.config_path = str(config)
    if core is not None:
        answers.core_path = str(core)
    core_path = core or (Path(answers.core_path).expanduser() if answers.core_path else None)

    plan = build_plan(answers)
    document = plan_document(plan, step_commands(plan, config, core_path), extra)
    document["detected"] = {"version": detected.version, "note": detected.note}
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print_plan(document)
    return EXIT_BLOCKED if plan.blockers else EXIT_READY


def print_plan(doc: dict[str, Any]) -> None:
    """The plan as plain text: no colour, no wrapping (pipes and files read it whole)."""
    from tasks.text import strip_control

    out: list[str] = [
        f"Upgrade {doc['current'] or '?'} → {doc['target'] or '?'} ({doc['path_kind']})",
        doc["summary"],
        f"Detected: {strip_control(doc['detected']['note'])}",
    ]
    for title, key, mark in (("Blockers", "blockers", "✗"), ("Warnings", "warnings", "!")):
        out += ["", f"{title} ({len(doc[key])})"]
        out += [f"  {mark} {f['message']}" for f in doc[key]] or ["  none"]
    for number, phase in enumerate(doc["phases"], start=1):
        word = "applies (optional)" if phase["optional"] else phase["status"]
        out += ["", f"{number} {phase['title']}  [{word}]"]
        if phase["status"] != "applies":
            out.append(f"    {phase['reason']}")
            continue
        for step in phase["steps"]:
            tags = [
                t
                for t, on in (("by hand", step["manual"]), ("recommended", step["recommended"]))
                if on
            ]
            suffix = f"  ({', '.join(tags)})" if tags else ""
            if step["applies"]:
                out.append(f"  + {step['id']}: {step['title']}{suffix}")
            else:
                out.append(f"  - {step['id']}: {step['title']}  [not applicable]")
            if step["why"]:
                out.append(f"      why: {step['why']}")
            if step["argv"] is not None:
                where = f"  (in {step['cwd']})" if step["cwd"] else "  (in the checkout)"
                out.append(f"      run: {_shell_words(step['argv'])}{where}")
    out += ["", "Key: + applies  - not applicable"]
    print("\n".join(out))


def _shell_words(argv: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in argv)
