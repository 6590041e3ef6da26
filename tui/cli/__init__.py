"""The ``crvs-migrate`` command line: a thin layer over the app and ``tasks``.

Exit codes:
  0  the operator quit normally (the session is saved)
  1  the session file could not be used (damaged, in use by another instance, not
     writable) and the operator quit, or an unexpected error
  2  bad command-line usage
  Subcommands document their own codes (``crvs-migrate health --help``).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tasks.session import locations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
# How long the thread holding the interpreter may keep it from another (Python: 5 ms).
SWITCH_INTERVAL_S = 0.001


def package_version() -> str:
    # importlib.metadata costs a hundredth of a second: only when the version is asked.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crvs-migrate")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


class _VersionAction(argparse.Action):
    """``--version``: the package version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"{parser.prog} {package_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crvs-migrate",
        description="A guided, checked, resumable and recorded OpenCRVS v1.3.x upgrade.",
        epilog=(
            "Exit codes: 0 quit normally; 1 unusable session file or unexpected error; "
            "2 bad usage. The session is saved on every change: run the same command "
            "again to resume."
        ),
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help=f"session state file (default: {locations.default_state_path()}; "
        "in demo mode: inside the demo directory)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against a sandbox built on the spot: real git repositories and a demo cluster on loopback",
    )
    parser.add_argument(
        "--demo-dir",
        type=Path,
        metavar="DIR",
        help="where to build (or reuse) the demo sandbox; implies --demo (default: a fresh temp dir)",
    )
    parser.add_argument(
        "--confine",
        action="store_true",
        help="with --demo: read and run nothing outside the demo sandbox (what `serve` does)",
    )
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="colour theme, e.g. ansi-dark or ansi-light (the terminal's own 16 colours), "
        "textual-dark (default: ansi-dark on terminals that report 16 colours, such as "
        "TERM=linux; else textual-dark). NO_COLOR=1 turns colour off.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.set_defaults(handler=run_app)
    # Subcommands live in their own modules (tui/cli/<name>.py), each with
    # register(subparsers) that adds its parser and sets `handler`.
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _subcommands():
        register(subparsers)
    return parser


def _subcommands() -> list:
    from tui.cli import check_env, health, plan, report, serve, status

    return [
        health.register,
        plan.register,
        check_env.register,
        status.register,
        report.register,
        serve.register,
    ]


def run_app(args: argparse.Namespace) -> int:
    from textual.theme import BUILTIN_THEMES

    if args.theme and args.theme not in BUILTIN_THEMES:
        print(
            f"crvs-migrate: unknown theme {args.theme!r}; choose from: "
            + ", ".join(sorted(BUILTIN_THEMES)),
            file=sys.stderr,
        )
        return EXIT_USAGE

    from tasks.errors import StateFileError, StorageError
    from tasks.sections import open_session
    from tasks.session.lock import SessionInUse, SessionLock
    from tasks.session.workspace import Workspace

    demo = None
    demo_lock: SessionLock | None = None
    # Why this instance may only look (another holds the session or the sandbox, or
    # the lock cannot be made): the app asks whether to view read-only or quit.
    unavailable: SessionInUse | StorageError | None = None
    if args.demo or args.demo_dir:
        from tasks.demo.sandbox import DemoSandbox, demo_sandbox_at

        root = args.demo_dir or Path(tempfile.mkdtemp(prefix="crvs-migrate-demo-")) / "sandbox"
        root = Path(root).expanduser().absolute()
        demo_lock = SessionLock(DemoSandbox(root).lock_path, what="demo sandbox")
        try:
            # Served (--confine): a reloaded page's previous app process may still be
            # quitting; give it a moment before calling the sandbox busy.
            demo_lock.acquire(wait_s=3.0 if args.confine else 0.0)
        except SessionInUse as exc:
            unavailable = exc  # its cluster is another instance's: never rebuilt here
        except StorageError as exc:
            print(
                f"crvs-migrate: cannot use the demo sandbox in {root}: {exc.message}",
                file=sys.stderr,
            )
            return EXIT_ERROR
        if unavailable is None:
            try:
                # Only checked here: the app builds it after its first paint.
                demo = demo_sandbox_at(root)
            except OSError as exc:
                demo_lock.release()
                print(
                    f"crvs-migrate: cannot build the demo sandbox in {root}: {exc}", file=sys.stderr
                )
                return EXIT_ERROR
        else:
            demo = DemoSandbox(root)
    elif args.confine:
        print("crvs-migrate: --confine goes with --demo (it confines the demo)", file=sys.stderr)
        return EXIT_USAGE
    state_path = args.state or (demo.state_path if demo else locations.default_state_path())
    workspace = Workspace(
        state_path, demo=demo, confine_to=demo.root if demo is not None and args.confine else None
    )
    if unavailable is None:
        try:
            workspace.lock.acquire()
        except (SessionInUse, StorageError) as exc:
            unavailable = exc
    session = None
    state_error = None
    try:
        session = open_session(workspace.state_path, confine_to=workspace.confine_to)
    except StateFileError as exc:
        state_error = exc

    from tui.app import CrvsMigrateApp

    app = CrvsMigrateApp(
        workspace,
        session=session,
        state_error=state_error,
        unavailable=unavailable,
        theme=args.theme,
        environ=os.environ,
        build_ahead=True,
    )
    # Textual writes each frame from its own thread. Right after a frame the app goes on
    # working (a phase's body is mounted once its frame is drawn), and under Python's
    # default 5 ms switch interval that thread waited for the interpreter up to 5 ms at
    # each of its steps: a phase drawn 6 ms after its key reached the terminal at 10-36 ms.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        result = app.run()
    finally:
        sys.setswitchinterval(switch_interval)
        # The app may have moved to a new session file (after a damaged one).
        for lock in (app.workspace.lock, workspace.lock, demo_lock):
            if lock is not None:
                lock.release()
    if app.storage_error is not None:
        print(
            f"crvs-migrate: {app.storage_error.message} The file still holds what was last "
            "written successfully.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if app.crash_report is not None:
        print(
            f"crvs-migrate stopped unexpectedly. Your session is saved in {workspace.state_path}.\n"
            f"A crash report (no secrets, no local variables) is in {app.crash_report}.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if app.return_code not in (None, 0):
        return app.return_code
    if demo is not None and not workspace.read_only:
        print(f"Demo sandbox kept in {demo.root} (resume with --demo-dir {demo.root})")
    return result if isinstance(result, int) else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    # Start-up allocates a few hundred thousand objects that live as long as the process
    # (modules, classes, the screens): collecting them again and again while the app
    # starts costs tens of milliseconds. The app turns collection back on after its
    # first paint (tui.app); the headless subcommands at once.
    gc.disable()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.handler is not run_app:
            gc.enable()
        return args.handler(args)
    finally:
        gc.enable()


if __name__ == "__main__":
    sys.exit(main())
