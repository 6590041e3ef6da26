"""``crvs-migrate serve --demo``: the demo in a web browser, through textual-serve.

For demos on a projector from a laptop: the browser shows the same app as the
terminal. Every browser session starts one app process running
``crvs-migrate --demo-dir <DIR> --confine`` on ONE sandbox shared by all sessions
(built once, when the server starts): reloading the page resumes where the demo
was, just as restarting after an SSH drop does. The sandbox is locked by the app
process using it, so a second tab open at once is offered a read-only view; for
separate audiences run two servers with different --demo-dir and --port.

textual-serve has no authentication of its own: the server listens on loopback
unless told otherwise, only the demo can be served (never a real upgrade), the
address printed at start holds a random token without which neither the page nor
its WebSocket opens, the Host and the WebSocket's Origin must be the served
address (``tui.cli.serve_guard``), and the served app reads and runs nothing
outside its sandbox (``--confine``).
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
import tempfile
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="show the demo in a web browser (for projectors)",
        description=(
            "Serve the demo through textual-serve: open the printed address in a browser. "
            "Each browser session runs the demo app on one sandbox shared by all sessions "
            "(reloading the page resumes the demo)."
        ),
        epilog=(
            f"Only this machine can connect by default ({DEFAULT_HOST}). To let other machines "
            "connect, give --host with this machine's address (or 0.0.0.0 with --public-url). "
            "The printed address holds a random token: only who has it can open the demo. "
            "Exit codes: 0 stopped with Ctrl+C; 1 sandbox or port problem; 2 bad usage."
        ),
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="serve the demo (required: a real upgrade is never served over the web)",
    )
    parser.add_argument(
        "--demo-dir",
        type=Path,
        metavar="DIR",
        help="the demo sandbox to build or reuse (default: a fresh temp dir)",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="default: %(default)s")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use to reach this server (default: http://HOST:PORT); "
        "needed with --host 0.0.0.0",
    )
    parser.set_defaults(handler=serve)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 1 and 65535")
    return port


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def app_command(demo_dir: Path) -> str:
    # textual-serve runs this through a shell: quote every part.
    return shlex.join(
        [sys.executable, "-m", "tui", "--demo", "--demo-dir", str(demo_dir), "--confine"]
    )


def serve(args: argparse.Namespace) -> int:
    err = sys.stderr
    if not (args.demo or args.demo_dir):
        print(
            "crvs-migrate serve: only the demo can be served (add --demo); a real upgrade "
            "runs in a terminal, because textual-serve has no authentication.",
            file=err,
        )
        return EXIT_USAGE
    host = args.host
    if is_wildcard(host) and not args.public_url:
        print(
            f"crvs-migrate serve: --host {host} listens on every address, but the page must "
            "tell browsers which address to connect back to: add "
            f"--public-url http://<this machine's address>:{args.port}",
            file=err,
        )
        return EXIT_USAGE

    from tasks.demo.sandbox import build_demo_sandbox

    root = args.demo_dir or Path(tempfile.mkdtemp(prefix="crvs-migrate-serve-")) / "sandbox"
    try:
        sandbox = build_demo_sandbox(root)
    except (OSError, RuntimeError) as exc:
        print(f"crvs-migrate serve: cannot build the demo sandbox in {root}: {exc}", file=err)
        return EXIT_ERROR

    if is_loopback(host):
        print(
            f"Listening on {host} only: browsers on this machine can open it. To show it to "
            "other machines, use --host with this machine's address (no authentication: "
            "trusted networks only).",
            file=err,
        )
    else:
        print(
            f"WARNING: anyone who can reach {host} port {args.port} and has the address "
            "printed below (with its token) can drive this demo; the connection is not "
            f"encrypted. Use --host {DEFAULT_HOST} unless the network is trusted.",
            file=err,
        )
    print(f"Demo sandbox: {sandbox.root} (shared by every browser session)", file=err)

    from tui.cli.serve_guard import GuardedServer, new_token

    server = GuardedServer(
        app_command(sandbox.root),
        token=new_token(),
        host=host,
        port=args.port,
        title="crvs-migrate demo",
        public_url=args.public_url,
    )
    try:
        server.serve()
    except OSError as exc:
        print(
            f"crvs-migrate serve: cannot listen on {host}:{args.port}: {exc.strerror or exc}"
            " (choose another --port)",
            file=err,
        )
        return EXIT_ERROR
    return EXIT_OK
