"""Phase 3 · Update opencrvs-core: git fetch, git checkout master, git pull, yarn --force."""

from __future__ import annotations

from pathlib import Path

from screens.step_phase import StepPhaseScreen
from tasks.local.steps import Step
from tasks.local.upgrade_steps import CORE_PHASE, core_path, core_steps


class UpdateCoreScreen(StepPhaseScreen):
    VIEW_ID = CORE_PHASE

    def repo_path(self) -> Path | None:
        return core_path(self.session)

    def build_steps(self, path: Path) -> list[Step]:
        yarn = self.tools.yarn if self.tools is not None else ("yarn",)
        return core_steps(path, yarn)

    def missing_path_hint(self) -> str:
        return (
            "No opencrvs-core path yet: answer “Where is your opencrvs-core checkout?” "
            "in Prepare (phase 1)."
        )


SCREEN = UpdateCoreScreen
