"""``crvs-migrate report``: the change record of a session, without the full-screen app.

The same document the Report screen exports, as Markdown or self-contained HTML, on
standard output or into a file. The session, its journal and the crash reports beside it
are only read: the session's lock is not taken (a report of a session in use is a snapshot
of it as last saved) and nothing beside the session is written. Never imports textual.

Exit codes: 0 written, 3 bad input (no session there, a damaged one, an output that cannot
be written or that would replace one of the session's own files).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_BAD_INPUT = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    from tasks.session import locations

    p = subparsers.add_parser(
        "report",
        help="write the change record of a session as Markdown or HTML",
        description=(
            "Write the change record of an upgrade session (what the Report screen exports): "
            "the change and its sign-off, the outcome, downtime, the versions running at the "
            "end, the rollback plan, incidents, every step and its evidence, every command "
            "and confirmation. The session is only read: it is never written or locked. "
            "Secret values are masked as in the app."
        ),
        epilog="Exit codes: 0 written, 3 bad input.",
    )
    p.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help=f"the session file (default: {locations.default_state_path()})",
    )
    p.add_argument(
        "--format",
        choices=("md", "html"),
        help="Markdown or self-contained HTML (default: from the -o file's name, else md)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write here (0600, replaced atomically) instead of standard output",
    )
    p.set_defaults(handler=run_report)


def _fail(message: str) -> int:
    from tasks.text import strip_control

    print(f"crvs-migrate report: {strip_control(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output is not None and args.output.suffix.lower() in (".html", ".htm"):
        return "html"
    return "md"


def run_report(args: argparse.Namespace) -> int:
    from tasks.errors import StateFileError
    from tasks.report.export import read_input, render
    from tasks.sections import open_session
    from tasks.session import locations
    from tasks.session.files import write_atomic
    from tasks.session.journal import Journal

    state = Path(args.state or locations.default_state_path()).expanduser().absolute()
    try:
        session = open_session(state)
    except StateFileError as exc:
        return _fail(exc.message)
    if session is None:
        return _fail(f"there is no session at {state} (give its file with --state FILE)")
    journal = Journal(locations.journal_path(state), read_only=True)
    if args.output is not None:
        output = Path(args.output).expanduser().absolute()
        own = {
            p.resolve()
            for p in (state, journal.path, locations.lock_path(state))
        }  # fmt: skip
        if output.resolve() in own:
            return _fail(f"{output} is one of the session's own files: choose another -o FILE")
    text = render(read_input(session, journal, state), _format(args))
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        write_atomic(output, text.encode("utf-8"))
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror or exc}")
    print(f"Report written to {output}", file=sys.stderr)
    return EXIT_OK
