"""Checks on the operator's git repositories before any step touches them (GitPython).

Nothing here changes a repository: it reads. Commands that change something
(stash, add remote, switch branch, merge --abort) are returned as argv lists and
run through ``tasks.local.process`` like every other step, so they are shown, streamed
and journaled; each needs the operator's explicit confirmation first.
GitPython is imported inside the functions that use it (start-up stays fast).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.errors import CrvsError, InvalidName
from tasks.lean import dataclass, regex
from tasks.local.process import capture
from tasks.names import remote_name_problem
from tasks.upgrade.catalogue import bundled_catalogue, latest_version

if TYPE_CHECKING:
    from tasks.session.state import Session

# The migration notes say `countryconfig`; the v1.3 fork guide says `farajaland`; many
# forks call it `upstream`. Any remote whose URL is one of OpenCRVS's own country config
# repositories counts too (whatever the operator named it).
UPSTREAM_REMOTES = ("countryconfig", "farajaland", "upstream")
DEFAULT_UPSTREAM_REMOTE = "countryconfig"
_UPSTREAM_URL = regex(
    r"(?:^|[/:])opencrvs/opencrvs-(?:countryconfig|farajaland)(?:\.git)?/*$", re.IGNORECASE
)
BRANCH_PREFIX = "upgrade-countryconfig-v"
_VERSION = regex(r"^1\.3\.\d{1,3}$")
_CONFLICT_START = re.compile(rb"^<<<<<<<(?: |$)", re.MULTILINE)
_CONFLICT_ANY = re.compile(rb"^(?:<<<<<<<|>>>>>>>)(?: |$)|^=======$", re.MULTILINE)


class NotARepository(CrvsError):
    title = "Not a git repository"


@dataclass
class RepoState:
    path: Path
    branch: str | None  # None when HEAD is detached
    head: str  # short commit id
    tracking: str | None = None
    ahead: int | None = None
    behind: int | None = None
    # Tracked files with changes (staged or not), as `git status` names them.
    changed: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    # Untracked files that the target of a checkout/pull/merge would overwrite.
    overwritten: list[str] = field(default_factory=list)
    remotes: list[str] = field(default_factory=list)
    # Each remote's fetch URL, by name.
    remote_urls: dict[str, str] = field(default_factory=dict)
    branches: list[str] = field(default_factory=list)
    merge_in_progress: bool = False
    # During a merge: the files the merge itself staged or left unresolved (the merge's
    # result, not local changes).
    merge_changes: list[str] = field(default_factory=list)

    @property
    def detached(self) -> bool:
        return self.branch is None

    @property
    def dirty(self) -> bool:
        return bool(self.changed or self.overwritten)

    @property
    def dirty_files(self) -> list[str]:
        return [
            *self.changed,
            *(f"{p} (untracked, would be overwritten)" for p in self.overwritten),
        ]

    @property
    def upstream_remote(self) -> str | None:
        return detect_upstream_remote(self.remote_urls or self.remotes)

    def summary(self) -> str:
        where = f"on branch {self.branch}" if self.branch else f"detached HEAD at {self.head}"
        parts = [where]
        if self.tracking:
            parts.append(f"tracking {self.tracking}: {self.ahead} ahead, {self.behind} behind")
        elif self.branch:
            parts.append("no upstream branch")
        return "; ".join(parts)


def is_upstream_url(url: str) -> bool:
    """An opencrvs-countryconfig or opencrvs-farajaland repository of OpenCRVS itself
    (``https://github.com/opencrvs/opencrvs-countryconfig.git``, ``git@github.com:opencrvs/
    opencrvs-farajaland``); a country's own fork named opencrvs-farajaland is not."""
    return bool(_UPSTREAM_URL.search(url.strip()))


def detect_upstream_remote(remotes: Mapping[str, str] | Iterable[str]) -> str | None:
    """The remote holding upstream's releases: by name (countryconfig, farajaland, upstream),
    else the first whose URL is OpenCRVS's own country config (origin last)."""
    urls = dict(remotes) if isinstance(remotes, Mapping) else {name: "" for name in remotes}
    for name in UPSTREAM_REMOTES:
        if name in urls:
            return name
    by_url = [name for name, url in urls.items() if is_upstream_url(url)]
    by_url.sort(key=lambda name: name == "origin")
    return by_url[0] if by_url else None


def _open(path: Path):  # -> git.Repo
    import git  # GitPython, lazily

    path = Path(path)
    if not path.is_dir():
        raise NotARepository(f"{path} does not exist or is not a directory.")
    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise NotARepository(
            f"{path} is not a git repository. Check the path you gave in Prepare."
        ) from exc
    if repo.bare:
        raise NotARepository(f"{path} is a bare repository: it has no working tree to update.")
    return repo


def _status_porcelain(repo) -> tuple[list[str], list[str]]:
    out = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all")
    changed: list[str] = []
    untracked: list[str] = []
    entries = out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:]
        if code == "??":
            untracked.append(name)
        elif code == "!!":
            continue
        else:
            changed.append(name)
            if code[0] in "RC":  # rename/copy: the next entry is the old name
                i += 1
    return changed, untracked


def inspect_repo_sync(path: Path, target: str | None = None) -> RepoState:
    """Where the repository stands; ``target`` is the revision a checkout/pull/merge brings in."""
    import git

    repo = _open(path)
    try:
        try:
            head = repo.head.commit.hexsha[:10]
        except ValueError:
            head = "(no commits)"
        branch = None if repo.head.is_detached else repo.active_branch.name
        state = RepoState(path=Path(path), branch=branch, head=head)
        state.remotes = [r.name for r in repo.remotes]
        for remote in repo.remotes:
            try:
                state.remote_urls[remote.name] = next(iter(remote.urls), "")
            except (git.GitCommandError, StopIteration):
                state.remote_urls[remote.name] = ""
        state.branches = [h.name for h in repo.heads]
        state.merge_in_progress = (Path(repo.git_dir) / "MERGE_HEAD").exists()
        if branch is not None:
            tracking = repo.active_branch.tracking_branch()
            if tracking is not None and tracking.is_valid():
                state.tracking = tracking.name
                counts = repo.git.rev_list("--left-right", "--count", f"HEAD...{tracking.name}")
                ahead, behind = counts.split()
                state.ahead, state.behind = int(ahead), int(behind)
        state.changed, state.untracked = _status_porcelain(repo)
        if state.merge_in_progress:
            state.merge_changes, state.changed = state.changed, []
        if target and state.untracked:
            try:
                tree = set(repo.git.ls_tree("-r", "--name-only", target).splitlines())
            except git.GitCommandError:
                tree = set()
            state.overwritten = [p for p in state.untracked if p in tree]
        return state
    finally:
        repo.close()


async def inspect_repo(path: Path, target: str | None = None) -> RepoState:
    return await asyncio.to_thread(inspect_repo_sync, Path(path), target)


# -- names ------------------------------------------------------------------


def target_version(session: Session) -> str:
    """The 1.3.x release this upgrade goes to: Prepare's answer, else the latest release."""
    from tasks.upgrade.answers import Answers

    answer = Answers.of(session).target_version.strip().lstrip("v")
    if not answer:
        return latest_version()
    if not _VERSION.match(answer):
        raise InvalidName(
            f"The target version '{answer}' is not a 1.3.x version. Correct it in Prepare."
        )
    known = bundled_catalogue().by_version
    if answer not in known:
        raise InvalidName(
            f"crvs-migrate does not know release {answer} (it knows {', '.join(known)})."
        )
    return answer


def upgrade_branch(version: str) -> str:
    return f"{BRANCH_PREFIX}{version}"


async def check_branch_name(name: str, cwd: Path) -> str:
    """``git check-ref-format --branch``: the one authority on what a branch name may be."""
    if not name or name.startswith("-"):
        raise InvalidName(f"'{name}' is not a valid branch name.")
    code, out = await capture(["git", "check-ref-format", "--branch", name], Path(cwd))
    if code != 0:
        raise InvalidName(f"'{name}' is not a valid branch name: {out.strip()}")
    return out.strip()


def check_remote(name: str, url: str) -> tuple[str, str]:
    """An upstream remote the operator typed: a plain name and a URL we never guess."""
    url = url.strip()
    if remote_name_problem(name):
        raise InvalidName(f"'{name}' is not a usable remote name.")
    if not url or url.startswith("-") or any(c.isspace() for c in url):
        raise InvalidName(
            "Type the URL of the upstream country config repository, for example "
            "https://github.com/opencrvs/opencrvs-countryconfig.git (no spaces)."
        )
    return name, url


# -- commands that change a repository (each run only after a confirmation) ---


def stash_argv(message: str) -> list[str]:
    return ["git", "stash", "push", "--include-untracked", "-m", message]


def add_remote_argv(name: str, url: str) -> list[str]:
    name, url = check_remote(name, url)
    return ["git", "remote", "add", name, url]


def switch_branch_argv(branch: str) -> list[str]:
    return ["git", "checkout", branch]


MERGE_ABORT_ARGV = ["git", "merge", "--abort"]


# -- merge conflicts --------------------------------------------------------


@dataclass(frozen=True)
class ConflictFile:
    path: str
    markers: int  # conflict blocks (<<<<<<< lines) still in the file
    unmerged: bool  # git still lists it as unmerged

    def describe(self) -> str:
        what = []
        if self.unmerged:
            what.append("unmerged")
        if self.markers:
            what.append(f"{self.markers} conflict marker{'s' if self.markers != 1 else ''}")
        return f"{self.path}: {', '.join(what)}"


@dataclass
class ConflictReport:
    merge_in_progress: bool
    files: list[ConflictFile] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.files

    @property
    def blocking(self) -> str | None:
        """Why the phase cannot be done yet, or None."""
        if self.files:
            return f"{len(self.files)} file(s) still have merge conflicts or conflict markers."
        if self.merge_in_progress:
            return "The merge is not concluded yet: commit it (git commit --no-edit)."
        return None


def count_markers(path: Path) -> int:
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    if _CONFLICT_ANY.search(data) is None:
        return 0
    return max(1, len(_CONFLICT_START.findall(data)))


def _is_merge_commit(repo) -> bool:
    try:
        return len(repo.head.commit.parents) > 1
    except ValueError:  # no commits yet
        return False


def scan_conflicts_sync(path: Path, also: list[str] | None = None) -> ConflictReport:
    repo = _open(path)
    try:
        merging = (Path(repo.git_dir) / "MERGE_HEAD").exists()
        unmerged = [
            p for p in repo.git.diff("--name-only", "--diff-filter=U").splitlines() if p.strip()
        ]
        candidates = list(dict.fromkeys([*unmerged, *(also or [])]))
        if merging:
            changed = repo.git.diff("--name-only", "HEAD").splitlines()
            candidates = list(dict.fromkeys([*candidates, *(p for p in changed if p.strip())]))
        elif _is_merge_commit(repo):
            # A merge committed elsewhere (the operator's shell): markers may have been
            # committed with it, so look at every file the merge changed.
            changed = repo.git.diff("--name-only", "HEAD^1", "HEAD").splitlines()
            candidates = list(dict.fromkeys([*candidates, *(p for p in changed if p.strip())]))
        files = []
        for rel in candidates:
            markers = count_markers(Path(path) / rel)
            if rel in unmerged or markers:
                files.append(ConflictFile(rel, markers, rel in unmerged))
        return ConflictReport(merge_in_progress=merging, files=files)
    finally:
        repo.close()


async def scan_conflicts(path: Path, also: list[str] | None = None) -> ConflictReport:
    return await asyncio.to_thread(scan_conflicts_sync, Path(path), also)


def incoming_commits_sync(path: Path, before: str, after: str = "HEAD") -> list[str]:
    """The upstream commits a merge brought in, one line each (merge commits left out)."""
    repo = _open(path)
    try:
        out = repo.git.log(
            "--no-merges", "--format=%h %ad %s", "--date=short", f"{before}..{after}"
        )
        return [line for line in out.splitlines() if line.strip()]
    finally:
        repo.close()


async def incoming_commits(path: Path, before: str, after: str = "HEAD") -> list[str]:
    return await asyncio.to_thread(incoming_commits_sync, Path(path), before, after)


def resolve_commit_sync(path: Path, rev: str) -> str | None:
    """The commit ``rev`` names in the checkout at ``path``, or None (not there)."""
    from tasks.upgrade.detect import git_read

    if not rev or rev.startswith("-"):
        return None
    code, out = git_read(Path(path), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return out.strip() or None if code == 0 else None


def contains_sync(path: Path, ancestor: str, rev: str = "HEAD") -> bool:
    """Whether ``rev`` contains ``ancestor`` (``git merge-base --is-ancestor``)."""
    from tasks.upgrade.detect import git_read

    if not resolve_commit_sync(path, ancestor) or not resolve_commit_sync(path, rev):
        return False
    code, _out = git_read(Path(path), "merge-base", "--is-ancestor", ancestor, rev)
    return code == 0


def merge_of_sync(path: Path, target: str, rev: str = "HEAD") -> str | None:
    """The merge commit on ``rev``'s first-parent line that brought ``target`` in, or None.

    It is the first commit (walking back from ``rev``) that contains ``target`` while its
    first parent does not; whoever made it (crvs-migrate or the operator's shell).
    """
    from tasks.upgrade.detect import git_read

    if not contains_sync(path, target, rev):
        return None
    code, out = git_read(Path(path), "rev-list", "--first-parent", "--max-count=500", rev)
    if code != 0:
        return None
    for commit in out.split():
        parent = resolve_commit_sync(path, f"{commit}^1")
        if parent is None or not contains_sync(path, target, parent):
            code, parents = git_read(Path(path), "rev-list", "--parents", "-n", "1", commit)
            return commit if code == 0 and len(parents.split()) > 2 else None
    return None


def merged_commits_sync(path: Path, merge: str) -> list[str]:
    """The commits merge ``merge`` brought in (counted from its parents), one line each."""
    repo = _open(path)
    try:
        out = repo.git.log(
            "--no-merges", "--format=%h %ad %s", "--date=short", f"{merge}^1..{merge}"
        )
        return [line for line in out.splitlines() if line.strip()]
    finally:
        repo.close()


async def merged_commits(path: Path, target: str) -> list[str] | None:
    """What the merge of ``target`` into HEAD brought in; None when HEAD has no such merge."""

    def work() -> list[str] | None:
        merge = merge_of_sync(Path(path), target)
        return merged_commits_sync(Path(path), merge) if merge else None

    return await asyncio.to_thread(work)


def head_commit_sync(path: Path) -> str:
    repo = _open(path)
    try:
        return repo.head.commit.hexsha
    finally:
        repo.close()


async def head_commit(path: Path) -> str:
    return await asyncio.to_thread(head_commit_sync, Path(path))
