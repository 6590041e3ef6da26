"""Phase 3 · Update opencrvs-core: fetch the release tag, then check it out (an
un-customised core) or merge it into your branch (a customised one), yarn --force.

Never master: the notes' "checkout master, pull" meant 1.3 in 2023 (see
``tasks.local.upgrade_steps``). The phase is done once core's package.json says the target.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from screens.step_phase import StepPhaseScreen
from tasks.errors import CrvsError
from tasks.local.checkout import resolve_commit_sync, target_version
from tasks.local.steps import Step
from tasks.local.upgrade_steps import (
    CORE_PHASE,
    OutsideWork,
    core_outside_work,
    core_path,
    core_steps,
    version_problem,
)


class UpdateCoreScreen(StepPhaseScreen):
    VIEW_ID = CORE_PHASE

    def __init__(self, view_id: str | None = None, **kwargs) -> None:
        super().__init__(view_id, **kwargs)
        self.version: str | None = None
        self.version_error: CrvsError | None = None
        self.tag_present = False
        self.head_at_tag = False

    def repo_path(self) -> Path | None:
        return core_path(self.session)

    def build_steps(self, path: Path) -> list[Step]:
        yarn = self.tools.yarn if self.tools is not None else ("yarn",)
        try:
            self.version, self.version_error = target_version(self.session), None
        except CrvsError as exc:
            self.version, self.version_error = None, exc
        return core_steps(path, self.version or "1.3.x", yarn)

    async def phase_checks(self, path: Path) -> None:
        import asyncio

        if self.version:
            commit = await asyncio.to_thread(resolve_commit_sync, path, f"v{self.version}")
            head = await asyncio.to_thread(resolve_commit_sync, path, "HEAD")
            self.tag_present = commit is not None
            self.head_at_tag = commit is not None and commit == head

    def detached_expected(self) -> bool:
        return self.head_at_tag

    def outside_work(self, path: Path) -> list[OutsideWork]:
        if self.repo is None or not self.version:
            return []
        return core_outside_work(path, self.version, self.repo)

    def check_lines(self) -> Text:
        text = Text()
        if self.version_error is not None:
            text.append(f"✗ {self.version_error.message}\n", style="bold red")
        elif self.version:
            tag = f"v{self.version}"
            if self.head_at_tag:
                text.append(f"✓ HEAD is at the release tag {tag}\n")
            elif self.tag_present:
                text.append(f"✓ the release tag {tag} is in this checkout\n")
            else:
                text.append(f"○ {tag} is not here yet: the fetch step brings it\n")
        return text

    def done_blocker(self) -> str | None:
        path = self.repo_path()
        if path is None or not self.version:
            return "No target version."
        return version_problem(path, self.version, "opencrvs-core")

    async def prepare_step(self, step: Step) -> Step | None:
        if self.version_error is not None:
            raise self.version_error
        return step

    def missing_path_hint(self) -> str:
        return (
            "No opencrvs-core path yet: answer “Where is your opencrvs-core checkout?” "
            "in Prepare (phase 1)."
        )


SCREEN = UpdateCoreScreen
