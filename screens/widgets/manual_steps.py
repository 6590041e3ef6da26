"""The plan's by-hand steps of a phase, each with its confirmation (who, when, a note).

One line per step the plan marks ``manual`` (``tasks.upgrade.manual``): ``○`` to do, ``✓``
done (by whom, when, the note). Enter on a step asks for a note and records it,
journalled; the phase screen hears ``ManualSteps.Changed`` and re-applies its
phase-done rule. Hidden when the phase has no by-hand step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from screens.frame import Frame
from screens.modals.confirm import TextPromptModal
from tasks.session.phases import StepStatus
from tasks.upgrade.manual import confirm_manual_step, manual_steps

# Why a step cannot be confirmed yet (the evidence says otherwise), or None.
Guard = Callable[[str], "str | None"]


class ManualSteps(OptionList):
    """By-hand steps: Enter confirms the highlighted one (a note is asked)."""

    DEFAULT_CSS = """
    /* with its class, so it outranks OptionList's padding for compact lists */
    ManualSteps.manual-steps {
        height: auto;
        max-height: 5;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
    }
    """

    class Changed(Message):
        """A by-hand step was confirmed: the phase may be done now."""

        def __init__(self, phase_id: str, step_id: str) -> None:
            super().__init__()
            self.phase_id = phase_id
            self.step_id = step_id

    def __init__(
        self, phase_id: str, *, guard: Guard | None = None, id: str = "manual-steps"
    ) -> None:
        super().__init__(id=id, classes="manual-steps", compact=True)
        self.phase_id = phase_id
        self.guard = guard
        self.border_title = "By hand · Enter confirms one"

    @property
    def frame(self) -> Frame:
        return cast(Frame, self.app)

    def on_mount(self) -> None:
        self.refresh_steps()

    def refresh_steps(self) -> None:
        """Show the plan's by-hand steps as the session records them."""
        session = self.frame.session
        steps = manual_steps(session, self.phase_id)
        self.display = bool(steps)
        options = []
        for step in steps:
            rec = session.phase(self.phase_id).step(step.id)
            # One line each (80x24 leaves little room): the dialog shows the whole text.
            text = Text(no_wrap=True, overflow="ellipsis")
            if rec.status is StepStatus.SUCCEEDED:
                text.append("✓ ", style="green")
                text.append(step.title)
                who = f" · done by {rec.by}" if rec.by else " · done"
                when = f" at {rec.finished_at}" if rec.finished_at else ""
                text.append(f"{who}{when}", style="dim")
                if rec.note:
                    text.append(f": {rec.note}", style="dim")
            else:
                text.append("○ ", style="bold")
                text.append(step.title)
                if not step.recommended:
                    text.append(" · by hand", style="dim")
                problem = self.guard(step.id) if self.guard is not None else None
                if problem:
                    text.append(f" · {problem}", style="yellow")
            options.append(Option(text, id=step.id))
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(options)
        if options:
            self.highlighted = min(highlighted or 0, len(options) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        step_id = event.option.id
        if step_id is None:
            return
        self.ask(step_id)

    def ask(self, step_id: str) -> None:
        """Ask for the note and record the confirmation (or say that nothing was)."""
        session = self.frame.session
        step = next((s for s in manual_steps(session, self.phase_id) if s.id == step_id), None)
        if step is None:
            return
        rec = session.phase(self.phase_id).step(step_id)
        if rec.status is StepStatus.SUCCEEDED:
            self.notify(f"Already confirmed by {rec.by or 'the operator'} at {rec.finished_at}.")
            return
        problem = self.guard(step_id) if self.guard is not None else None
        if problem:
            self.notify(problem, title="Not yet", severity="warning", markup=False)
            return
        body = Text()
        body.append(step.title + "\n\n", style="bold")
        if step.reason:
            body.append(step.reason + "\n\n")
        body.append(
            "crvs-migrate cannot do this for you. Once you have, type a note (what you did, "
            "where): it is journalled with your name and the time, and goes in the report. "
            "Escape records nothing."
        )

        def chosen(note: str | None) -> None:
            if not note:
                self.notify("Nothing was recorded: the step is still to do.")
                return
            confirm_manual_step(session, self.frame.workspace.journal, self.phase_id, step_id, note)
            self.frame.save_session()
            self.refresh_steps()
            self.notify(f"Recorded: {step.title}.", title="Done by hand", markup=False)
            self.post_message(self.Changed(self.phase_id, step_id))

        self.app.push_screen(
            TextPromptModal(
                "Confirm a step done by hand",
                body,
                "a note: what you did, where",
                "Record it as done",
            ),
            chosen,
        )
