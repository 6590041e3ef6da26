"""Form controls shared by every screen that asks something: Prepare's questions,
the gate's choices, the deploy options.

Each reads without colour (NO_COLOR, 16-colour terminals): a tick box shows ``X``
or a blank, a choice shows ``●`` or a blank, whatever the theme.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Checkbox, Input, RadioButton, RadioSet, Static


class ProblemValidator(Validator):
    """A Textual validator around a ``tasks`` check that returns the reason, or ``None``."""

    def __init__(self, check: Callable[[str], str | None]) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        problem = self.check(value)
        return self.failure(problem, value) if problem else self.success()


def labelled(label: str, field: Input) -> Vertical:
    """An input with its label above it (a placeholder vanishes once something is typed)."""
    return Vertical(Static(label, classes="field-label"), field, classes="field")


class AnswerButton(RadioButton):
    """A radio button whose glyph shows the answer without colour (NO_COLOR, 16 colours)."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's name
        return "●" if self.value else " "


class TickBox(Checkbox):
    """A check box that shows its tick without colour."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's name
        return "X" if self.value else " "


class Choice(RadioSet, inherit_bindings=False):
    """A question with a few answers: arrows choose, Enter chooses and moves on."""

    # RadioSet's own Enter only toggles; here Enter answers and advances.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,right", "next_button", "Next option", show=False),
        Binding("up,left", "previous_button", "Previous option", show=False),
        Binding("space", "toggle_button", "Choose", show=False),
        Binding("enter", "choose", "Choose and move on", show=False),
    ]

    def __init__(self, options: list[tuple[str, str]], value: str | None, id: str) -> None:
        self.keys = [key for key, _ in options]
        super().__init__(
            *(AnswerButton(label, value=key == value) for key, label in options),
            id=id,
            classes="choice",
            compact=True,
        )

    def on_mount(self) -> None:
        # RadioSet's own mount handler (which Textual runs after this one) puts the
        # cursor on the first option; start it on the current answer instead.
        self.call_after_refresh(self._cursor_to_answer)

    def _cursor_to_answer(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index

    @property
    def key(self) -> str | None:
        index = self.pressed_index
        return self.keys[index] if index >= 0 else None

    def action_choose(self) -> None:
        """Answer with the highlighted option and move on, at once.

        Done synchronously (not through RadioSet's messages) so that a fast
        second Enter lands on the next question, not on this one again.
        """
        if self._selected is None:
            return
        button = self._nodes[self._selected]
        if not isinstance(button, RadioButton):
            return
        if not button.value:
            with self.prevent(RadioButton.Changed):
                if self._pressed_button is not None and self._pressed_button is not button:
                    self._pressed_button.value = False
                button.value = True
            self._pressed_button = button
        self.post_message(self.Answered(self, advance=True))

    class Answered(Message):
        """The operator chose an answer (Enter answers and, with ``advance``, moves on)."""

        def __init__(self, choice: Choice, advance: bool) -> None:
            super().__init__()
            self.choice = choice
            self.advance = advance

        @property
        def control(self) -> Choice:
            return self.choice
