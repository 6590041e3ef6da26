"""Step 2 of the migration notes as steps: update opencrvs-core, merge the country config.

Which commands run, in which order, in which directory, and what must hold before
each may run. The screens show these steps and run them through ``tasks.local.steps``.
Step ids are the plan's (``tasks.upgrade.plan``): ``update_core`` has ``fetch``,
``checkout_master``, ``pull``, ``merge_core_fork``, ``yarn_install``; ``merge_config`` has
``fetch_all``, ``upgrade_branch``, ``merge_upstream``, ``yarn_install`` (and the by-hand
``resolve_conflicts``, ``certificate_templates``).

The notes say "checkout master, pull" and "merge countryconfig/master": in 2023 master
was the 1.3 release; today upstream master is far past 1.3. So no step takes master:

- core: ``git fetch --all --tags`` (core's 1.3 releases are tags only, and v1.3.5 is on no
  branch), then an un-customised core is checked out at the tag ``v<target>`` with a
  detached HEAD (it carries no commits of its own, so no branch is needed; a tag never
  moves, re-running is harmless, and ``git status`` says "HEAD detached at v1.3.5"); a
  customised core gets ``v<target>`` merged into the operator's branch. ``git pull`` never
  applies (a release tag does not move);
- country config: ``git fetch --all --tags``, the upgrade branch, then the release merged:
  ``v<target>`` or upstream's ``release-v<target>``, in the catalogue's order of preference
  (``Release.refs``: the tag v1.3.4 is a Farajaland commit carrying OpenCRVS staff SSH
  keys, the branch release-v1.3.4 is the clean country config).

Work done in the operator's own shell counts (``outside_work``): a HEAD that already
contains the release is merged, whoever merged it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tasks.lean import dataclass
from tasks.local.checkout import (
    ConflictReport,
    RepoState,
    contains_sync,
    resolve_commit_sync,
    upgrade_branch,
)
from tasks.local.steps import Step, record
from tasks.session.phases import StepStatus
from tasks.upgrade.answers import Answers
from tasks.upgrade.catalogue import bundled_catalogue
from tasks.upgrade.detect import find_release_ref, read_package_version

if TYPE_CHECKING:
    from tasks.session.state import Session

CORE_PHASE = "update_core"
CONFIG_PHASE = "merge_config"
DEFAULT_YARN = ("yarn",)
# git's own advice on a detached HEAD is long; the step says why it is detached.
FETCH_ARGV = ("git", "fetch", "--all", "--tags")
# Steps whose outcome git cannot show afterwards: the operator may record them done by
# hand (with a reason) after fixing a failure outside the app.
BY_HAND_ALLOWED = ("yarn_install",)


def core_path(session: Session) -> Path | None:
    """The opencrvs-core checkout, as answered in Prepare."""
    answer = Answers.of(session).core_path.strip()
    return Path(answer).expanduser().absolute() if answer else None


def config_path(session: Session) -> Path | None:
    """The country config checkout (the fork), as answered in Prepare."""
    answer = Answers.of(session).config_path.strip()
    return Path(answer).expanduser().absolute() if answer else None


def core_steps(path: Path, target: str, yarn: tuple[str, ...] = DEFAULT_YARN) -> list[Step]:
    """Step 2.1 with the release instead of master (which apply: the plan says)."""
    tag = f"v{target}"
    return [
        Step(
            "fetch",
            f"Fetch the release tag {tag}",
            FETCH_ARGV,
            path,
            ("git",),
            why=f"--tags: core's releases are tags, and {tag} is on no branch of opencrvs-core.",
        ),
        Step(
            "checkout_master",
            f"Check out {tag}",
            ("git", "-c", "advice.detachedHead=false", "checkout", "--detach", tag),
            path,
            ("git", "clean", "release"),
            why="The notes' `git checkout master` meant 1.3 in 2023. An un-customised core "
            "is moved to the tag itself (detached HEAD: it has no commits of its own). "
            "Never over local changes.",
        ),
        Step(
            "pull",
            "git pull",
            ("git", "pull", "--ff-only"),
            path,
            ("git", "clean"),
            why="Never applies now: a release tag does not move.",
        ),
        Step(
            "merge_core_fork",
            f"Merge {tag} into your core branch",
            ("git", "merge", "--no-edit", tag),
            path,
            ("git", "clean", "release", "branch"),
            why="Your customisations stay; the release comes in. Never master.",
        ),
        Step("yarn_install", "Install dependencies", (*yarn, "--force"), path, ("yarn",)),
    ]


@dataclass(frozen=True)
class ReleaseRef:
    """What the country config's merge takes: upstream's release, by the name git knows."""

    name: str
    # Whether the checkout has it (after `git fetch --all --tags` it should).
    found: bool
    # Every name tried, best first (for the message when none is there).
    tried: tuple[str, ...]


def short_ref(full: str) -> str:
    for prefix in ("refs/tags/", "refs/remotes/", "refs/heads/"):
        if full.startswith(prefix):
            return full[len(prefix) :]
    return full


def release_ref(path: Path, target: str, remote: str | None) -> ReleaseRef:
    """Upstream's ``target`` release in the checkout at ``path`` (``remote``: the upstream)."""
    release = bundled_catalogue().by_version.get(target)
    names = release.refs if release is not None else (f"v{target}", f"release-v{target}")
    tried = tuple(n if n.startswith("v") or not remote else f"{remote}/{n}" for n in names)
    if path.is_dir():
        full = find_release_ref(path, release) if release is not None else None
        if full is None and remote:
            # An upstream found by its URL may be any remote, origin included.
            for name in names:
                if resolve_commit_sync(path, f"refs/remotes/{remote}/{name}"):
                    full = f"refs/remotes/{remote}/{name}"
                    break
        if full is not None:
            return ReleaseRef(short_ref(full), True, tried)
    return ReleaseRef(tried[0], False, tried)


def config_steps(
    path: Path,
    version: str,
    merge_ref: str,
    yarn: tuple[str, ...] = DEFAULT_YARN,
) -> list[Step]:
    """Steps 2.5-2.7: fetch --all, create the upgrade branch, merge the release, yarn."""
    branch = upgrade_branch(version)
    return [
        Step(
            "fetch_all",
            "Fetch all remotes",
            FETCH_ARGV,
            path,
            ("git", "remote"),
            why="--tags: some releases are only tags upstream.",
        ),
        Step(
            "upgrade_branch",
            "Create the upgrade branch",
            ("git", "checkout", "-b", branch),
            path,
            ("git", "clean"),
            why="An existing branch is never recreated: you are offered to switch to it.",
        ),
        Step(
            "merge_upstream",
            f"Merge {merge_ref}",
            # --no-edit: the merge message never opens an editor.
            ("git", "merge", "--no-edit", merge_ref),
            path,
            ("git", "clean", "remote", "release"),
            why=f"The release itself, never upstream master (far past 1.3 today); "
            f"afterwards package.json must say {version}.",
        ),
        Step("yarn_install", "Install dependencies", (*yarn, "--force"), path, ("yarn",)),
    ]


def step_target(step: Step) -> str | None:
    """The revision a step brings into the working tree (for untracked-file clashes)."""
    if step.id in ("checkout_master", "merge_core_fork", "merge_upstream"):
        return step.argv[-1]
    if step.id == "pull":
        return "@{u}"
    return None


def blockers(step: Step, repo: RepoState, *, upgrade_branch_name: str | None = None) -> list[str]:
    """Why ``step`` must not run on ``repo`` as it stands (other than a dirty tree)."""
    problems: list[str] = []
    if repo.merge_in_progress and step.id != "yarn_install":
        problems.append("A merge is in progress: resolve it or abort it first.")
    if step.id == "pull":
        problems.append("git pull does not apply: the release is a tag, and tags do not move.")
    target = step_target(step)
    if "release" in step.needs and target and not resolve_commit_sync(repo.path, target):
        problems.append(
            f"{target} is not in this checkout yet: run the fetch step first "
            f"(`{' '.join(FETCH_ARGV)}`)."
        )
    if "branch" in step.needs and repo.detached:
        problems.append(
            f"You are on a detached HEAD ({repo.head}): check out your own core branch first "
            "(the release is merged into it)."
        )
    if step.id == "merge_upstream" and upgrade_branch_name and repo.branch != upgrade_branch_name:
        where = repo.branch or f"a detached HEAD ({repo.head})"
        problems.append(
            f"You are on {where}: merge only on {upgrade_branch_name} (run the branch step first)."
        )
    return problems


# -- what the checkout already shows ---------------------------------------------------


@dataclass(frozen=True)
class OutsideWork:
    """A step the checkout shows as done although crvs-migrate did not run it."""

    step_id: str
    evidence: str


def core_outside_work(path: Path, target: str, repo: RepoState) -> list[OutsideWork]:
    """Core steps the checkout shows done: HEAD at the tag, or containing it."""
    tag = f"v{target}"
    tag_commit = resolve_commit_sync(path, tag)
    if tag_commit is None or repo.merge_in_progress:
        return []
    found = [OutsideWork("fetch", f"{tag} is in the checkout")]
    head = resolve_commit_sync(path, "HEAD")
    if head == tag_commit:
        found.append(OutsideWork("checkout_master", f"HEAD is at {tag}"))
    if contains_sync(path, tag, "HEAD") and not repo.detached:
        found.append(OutsideWork("merge_core_fork", f"your branch {repo.branch} contains {tag}"))
    return found


def config_outside_work(
    path: Path, ref: ReleaseRef, repo: RepoState, branch: str | None
) -> list[OutsideWork]:
    """Country config steps the checkout shows done: HEAD containing the release."""
    if not ref.found or repo.merge_in_progress or not contains_sync(path, ref.name, "HEAD"):
        return []
    found = [OutsideWork("fetch_all", f"{ref.name} is in the checkout")]
    if branch and repo.branch == branch:
        found.append(OutsideWork("upgrade_branch", f"on {branch}"))
    found.append(OutsideWork("merge_upstream", f"HEAD contains {ref.name}"))
    return found


def version_problem(path: Path, target: str, what: str) -> str | None:
    """Why ``path``'s package.json does not show the target release, or None."""
    found = read_package_version(path)
    if found == target:
        return None
    said = f"says {found}" if found else "has no version"
    return f"{what}'s package.json {said}, not {target}: the release is not in this checkout yet."


def merge_blocker(session: Session, report: ConflictReport | None) -> str | None:
    """Why the merge phase cannot be done, or None."""
    if report is None:
        return "The repository has not been checked for conflicts yet."
    blocking = report.blocking
    if blocking:
        return blocking
    if record(session, CONFIG_PHASE, "merge_upstream").status is not StepStatus.SUCCEEDED:
        return "The merge has not been done yet."
    return None
