"""``crvs-migrate check-env``: are the deploy variables of the target set? Names only, never values.

Reads deploy.sh as it will be after the merge (upstream's checks at the target, from git,
plus the fork's own) and the env files given. Never imports textual: ``tasks`` only.

Exit codes: 0 nothing required is missing or invalid, 1 something is, 3 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_BAD_INPUT = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check-env",
        help="check the deploy environment variables of the target release (names only)",
        description=(
            "Compare env files with what infrastructure/deploy.sh of the target requires "
            "after the merge: upstream's checks at v<target> (read from git; run git fetch "
            "--all first) plus your fork's own. Arguments such as --host are not env vars; "
            "'Info: Missing optional' checks are optional. Prints names, never values."
        ),
        epilog="Exit codes: 0 nothing required missing or invalid, 1 otherwise, 3 bad input.",
    )
    p.add_argument(
        "--config", type=Path, required=True, metavar="DIR", help="the country config checkout"
    )
    p.add_argument("--target", required=True, metavar="X.Y.Z", help="the release to deploy")
    p.add_argument(
        "--env-file",
        type=Path,
        action="append",
        required=True,
        metavar="FILE",
        help="a dotenv file (repeatable; later files win)",
    )
    p.add_argument(
        "--domain",
        metavar="D",
        help="the deployment's domain (default: DOMAIN from the env files), for the "
        "CONTENT_SECURITY_POLICY_WILDCARD check",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=run_check_env)


def _fail(message: str) -> int:
    from tasks.text import strip_control

    print(f"crvs-migrate check-env: {strip_control(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run_check_env(args: argparse.Namespace) -> int:
    from tasks.errors import CrvsError
    from tasks.release.env_check import check_env_files
    from tasks.upgrade.catalogue import bundled_catalogue
    from tasks.upgrade.detect import git_checkout_problem
    from tasks.upgrade.versions import parse_version

    config = Path(args.config).expanduser().absolute()
    if problem := git_checkout_problem(config):
        return _fail(f"--config: {problem}")
    try:
        target = str(parse_version(args.target))
    except ValueError as exc:
        return _fail(f"--target: {exc}")
    known = bundled_catalogue().by_version
    if target not in known:
        return _fail(f"--target: {target} is not a known release (known: {', '.join(known)})")
    try:
        result = check_env_files(args.env_file, config, target, domain=args.domain or None)
    except CrvsError as exc:
        return _fail(exc.message)
    document = result.to_json()
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print_result(document, present=len(result.present))
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def print_result(doc: dict[str, Any], *, present: int) -> None:
    from tasks.text import strip_control

    out = [f"Required by deploy.sh ({strip_control(doc['source'])}): {len(doc['required'])}"]
    out += [f"  ✗ missing  {name}" for name in doc["missing"]]
    out += [f"  ✗ invalid  {p['name']}: {p['reason']}" for p in doc["invalid"]]
    out.append(f"  ✓ present  {present} of {len(doc['required'])}")
    out.append(f"Optional (not required): {', '.join(doc['optional']) or 'none'}")
    if doc["removed"]:
        out.append(f"Set but no longer read by the target: {', '.join(doc['removed'])}")
    ok = not doc["missing"] and not doc["invalid"]
    out.append("OK: nothing required is missing or invalid." if ok else "NOT OK.")
    print("\n".join(out))
