"""Phase 2, Plan: like ``terraform plan``, what applies to this installation and why.

Blockers and warnings first, then what changed since the last plan, then every
phase and step in order; those that do not apply say why. Glyphs and words
carry every status (no colour needed). The plan is rebuilt from the answers
each time this screen is shown (``tasks.plan.update_plan``), saved in the
session, and drives the sidebar.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from screens.base import PhaseScreen
from tasks.phases import PhaseStatus
from tasks.plan import (
    Applicability,
    Plan,
    PlanChange,
    accept_plan,
    plan_accepted,
    plan_changes,
    update_plan,
)
from tasks.state import now_iso

_PHASE_WORD = {
    Applicability.APPLIES: "applies",
    Applicability.SKIPPED: "SKIPPED",
    Applicability.BLOCKED: "BLOCKED",
}
_PHASE_STYLE = {
    Applicability.APPLIES: "bold",
    Applicability.SKIPPED: "dim",
    Applicability.BLOCKED: "bold red",
}


def render_plan(plan: Plan, changes: list[PlanChange], accepted: bool) -> Text:
    """The plan as plain text with styles (the styles are a second channel only)."""
    t = Text()
    versions = f"{plan.current or '?'} → {plan.target or '?'}"
    t.append(f"Upgrade {versions}\n", style="bold")
    t.append(plan.summary + "\n")
    if accepted:
        t.append("✓ Plan accepted.\n", style="green")
    else:
        t.append("○ Not accepted yet: review it, then press a (Accept plan).\n", style="italic")

    t.append(f"\nBlockers ({len(plan.blockers)})\n", style="bold underline")
    if not plan.blockers:
        t.append("  none\n", style="dim")
    for f in plan.blockers:
        t.append("  ✗ BLOCKER ", style="bold red")
        t.append(f.message + "\n")
    t.append(f"\nWarnings ({len(plan.warnings)})\n", style="bold underline")
    if not plan.warnings:
        t.append("  none\n", style="dim")
    for f in plan.warnings:
        t.append("  ! WARNING ", style="bold yellow")
        t.append(f.message + "\n")

    t.append("\nChanged since the last plan\n", style="bold underline")
    if not changes:
        t.append("  nothing\n", style="dim")
    for c in changes:
        t.append(f"  {c.sign} ", style="bold")
        t.append(c.text + "\n")

    t.append("\nPhases and steps\n", style="bold underline")
    for phase in plan.phases:
        style = _PHASE_STYLE[phase.status]
        t.append(f"{phase.status.glyph} {phase.number} {phase.title}", style=style)
        word = _PHASE_WORD[phase.status]
        if phase.optional:
            word = "applies (optional)"
        t.append(f"  [{word}]", style=style)
        t.append("\n")
        if phase.status is not Applicability.APPLIES:
            t.append(f"    {phase.reason}\n", style="italic")
            continue
        for step in phase.steps:
            if step.applies:
                t.append("    + ")
                t.append(step.title)
                if step.manual:
                    t.append(" (by hand)", style="dim")
                t.append("\n")
                if step.reason:
                    t.append(f"      why: {step.reason}\n", style="dim")
            else:
                t.append("    - ", style="dim")
                t.append(f"{step.title} [not applicable]\n", style="dim strike")
                t.append(f"      {step.reason}\n", style="dim italic")
    t.append("\nKey: + applies  - not applicable  » skipped  ✗ blocked\n", style="dim")
    return t


class PlanScreen(PhaseScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept plan"),
        Binding("p", "prepare", "Back to Prepare"),
    ]

    def __init__(self, view_id: str | None = None) -> None:
        super().__init__(view_id or "plan")

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="content", classes="plan-view"):
            yield Static(id="plan-text")
        with Horizontal(id="plan-actions"):
            yield Button("Accept plan (a)", id="accept", variant="primary")
            yield Button("Back to Prepare (p)", id="back")

    def refresh_from_session(self) -> None:
        # Shown again: the answers may have changed, so the plan may have too.
        plan, changed = update_plan(self.session)
        if changed:
            self.save_session()
        super().refresh_from_session()
        self.query_one("#plan-text", Static).update(
            render_plan(plan, plan_changes(self.session), plan_accepted(self.session))
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#content").focus()

    @on(Button.Pressed, "#accept")
    def accept_pressed(self) -> None:
        self.action_accept()

    @on(Button.Pressed, "#back")
    def back_pressed(self) -> None:
        self.action_prepare()

    def action_prepare(self) -> None:
        self.app.action_navigate("prepare")  # type: ignore[attr-defined]

    def action_accept(self) -> None:
        if self.session.phase("prepare").status is not PhaseStatus.DONE:
            self.notify(
                "Finish Prepare first: this plan rests on answers that are not all in.",
                severity="warning",
            )
            return
        accept_plan(self.session, now_iso())
        self.save_session()
        self.refresh_from_session()
        self.notify("Plan accepted.")


SCREEN = PlanScreen
