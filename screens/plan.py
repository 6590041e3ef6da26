"""Phase 2, Plan: like ``terraform plan``, what applies to this installation and why.

Blockers and warnings first, then what changed since the last plan, then every
phase and step in order; those that do not apply say why. Glyphs and words
carry every status (no colour needed). The plan is rebuilt from the answers
each time this screen is shown (``tasks.upgrade.plan.update_plan``), saved in the
session, and drives the sidebar.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Console
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Button

from screens.base import PhaseScreen
from tasks.session.phases import PhaseStatus
from tasks.session.state import now_iso
from tasks.upgrade.plan import (
    Applicability,
    Plan,
    PlanChange,
    accept_plan,
    plan_accepted,
    plan_changes,
    update_plan,
)

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


Row = tuple[str, str, Text]


def plan_rows(plan: Plan, changes: list[PlanChange], accepted: bool) -> list[Row]:
    """The plan as rows of (phase mark, step mark, text): marks in narrow columns so
    that wrapped text keeps its indent. Styles are a second channel only."""
    rows: list[Row] = []

    def add(mark: str, sub: str, text: str, style: str = "") -> None:
        rows.append((mark, sub, Text(text, style=style)))

    add("", "", f"Upgrade {plan.current or '?'} → {plan.target or '?'}", "bold")
    add("", "", plan.summary)
    if accepted:
        add("✓", "", "Plan accepted.", "green")
    else:
        add("○", "", "Not accepted yet: review it, then press a (Accept plan).", "italic")

    for title, findings, mark, word, style in (
        ("Blockers", plan.blockers, "✗", "BLOCKER", "bold red"),
        ("Warnings", plan.warnings, "!", "WARNING", "bold yellow"),
    ):
        add("", "", "")
        add("", "", f"{title} ({len(findings)})", "bold underline")
        if not findings:
            add("", "", "none", "dim")
        for f in findings:
            text = Text()
            text.append(f"{word} ", style=style)
            text.append(f.message)
            rows.append((mark, "", text))

    add("", "", "")
    add("", "", "Changed since the last plan", "bold underline")
    if not changes:
        add("", "", "nothing", "dim")
    for c in changes:
        add(c.sign, "", c.text)

    add("", "", "")
    add("", "", "Phases and steps", "bold underline")
    for phase in plan.phases:
        style = _PHASE_STYLE[phase.status]
        word = "applies (optional)" if phase.optional else _PHASE_WORD[phase.status]
        text = Text()
        text.append(f"{phase.number} {phase.title}", style=style)
        text.append(f"  [{word}]", style=style)
        rows.append((phase.status.glyph, "", text))
        if phase.status is not Applicability.APPLIES:
            add("", "", phase.reason, "italic")
            continue
        for step in phase.steps:
            if step.applies:
                add("", "+", step.title + (" (by hand)" if step.manual else ""))
                if step.reason:
                    add("", "", f"why: {step.reason}", "dim")
            else:
                add("", "-", f"{step.title} [not applicable]", "dim")
                add("", "", step.reason, "dim italic")
    add("", "", "")
    add("", "", "Key: + applies  - not applicable  » skipped  ✗ blocked", "dim")
    return rows


def render_rows(rows: list[Row], console: Console, width: int) -> Text:
    """The rows as lines of ``width`` cells: the marks in two narrow columns, the text
    wrapped beside them so that its continuation lines keep the indent.

    One Text, wrapped here once per width: a Rich table of a hundred rows is measured
    and rendered again on every layout (a tenth of a second on a slow machine)."""
    indent = 4
    room = max(8, width - indent)
    lines: list[Text] = []
    for mark, sub, text in rows:
        wrapped = text.wrap(console, room) if text.plain else [Text("")]
        for n, part in enumerate(wrapped):
            line = Text(f"{mark:<1} {sub:<1} " if n == 0 else " " * indent, end="")
            line.append_text(part)
            line.rstrip()
            lines.append(line)
    return Text("\n", end="").join(lines)


class PlanView(Widget):
    """The plan's rows, wrapped to the widget's width (cached per width)."""

    DEFAULT_CSS = """
    PlanView {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self._wrapped: tuple[int, Text] | None = None

    def show(self, rows: list[Row]) -> None:
        if rows != self.rows:
            self.rows = rows
            self._wrapped = None
            self.refresh(layout=True)

    def wrapped(self, width: int) -> Text:
        if self._wrapped is None or self._wrapped[0] != width:
            self._wrapped = (width, render_rows(self.rows, self.app.console, width))
        return self._wrapped[1]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.wrapped(width).plain.split("\n")) if self.rows else 0

    def render(self) -> Text:
        return self.wrapped(self.content_size.width)


def rows_text(rows: list[Row]) -> str:
    """Plain text of the rows (what a screen reader or a test reads)."""
    return "\n".join(" ".join(p for p in (mark, sub, str(text)) if p) for mark, sub, text in rows)


class PlanScreen(PhaseScreen):
    DEFAULT_CSS = """
    PlanScreen .plan-view {
        padding: 0 1 0 0;
    }
    PlanScreen #plan-text {
        height: auto;
    }
    PlanScreen #plan-actions {
        height: auto;
        dock: bottom;
    }
    PlanScreen #plan-actions Button {
        min-width: 0;
        height: 1;
        border: none;
        margin-right: 2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept plan"),
        Binding("p", "prepare", "Back to Prepare"),
    ]

    def __init__(self, view_id: str | None = None) -> None:
        super().__init__(view_id or "plan")

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="content", classes="plan-view"):
            yield PlanView(id="plan-text")
        with Horizontal(id="plan-actions"):
            yield Button("Accept plan (a)", id="accept", variant="primary")
            yield Button("Back to Prepare (p)", id="back")

    def refresh_from_session(self) -> None:
        # Shown again: the answers may have changed, so the plan may have too.
        plan, changed = update_plan(self.session)
        record = self.session.phase("plan")
        if (
            record.status is PhaseStatus.NOT_STARTED
            and self.session.phase("prepare").status is PhaseStatus.DONE
        ):
            # Prepare is done and the operator is reading the plan: reviewing has begun.
            record.start()
            changed = True
        if changed:
            self.save_session()
        super().refresh_from_session()
        rows = plan_rows(plan, plan_changes(self.session), plan_accepted(self.session))
        self.plan_text = rows_text(rows)
        self.query_one("#plan-text", PlanView).show(rows)

    plan_text = ""

    def body_mounted(self) -> None:
        super().body_mounted()
        self.query_one("#content").focus()

    @on(Button.Pressed, "#accept")
    def accept_pressed(self) -> None:
        self.action_accept()

    @on(Button.Pressed, "#back")
    def back_pressed(self) -> None:
        self.action_prepare()

    def action_prepare(self) -> None:
        self.frame.action_navigate("prepare")

    def action_accept(self) -> None:
        if self.session.phase("prepare").status is not PhaseStatus.DONE:
            self.notify(
                "Finish Prepare first: this plan rests on answers that are not all in.",
                severity="warning",
            )
            return
        plan = accept_plan(self.session, now_iso())
        self.journal.confirmation(
            f"Accepted the plan {plan.digest} ({plan.current} → {plan.target})",
            phase="plan",
            step="review_plan",
        )
        self.save_session()
        self.refresh_from_session()
        self.notify("Plan accepted.")


SCREEN = PlanScreen
