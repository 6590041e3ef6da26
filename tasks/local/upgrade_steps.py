"""Step 2 of the migration notes as steps: update opencrvs-core, merge the country config.

Which commands run, in which order, in which directory, and what must hold before
each may run. The screens show these steps and run them through ``tasks.local.steps``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tasks.local.checkout import (
    DEFAULT_UPSTREAM_REMOTE,
    ConflictReport,
    RepoState,
    upgrade_branch,
)
from tasks.local.steps import Step, record
from tasks.session.phases import StepStatus
from tasks.session.workspace import Workspace

if TYPE_CHECKING:
    from tasks.session.state import Session

CORE_PHASE = "update_core"
CONFIG_PHASE = "merge_config"
DEFAULT_YARN = ("yarn",)


def core_path(session: Session, workspace: Workspace) -> Path | None:
    """Prepare's answer, else (demo) the sandbox's opencrvs-core checkout.

    A served demo never uses an answer outside its sandbox (Prepare refused it)."""
    answer = session.answers.get("core_path")
    if answer and (path := workspace.allowed(str(answer))) is not None:
        return path
    if workspace.demo is not None:
        return workspace.demo.core_path
    return None


def config_path(session: Session, workspace: Workspace) -> Path | None:
    answer = session.answers.get("config_path")
    if answer and (path := workspace.allowed(str(answer))) is not None:
        return path
    if workspace.demo is not None:
        return workspace.demo.config_path
    return None


def core_steps(path: Path, yarn: tuple[str, ...] = DEFAULT_YARN) -> list[Step]:
    """Step 2.1: fetch, checkout master, pull, yarn --force."""
    return [
        Step("fetch", "Fetch from origin", ("git", "fetch"), path, ("git",)),
        Step(
            "checkout_master",
            "Check out master",
            ("git", "checkout", "master"),
            path,
            ("git", "clean"),
            why="Never over local changes: a dirty tree is refused.",
        ),
        Step(
            "pull",
            "Pull the latest master",
            # Fast-forward only: core's master must never get a local merge commit.
            ("git", "pull", "--ff-only"),
            path,
            ("git", "clean"),
            why="--ff-only: a diverged master is refused instead of merged.",
        ),
        Step("yarn", "Install dependencies", (*yarn, "--force"), path, ("yarn",)),
    ]


def config_steps(
    path: Path,
    version: str,
    remote: str | None,
    yarn: tuple[str, ...] = DEFAULT_YARN,
) -> list[Step]:
    """Steps 2.5-2.7: fetch --all, create the upgrade branch, merge upstream master, yarn."""
    remote = remote or DEFAULT_UPSTREAM_REMOTE
    branch = upgrade_branch(version)
    return [
        Step("fetch_all", "Fetch all remotes", ("git", "fetch", "--all"), path, ("git", "remote")),
        Step(
            "branch",
            "Create the upgrade branch",
            ("git", "checkout", "-b", branch),
            path,
            ("git", "clean"),
            why="An existing branch is never recreated: you are offered to switch to it.",
        ),
        Step(
            "merge",
            f"Merge {remote}/master",
            # --no-edit: the merge message never opens an editor.
            ("git", "merge", "--no-edit", f"{remote}/master"),
            path,
            ("git", "clean", "remote"),
        ),
        Step("yarn", "Install dependencies", (*yarn, "--force"), path, ("yarn",)),
    ]


def step_target(step: Step) -> str | None:
    """The revision a step brings into the working tree (for untracked-file clashes)."""
    if step.id == "checkout_master":
        return "master"
    if step.id == "pull":
        return "@{u}"
    if step.id == "merge":
        return step.argv[-1]
    return None


def blockers(step: Step, repo: RepoState, *, upgrade_branch_name: str | None = None) -> list[str]:
    """Why ``step`` must not run on ``repo`` as it stands (other than a dirty tree)."""
    problems: list[str] = []
    if repo.merge_in_progress and step.id != "yarn":
        problems.append("A merge is in progress: resolve it or abort it first.")
    if step.id == "pull":
        if repo.branch != "master":
            where = repo.branch or f"a detached HEAD ({repo.head})"
            problems.append(f"You are on {where}, not master: run “Check out master” first.")
        elif repo.tracking is None:
            problems.append(
                "master has no upstream branch to pull from (git branch -u origin/master)."
            )
    if step.id == "merge" and upgrade_branch_name and repo.branch != upgrade_branch_name:
        where = repo.branch or f"a detached HEAD ({repo.head})"
        problems.append(
            f"You are on {where}: merge only on {upgrade_branch_name} (run the branch step first)."
        )
    return problems


def merge_blocker(session: Session, report: ConflictReport | None) -> str | None:
    """Why the merge phase cannot be done, or None."""
    if report is None:
        return "The repository has not been checked for conflicts yet."
    blocking = report.blocking
    if blocking:
        return blocking
    if record(session, CONFIG_PHASE, "merge").status is not StepStatus.SUCCEEDED:
        return "The merge has not been done yet."
    return None
