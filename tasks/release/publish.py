"""Release: the upgrade branch merged, the version tag, the published image.

The PR merge is the operator's, on the fork's server; this module checks it against
the fork's remote-tracking branch (``origin/master`` after ``git fetch --tags origin``,
``git merge-base --is-ancestor``) or records the operator's word. The proposed tag is
one that is free: upstream's ``v1.3.5`` is in every fork after ``git fetch --all``, so
a fork's release is ``v1.3.5-<installation>`` (then ``.2``, ``.3``) or ``v1.3.5-1``,
``-2``; ``tasks.upgrade.detect`` reads either as 1.3.5. Tags are validated by
``tasks.names`` and ``git check-ref-format``, never moved, created annotated; pushing
is a separate step the operator confirms. Everything that changes a repository is
journalled.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any, ClassVar

from tasks.errors import CrvsError, InvalidName, ToolMissing
from tasks.lean import dataclass, regex
from tasks.names import remote_name_problem, validate_image_tag, validate_release_tag
from tasks.release.env_check import EnvCheck, EnvCheckRecord
from tasks.session import records
from tasks.session.journal import Journal
from tasks.session.state import Session, now_iso

PHASE = "release"


@dataclass
class MergeRecord:
    branch: str
    into: str
    # "checked with git merge-base --is-ancestor" or "operator confirmation".
    how: str
    at: str
    by: str = ""


@dataclass
class TagRecord:
    name: str
    commit: str
    created_at: str
    pushed_at: str = ""
    remote: str = ""


@dataclass
class ImageRecord:
    tag: str
    recorded_at: str
    how: str = "operator"


@dataclass
class ReleaseRecord:
    """``session.release``: what the Release phase established."""

    KEY: ClassVar[str] = "release"

    merge: MergeRecord | None = None
    tag: TagRecord | None = None
    image: ImageRecord | None = None
    env_check: EnvCheckRecord | None = None

    @classmethod
    def of(cls, session: Session) -> ReleaseRecord:
        return session.section(cls)

    def to_state(self) -> dict[str, Any]:
        return records.to_state(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ReleaseRecord:
        return records.from_state(cls, data)


PUBLISH_WORKFLOW = Path(".github") / "workflows" / "publish-release.yml"
_VERSION = regex(r"^\d+\.\d+\.\d+$")


class TagExists(CrvsError):
    title = "The tag already exists"


class GitFailed(CrvsError):
    title = "git failed"


class NotFetched(CrvsError):
    title = "Fetch the fork first"


@dataclass(frozen=True)
class GitResult:
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def git(
    repo: Path,
    *args: str,
    journal: Journal | None = None,
    step: str | None = None,
    timeout: float = 60,
) -> GitResult:
    """Run git in ``repo`` (argv only); journal it when it changes something (``journal`` given)."""
    argv = ["git", *args]
    started, t0 = now_iso(), time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            cwd=repo,
            env=_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        if not Path(repo).is_dir():
            raise CrvsError(f"{repo} is not a directory.", "Country config not found") from exc
        raise ToolMissing("git is not installed or not on PATH.") from exc
    result = GitResult(argv, proc.returncode, proc.stdout, proc.stderr)
    if journal is not None:
        journal.command(
            argv,
            repo,
            started,
            now_iso(),
            proc.returncode,
            duration_s=time.monotonic() - t0,
            phase=PHASE,
            step=step,
        )
    return result


def _commit_of(repo: Path, ref: str) -> str | None:
    r = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return r.stdout.strip() or None if r.exit_code == 0 else None


# -- merged? --------------------------------------------------------------


def is_merged(repo: Path, branch: str, into: str) -> bool:
    """Whether every commit of ``branch`` is in ``into`` (e.g. ``origin/master``)."""
    for ref in (branch, into):
        if ref.startswith("-") or _commit_of(repo, ref) is None:
            raise CrvsError(f"'{ref}' is not a branch or commit in {repo}.", "Unknown branch")
    r = git(repo, "merge-base", "--is-ancestor", branch, into)
    if r.exit_code in (0, 1):
        return r.exit_code == 0
    raise GitFailed(r.stderr.strip() or f"git merge-base exited {r.exit_code}")


def _remote(remote: str) -> str:
    remote = remote.strip()
    problem = remote_name_problem(remote)
    if problem:
        raise InvalidName(problem)
    return remote


def fetch_argv(remote: str) -> list[str]:
    """What brings the fork's merged branch and its tags here (never --prune: upstream's
    tags would go)."""
    return ["git", "fetch", "--tags", _remote(remote)]


def fetch_remote(repo: Path, remote: str, journal: Journal | None) -> GitResult:
    """Run ``fetch_argv(remote)`` in ``repo`` (journalled); ``GitFailed`` with git's words."""
    r = git(repo, *fetch_argv(remote)[1:], journal=journal, step="merge_pr", timeout=300)
    if r.exit_code != 0:
        raise GitFailed(
            f"{' '.join(fetch_argv(remote))} failed: "
            + (r.stderr.strip() or f"exit code {r.exit_code}")
        )
    return r


def tracking_branch(into: str, remote: str) -> str:
    """``master`` -> ``origin/master``; ``origin/master`` and full refs stay as they are."""
    into = into.strip()
    remote = _remote(remote)
    if into.startswith(("refs/", f"{remote}/")):
        return into
    return f"{remote}/{into}"


def release_ref(repo: Path, into: str, remote: str = "origin") -> str:
    """What the release tag goes on: the fork's branch as last fetched (``origin/master``,
    where the PR was merged), else ``into`` as typed (never fetched, or a plain checkout).

    The local branch lags behind a merge made on GitHub until it is pulled: tagging it
    would tag the release without the upgrade."""
    try:
        against = tracking_branch(into, remote)
    except InvalidName:
        return into.strip()
    full = against if against.startswith("refs/") else f"refs/remotes/{against}"
    return against if _commit_of(repo, full) is not None else into.strip()


@dataclass(frozen=True)
class MergeCheck:
    merged: bool
    # The ref read, e.g. origin/master (as of the last fetch).
    against: str
    branch: str


def check_merged(repo: Path, branch: str, into: str, remote: str = "origin") -> MergeCheck:
    """Whether ``branch`` is in the fork's ``into`` as last fetched from ``remote``.

    Reads ``refs/remotes/<remote>/<into>``, never the local branch (a local merge is not
    the PR merged). Without that ref, ``NotFetched`` names the exact command to run.
    """
    branch = branch.strip()
    against = tracking_branch(into, remote)
    full = against if against.startswith("refs/") else f"refs/remotes/{against}"
    if _commit_of(repo, full) is None:
        raise NotFetched(
            f"{against} is not known in {repo}: fetch the fork first, with\n"
            f"  git -C {repo} {' '.join(fetch_argv(remote)[1:])}\n"
            '("Check it is merged" runs it), then check again.'
        )
    if branch and not branch.startswith("-") and _commit_of(repo, branch) is None:
        # Deleted here after the merge: the fork's copy of it says the same.
        theirs = f"refs/remotes/{_remote(remote)}/{branch}"
        if _commit_of(repo, theirs) is not None:
            return MergeCheck(is_merged(repo, theirs, full), against, branch)
    return MergeCheck(is_merged(repo, branch, full), against, branch)


def _work_began(session: Session, at: str | None = None) -> None:
    """Something of the Release phase was recorded: the phase is in progress (done stays)."""
    session.phase(PHASE).start(at)


def record_merge_checked(session: Session, branch: str, into: str) -> None:
    """``into`` is the ref read, e.g. ``origin/master`` (``MergeCheck.against``)."""
    ReleaseRecord.of(session).merge = MergeRecord(
        branch, into, "checked with git merge-base --is-ancestor", now_iso()
    )
    _work_began(session)


def record_merge_confirmed(session: Session, journal: Journal, branch: str, where: str) -> None:
    """The operator says the upgrade branch was merged somewhere git here cannot see."""
    entry = journal.confirmation(
        f"The upgrade branch {branch} is merged into the release branch ({where}).",
        phase=PHASE,
        step="merge",
    )
    ReleaseRecord.of(session).merge = MergeRecord(
        branch, where, "operator confirmation", entry.at, entry.by or ""
    )
    _work_began(session, entry.at)


# -- the tag --------------------------------------------------------------


_GENERIC_REPOS = {"countryconfig", "farajaland", "core", "config", "country-config"}


def taken_tags(repo: Path) -> set[str]:
    """Tag names present here: ``refs/tags/*`` (a fetch brings the fork's and upstream's)
    and any kept as remote-tracking refs (``refs/remotes/<remote>/tags/*``)."""
    r = git(repo, "for-each-ref", "--format=%(refname)", "refs/tags", "refs/remotes")
    if r.exit_code != 0:
        raise GitFailed(r.stderr.strip() or f"git for-each-ref exited {r.exit_code}")
    names = set()
    for line in r.stdout.splitlines():
        if line.startswith("refs/tags/"):
            names.add(line.removeprefix("refs/tags/"))
        elif line.startswith("refs/remotes/") and "/tags/" in line:
            names.add(line.split("/tags/", 1)[1])
    return names


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    # A slug read as a pre-release (v1.3.5-dev, -rc…) would hide the release from detect.
    from tasks.upgrade.versions import is_release_tag

    return slug if slug and is_release_tag(f"v1.3.0-{slug}") else ""


def installation_slug(repo: Path, remote: str = "origin", installation: str = "") -> str:
    """The installation's name as a tag suffix: the session's name for it, else the fork's
    repository name when it is ``opencrvs-<country>``; "" when neither says."""
    if installation.strip():
        return _slug(installation)
    try:
        remote = _remote(remote)
    except InvalidName:
        return ""
    r = git(repo, "config", "--get", f"remote.{remote}.url")
    name = r.stdout.strip().rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    name = name.removesuffix(".git").lower()
    if not name.startswith("opencrvs-") or name.removeprefix("opencrvs-") in _GENERIC_REPOS:
        return ""
    return _slug(name.removeprefix("opencrvs-"))


def propose_tag(
    repo: Path, target_version: str, *, remote: str = "origin", installation: str = ""
) -> str:
    """A free tag for the fork's release of ``target_version``.

    Never ``v1.3.5`` itself (upstream's, in every fork after a fetch): ``v1.3.5-<slug>``,
    ``v1.3.5-<slug>.2``, … when the installation has a name, else ``v1.3.5-1``, ``-2``, …;
    the first one not taken here (local and remote-tracking tags).
    """
    if not _VERSION.match(target_version):
        raise InvalidName(f"'{target_version}' is not a version like 1.3.5.")
    taken = taken_tags(repo)
    slug = installation_slug(repo, remote, installation)
    for n in range(1, 1000):
        if slug:
            name = f"v{target_version}-{slug}" + (f".{n}" if n > 1 else "")
        else:
            name = f"v{target_version}-{n}"
        if name not in taken:
            return validate_release_tag(name)
    raise CrvsError(f"No free tag for {target_version} among 999 tried.", "No free tag")


def validate_tag(repo: Path, name: str) -> str:
    """Raise ``InvalidName`` unless ``name`` is a valid tag name for git."""
    name = validate_release_tag(name)
    r = git(repo, "check-ref-format", f"refs/tags/{name}")
    if r.exit_code != 0:
        raise InvalidName(f"'{name}' is not a valid tag name (git check-ref-format refuses it).")
    return name


def tag_commit(repo: Path, name: str) -> str | None:
    return _commit_of(repo, f"refs/tags/{name}")


def create_tag(
    repo: Path, name: str, journal: Journal, *, ref: str = "HEAD", message: str | None = None
) -> str:
    """Create annotated tag ``name`` on ``ref``; refuse to move an existing tag. Returns the commit."""
    name = validate_tag(repo, name)
    target = _commit_of(repo, ref)
    if target is None:
        raise CrvsError(f"'{ref}' is not a commit in {repo}.", "Unknown commit")
    existing = tag_commit(repo, name)
    if existing is not None:
        if existing == target:
            return existing  # already there: nothing to do, nothing moved
        raise TagExists(
            f"Tag {name} already points to {existing[:12]}, not {target[:12]}. "
            "crvs-migrate never moves a tag: choose another name (for example "
            f"{name}-1) or delete the old tag yourself if you are sure."
        )
    r = git(
        repo,
        "tag",
        "-a",
        "-m",
        message or f"OpenCRVS country config {name}",
        "--",
        name,
        target,
        journal=journal,
        step="tag",
    )
    if r.exit_code != 0:
        raise GitFailed(r.stderr.strip() or f"git tag exited {r.exit_code}")
    return target


def record_tag(session: Session, name: str, commit: str) -> None:
    ReleaseRecord.of(session).tag = TagRecord(name, commit, now_iso())
    _work_began(session)


def push_tag_argv(remote: str, name: str) -> list[str]:
    """The push command shown to the operator: one tag, never --force, never --tags."""
    if remote.startswith("-") or not remote:
        raise InvalidName(f"'{remote}' is not a remote name.")
    return ["git", "push", remote, f"refs/tags/{name}"]


def push_tag(repo: Path, remote: str, name: str, journal: Journal, *, confirmed: bool) -> GitResult:
    """Push the tag; only after the operator confirmed this very command."""
    if not confirmed:
        raise CrvsError("Pushing the tag needs your confirmation first.", "Not confirmed")
    argv = push_tag_argv(remote, validate_tag(repo, name))
    r = git(repo, *argv[1:], journal=journal, step="push_tag", timeout=300)
    if r.exit_code != 0:
        raise GitFailed(r.stderr.strip() or f"git push exited {r.exit_code}")
    return r


# -- build and publish ------------------------------------------------------


@dataclass(frozen=True)
class PublishWorkflow:
    found: bool
    inputs: tuple[str, ...]
    # Logins hard-coded as approvers in the workflow (a fork must edit them).
    approvers: tuple[str, ...]

    def pitfalls(self) -> list[str]:
        out = []
        if self.approvers:
            out.append(
                "publish-release.yml hard-codes its approvers ("
                + ", ".join(self.approvers)
                + "): in your fork, replace them with your own GitHub users or the run waits forever."
            )
        elif not self.found:
            out.append(
                "publish-release.yml not found: upstream's workflow hard-codes its approvers; "
                "check them in your fork before running it."
            )
        return out


def read_publish_workflow(config_path: Path) -> PublishWorkflow:
    """The workflow's dispatch inputs and hard-coded approvers, read as text (no YAML dependency)."""
    path = Path(config_path) / PUBLISH_WORKFLOW
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return PublishWorkflow(False, ("branch_name", "release_version"), ())
    inputs = tuple(
        m.group(1)
        for m in re.finditer(r"^\s{4,8}([a-z_]+):\s*$", text, re.M)
        if m.group(1) in ("branch_name", "release_version")
    )
    approvers: list[str] = []
    for m in re.finditer(r"^\s*approvers:\s*(.+)$", text, re.M):
        for login in re.split(r"[,\s]+", m.group(1).strip().strip("'\"")):
            if login and "$" not in login and "{" not in login:
                approvers.append(login)
    return PublishWorkflow(True, inputs or ("branch_name", "release_version"), tuple(approvers))


def publish_inputs(branch_name: str, tag: str) -> dict[str, str]:
    """What to type into the workflow's ``Run workflow`` form."""
    return {"branch_name": branch_name, "release_version": tag.removeprefix("v")}


def record_image_tag(session: Session, image_tag: str, how: str = "operator") -> None:
    image_tag = validate_image_tag(image_tag)
    ReleaseRecord.of(session).image = ImageRecord(image_tag, now_iso(), how)
    _work_began(session)


def release_missing(session: Session) -> list[str]:
    """What the Release phase still lacks before it can be marked done."""
    r = ReleaseRecord.of(session)
    missing = []
    if r.merge is None:
        missing.append("the upgrade branch is not known to be merged into the release branch")
    if r.tag is None:
        missing.append("no release tag created")
    elif not r.tag.pushed_at:
        missing.append("the tag is not pushed")
    if r.image is None:
        missing.append("the published image tag is not recorded")
    if r.env_check is None:
        missing.append("the deploy environment variables are not checked")
    elif not r.env_check.ok:
        missing.append("the env file misses or has invalid deploy variables")
    from tasks.upgrade.manual import manual_missing

    missing += [f"not confirmed yet (by hand): {s.title}" for s in manual_missing(session, PHASE)]
    return missing


def record_tag_pushed(session: Session, remote: str) -> None:
    tag = ReleaseRecord.of(session).tag
    if tag is None:
        raise CrvsError("Create the tag before pushing it.", "No tag yet")
    tag.pushed_at = now_iso()
    tag.remote = remote
    _work_began(session)


def mark_release_done(session: Session) -> None:
    missing = release_missing(session)
    if missing:
        raise CrvsError("Still missing:\n- " + "\n- ".join(missing), "Release not complete")
    session.phase(PHASE).finish()


def record_env_check(session: Session, check: EnvCheck) -> None:
    ReleaseRecord.of(session).env_check = check.to_record()
    _work_began(session)
