"""The upgrade's phases, in the order of the migration notes, and their statuses."""

from __future__ import annotations

from enum import StrEnum

from tasks.lean import dataclass


class PhaseStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def glyph(self) -> str:
        # Glyphs carry the status on their own: colour is only a second channel
        # (16-colour terminals, NO_COLOR, colour-blind operators).
        return _GLYPHS[self]


_GLYPHS = {
    PhaseStatus.NOT_STARTED: "○",
    PhaseStatus.IN_PROGRESS: "◐",
    PhaseStatus.DONE: "✓",
    PhaseStatus.SKIPPED: "»",
    PhaseStatus.BLOCKED: "✗",
}


class StepStatus(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # It was running when crvs-migrate stopped (crash, killed terminal): its end is unknown.
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def glyph(self) -> str:
        return _STEP_GLYPHS[self]


_STEP_GLYPHS = {
    StepStatus.NOT_STARTED: "○",
    StepStatus.RUNNING: "◐",
    StepStatus.SUCCEEDED: "✓",
    StepStatus.FAILED: "✗",
    StepStatus.CANCELLED: "■",
    StepStatus.INTERRUPTED: "!",
    StepStatus.SKIPPED: "»",
}


@dataclass(frozen=True)
class Phase:
    id: str
    number: int
    title: str
    # Fits a narrow sidebar (80-column terminals).
    short: str
    summary: str
    # The section of the migration notes this phase walks through, as the heading says it
    # (never a bare "Step 1" under "Phase 2": the notes' steps are not the phases).
    source: str


PHASES: tuple[Phase, ...] = (
    Phase(
        "prepare",
        1,
        "Prepare",
        "Prepare",
        "Answer the preparation questions: versions, customisations, integrations, servers.",
        "migration notes 1, Prepare to migrate",
    ),
    Phase(
        "plan",
        2,
        "Plan",
        "Plan",
        "See what applies to this installation, what does not, and why.",
        "made from your answers to notes 1",
    ),
    Phase(
        "update_core",
        3,
        "Update opencrvs-core",
        "Update core",
        "Fetch the release tag, check it out (or merge it into your core), yarn --force.",
        "migration notes 2.1",
    ),
    Phase(
        "merge_config",
        4,
        "Merge the country config",
        "Merge config",
        "git fetch --all, the upgrade branch, merge upstream's release (never master), "
        "yarn --force, resolve conflicts.",
        "migration notes 2.2-2.7",
    ),
    Phase(
        "verify_local",
        5,
        "Verify locally",
        "Verify locally",
        "Start OpenCRVS locally; migrations run automatically.",
        "migration notes 2.8",
    ),
    Phase(
        "release",
        6,
        "Release",
        "Release",
        "Merge the PR, tag, build and publish the image, check the new environment variables.",
        "migration notes 2.9-2.11",
    ),
    Phase(
        "deploy_qa",
        7,
        "Deploy to QA",
        "Deploy to QA",
        "Deploy the new version tag to the QA server and check it came up.",
        "migration notes 2.12",
    ),
    Phase(
        "backup_production",
        8,
        "Back up production",
        "Back up prod",
        "Emergency backup, stored off the server, restored on QA: the gate before production.",
        "migration notes 3, the warnings",
    ),
    Phase(
        "deploy_production",
        9,
        "Deploy to production",
        "Deploy prod",
        "Deploy the new version tag to production with --clear_data=no.",
        "migration notes 3.1",
    ),
)

PHASE_IDS: tuple[str, ...] = tuple(p.id for p in PHASES)
PHASES_BY_ID: dict[str, Phase] = {p.id: p for p in PHASES}


@dataclass(frozen=True)
class View:
    """A view reachable from anywhere that is not a phase of the upgrade."""

    id: str
    title: str
    summary: str


VIEWS: tuple[View, ...] = (
    View("health", "Cluster health", "Disk, memory and swarm state of every node over SSH."),
    View("report", "Report", "The whole session as a change-management record."),
)
VIEWS_BY_ID: dict[str, View] = {v.id: v for v in VIEWS}


def phase(phase_id: str) -> Phase:
    return PHASES_BY_ID[phase_id]
