"""What can be read from the operator's checkouts: is it a git repository, which
1.3.x version is the country config on.

The current version comes from two places that normally agree: the country
config's ``package.json`` ``version`` and the nearest ``v1.3.x`` tag
(``git describe --tags --match 'v1.3.*' --abbrev=0``, pre-release tags excluded).
A country's own tags such as ``v1.3.0-ruritania.2`` count as the release they
are based on. git runs with an argv list, no prompt and no terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.lean import dataclass
from tasks.session.state import now_iso
from tasks.text import strip_control
from tasks.upgrade.catalogue import Release
from tasks.upgrade.versions import is_release_tag, is_version, parse_tag, parse_version

if TYPE_CHECKING:
    from tasks.session.journal import Journal

GIT_TIMEOUT_S = 15


def _expand(path: str | Path) -> Path:
    return Path(os.path.expanduser(str(path).strip()))


def absolute_path(text: str) -> str:
    """A typed path made independent of the directory the app was started in.

    ``~`` is kept as typed (it reads better and means the same on resume).
    """
    value = text.strip()
    if not value or value.startswith("~") or os.path.isabs(value):
        return value
    return os.path.abspath(value)


def git_checkout_problem(path: str | Path) -> str | None:
    """Why ``path`` is not a git checkout (exists, is a directory, has ``.git``); ``None`` if it is.

    Cheap enough to run on every keystroke: it only looks at the filesystem.
    """
    p = _expand(path)
    if not str(path).strip():
        return "Enter a path"
    if not p.exists():
        return f"{p} does not exist"
    if not p.is_dir():
        return f"{p} is not a directory"
    # A worktree or submodule has a .git file; a normal clone a .git directory.
    if not (p / ".git").exists():
        return f"{p} is not a git repository (no .git)"
    return None


def file_problem(path: str | Path) -> str | None:
    p = _expand(path)
    if not p.exists():
        return f"{p} does not exist"
    if not p.is_file():
        return f"{p} is not a file"
    return None


@dataclass(frozen=True)
class DetectedVersion:
    """What the country config says about its version."""

    package_version: str | None
    tag: str | None
    # The best answer, "" when neither source gave one.
    version: str
    # For the operator: where it came from, and any disagreement.
    note: str


def read_package_version(checkout: Path) -> str | None:
    try:
        data = json.loads((checkout / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("version") if isinstance(data, dict) else None
    return value if isinstance(value, str) and is_version(value) else None


# Upstream pre-releases are not the release they lead to (v1.3.0-rc.1 is not 1.3.0).
PRERELEASE_PATTERNS = ("v1.3.*-rc*", "v1.3.*-alpha*", "v1.3.*-beta*", "v1.3.*-pre*", "v1.3.*-dev*")


def describe_argv(checkout: Path) -> list[str]:
    """The nearest ``v1.3.*`` tag, a country's ``v1.3.0-<name>.N`` included."""
    argv = ["git", "-C", str(checkout), "describe", "--tags", "--match", "v1.3.*"]
    for pattern in PRERELEASE_PATTERNS:
        argv += ["--exclude", pattern]
    return [*argv, "--abbrev=0"]


async def nearest_tag(checkout: Path, journal: Journal | None = None) -> str | None:
    """The nearest ``v1.3.*`` release tag reachable from HEAD, or ``None``.

    Recorded in ``journal`` (when given) like every command crvs-migrate runs.
    """
    argv = describe_argv(checkout)
    started, t0 = now_iso(), time.monotonic()
    exit_code: int | None = None
    try:
        exit_code, out = await _run(argv)
    finally:
        if journal is not None:
            journal.command(
                argv,
                checkout,
                started,
                now_iso(),
                exit_code,
                duration_s=time.monotonic() - t0,
                phase="prepare",
                step="detect_version",
            )
    if exit_code != 0:
        return None
    tag = strip_control(out.strip())
    return tag if is_release_tag(tag) else None


async def _run(argv: list[str]) -> tuple[int | None, str]:
    """Run ``argv`` with no terminal and no prompt; (exit code or None, stdout)."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError:
        return None, ""
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None, ""
    return proc.returncode, out.decode("utf-8", "replace")


def combine(package_version: str | None, tag: str | None) -> DetectedVersion:
    """Pure: the detected version from the two sources (package.json wins a disagreement:
    it is what the running build was made from; a tag can lag behind a merge)."""
    tag_version = str(parse_tag(tag).version) if tag else None
    pkg_version = str(parse_version(package_version)) if package_version else None
    if pkg_version and tag_version:
        if pkg_version == tag_version:
            note = f"package.json says {pkg_version}; nearest tag {tag}"
        else:
            note = (
                f"package.json says {pkg_version} but the nearest tag is {tag}: "
                "check which one is deployed"
            )
        return DetectedVersion(package_version, tag, pkg_version, note)
    if pkg_version:
        return DetectedVersion(
            package_version, None, pkg_version, f"package.json says {pkg_version}; no v1.3.x tag"
        )
    if tag_version:
        return DetectedVersion(
            None, tag, tag_version, f"nearest tag {tag}; package.json has no version"
        )
    return DetectedVersion(None, None, "", "no version in package.json and no v1.3.x tag")


async def detect_current_version(
    config_path: str | Path, journal: Journal | None = None
) -> DetectedVersion:
    """Read the country config checkout at ``config_path``; never raises for a bad checkout."""
    checkout = _expand(config_path)
    if problem := git_checkout_problem(checkout):
        return DetectedVersion(None, None, "", problem)
    return combine(read_package_version(checkout), await nearest_tag(checkout, journal))


# -- reading refs and files from git (synchronous: each call takes milliseconds) -------------

# Remotes that hold upstream's releases, best first (the notes say countryconfig; the v1.3
# fork guide says farajaland; many forks call it upstream).
UPSTREAM_REMOTE_NAMES = ("countryconfig", "farajaland", "upstream")


def git_read(checkout: Path, *args: str, timeout: float = GIT_TIMEOUT_S) -> tuple[int | None, str]:
    """Run a read-only git command in ``checkout``: (exit code or None, stdout)."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    try:
        proc = subprocess.run(
            ["git", "-C", str(checkout), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None, ""
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def _commit(checkout: Path, ref: str) -> str | None:
    code, out = git_read(checkout, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return out.strip() or None if code == 0 else None


def find_release_ref(checkout: Path, release: Release) -> str | None:
    """Where upstream's ``release`` is in this checkout (after ``git fetch --all``), or ``None``.

    Tries the catalogue's refs in order (``v1.3.5``, ``release-v1.3.5``, ...): a tag, then the
    branch on an upstream remote, then on any other remote but origin, then a local branch.
    Returns the full ref name, e.g. ``refs/tags/v1.3.5`` or
    ``refs/remotes/countryconfig/release-v1.3.4``.
    """
    code, out = git_read(checkout, "remote")
    remotes = out.split() if code == 0 else []
    ordered = [r for r in UPSTREAM_REMOTE_NAMES if r in remotes]
    ordered += [r for r in remotes if r not in ordered and r != "origin"]
    for name in release.refs:
        candidates = [f"refs/tags/{name}"] if name.startswith("v") else []
        candidates += [f"refs/remotes/{remote}/{name}" for remote in ordered]
        candidates += [f"refs/heads/{name}", f"refs/tags/{name}"]
        for ref in dict.fromkeys(candidates):
            if _commit(checkout, ref):
                return ref
    return None


def show_file(checkout: Path, rev: str, path: str) -> str | None:
    """The text of ``path`` at ``rev`` (``git show rev:path``), or ``None`` if it is not there."""
    code, out = git_read(checkout, "show", f"{rev}:{path}")
    return out if code == 0 else None


def merge_base(checkout: Path, a: str, b: str) -> str | None:
    code, out = git_read(checkout, "merge-base", a, b)
    return out.strip() or None if code == 0 else None
