"""Small pieces shared by the Release, Deploy, gate and Report screens (display only).

Confirmations use ``screens.modals.confirm.ConfirmModal`` (the safe button has the focus).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.css.query import NoMatches
from textual.widgets import Static

from screens.base import PhaseScreen

if TYPE_CHECKING:
    from tasks.release.gate import Gate
    from tasks.session.state import Session


def command_text(argv: list[str], cwd: str | Path | None = None) -> Text:
    """A command as the operator would type it; never markup."""
    text = Text()
    if cwd:
        text.append(f"in {cwd}\n", style="dim")
    text.append("$ ", style="dim")
    text.append(shlex.join(argv), style="bold")
    return text


def gate_text(gate: Gate) -> Text:
    """The gate as a checklist: glyphs carry the state, colour is a second channel."""
    text = Text()
    if gate.open:
        text.append("✓ OPEN: production may be deployed\n", style="bold green")
    else:
        text.append(
            "🔒 LOCKED: production cannot be deployed until every line holds\n", style="bold red"
        )
    for c in gate.conditions:
        if c.met:
            text.append("  ✓ ", style="green")
            text.append(c.title)
            if c.how:
                text.append(f" ({c.how})", style="italic" if "outside" in c.how else "dim")
            text.append("\n")
        else:
            text.append("  ✗ ", style="bold red")
            text.append(c.title, style="bold")
            text.append(f": {c.missing}\n")
    text.rstrip()
    return text


def config_path(session: Session) -> Path:
    """The country config checkout, as answered in Prepare; an error when not answered."""
    from tasks.errors import CrvsError
    from tasks.local.upgrade_steps import config_path as answered

    path = answered(session)
    if path is None:
        raise CrvsError("Give the country config path in Prepare first.", "No country config")
    return path


def target_version(session: Session) -> str:
    from tasks.upgrade.answers import Answers
    from tasks.upgrade.catalogue import latest_version

    return Answers.of(session).target_version.strip() or latest_version()


def plan_text(session: Session, phase_id: str) -> Text:
    """What the plan says about this phase: its steps that apply (and why), briefly."""
    from tasks.upgrade.plan import Applicability, load_plan

    plan = load_plan(session)
    text = Text()
    if plan is None:
        text.append("No plan yet: make one in Plan to see what applies here.", style="dim")
        return text
    phase = plan.phase(phase_id)
    if phase.status is not Applicability.APPLIES:
        text.append(
            f"{phase.status.glyph} The plan {phase.status.value} this phase: ", style="bold"
        )
        text.append(phase.reason)
        return text
    text.append("From the plan:\n", style="bold")
    for step in phase.steps:
        if step.applies:
            text.append("  + ", style="green")
            text.append(step.title)
            if step.manual:
                text.append(" (by hand)", style="italic")
            if step.reason:
                text.append(f": {step.reason}", style="dim")
            text.append("\n")
    if phase.optional:
        text.append(
            "  This phase is recommended, not mandatory, for this installation.\n", style="italic"
        )
    text.rstrip()
    return text


class ReleasePhaseScreen(PhaseScreen):
    """A phase screen whose body is refreshed from the session once its widgets exist.

    Nested containers may still be mounting when the screen's Mount or ScreenResume
    arrives (switching to a mode for the first time): try again after the next refresh.
    """

    DEFAULT_CSS = """
    ReleasePhaseScreen .gate-step, ReleasePhaseScreen .release-step {
        text-style: bold;
        margin-top: 1;
        padding: 0 1;
        border-top: hkey $primary-darken-2;
    }
    ReleasePhaseScreen .gate-fields, ReleasePhaseScreen .release-fields,
    ReleasePhaseScreen .gate-buttons, ReleasePhaseScreen .release-buttons {
        height: auto;
    }
    ReleasePhaseScreen .gate-fields Input, ReleasePhaseScreen .release-fields Input {
        width: 1fr;
    }
    ReleasePhaseScreen .gate-buttons Button, ReleasePhaseScreen .release-buttons Button {
        margin-right: 1;
    }
    /* A field in a row of buttons takes the room left, so the buttons after it stay on screen. */
    ReleasePhaseScreen .release-buttons Input, ReleasePhaseScreen .gate-buttons Input {
        width: 1fr;
    }
    ReleasePhaseScreen .command {
        padding: 0 1;
        margin: 0 0 1 0;
        background: $boost;
    }
    ReleasePhaseScreen #gate-panel, ReleasePhaseScreen #gate-lock {
        padding: 0 1;
        border: heavy $error;
        height: auto;
    }
    ReleasePhaseScreen #gate-panel.-open, ReleasePhaseScreen #gate-lock.-open {
        border: heavy $success;
    }
    ReleasePhaseScreen #clear-warning {
        color: $text-error;
        background: $error 15%;
        text-style: bold;
        padding: 0 1;
        display: none;
    }
    ReleasePhaseScreen #clear-typed {
        display: none;
    }
    ReleasePhaseScreen #clear-warning.-shown, ReleasePhaseScreen #clear-typed.-shown {
        display: block;
    }
    ReleasePhaseScreen #deploy-pane {
        height: 14;
    }
    ReleasePhaseScreen #backup-pane, ReleasePhaseScreen #restore-pane,
    ReleasePhaseScreen #rollback-pane {
        height: 12;
    }
    ReleasePhaseScreen #report-paths, ReleasePhaseScreen #env-result,
    ReleasePhaseScreen #verify-result, ReleasePhaseScreen #stack-progress,
    ReleasePhaseScreen #backup-result, ReleasePhaseScreen #restore-result,
    ReleasePhaseScreen #qa-health-result, ReleasePhaseScreen #checks-result,
    ReleasePhaseScreen #rollback-status, ReleasePhaseScreen .done-line {
        padding: 0 1;
        height: auto;
    }
    """

    _refresh_tries = 0

    def refresh_from_session(self) -> None:
        try:
            super().refresh_from_session()
            for box in self.query("#plan-box").results(Static):
                box.update(plan_text(self.session, self.view_id))
            self.refresh_body()
        except NoMatches:
            if self._refresh_tries < 50:
                self._refresh_tries += 1
                self.call_after_refresh(self.refresh_from_session)
            return
        self._refresh_tries = 0

    def refresh_body(self) -> None:
        """Show the session in this screen's own widgets."""
