"""Help: contextual first, then the migration notes, bundled for offline use.

Opened over a screen (F1 anywhere, ``?`` where it types nothing), help starts with that
screen: which phase it is and its part of the migration notes (``tasks.upgrade.notes``),
the keys active on it (its ``active_bindings``, so they stay true as screens change) and
its fields (read from its labelled widgets, likewise). Then a table of contents (keys 1-3)
and the whole notes.

Kept cheap (help is opened often): the screen is built once and kept (the app installs
it); the whole notes are rendered once, each phase's part once, on its first showing (one
Static per part, in a ``ContentSwitcher``). Only the keys and fields, a few lines, are made
again on each opening. One Static holding Rich's Markdown renders in a few milliseconds,
where Textual's Markdown widget composes a widget per block (about a second here).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.markup import MarkupError
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    DataTable,
    Input,
    Label,
    OptionList,
    RadioSet,
    Select,
    Static,
    TextArea,
)

from screens.base import PhaseScreen
from screens.modals.dialog import Dialog
from screens.widgets.sidebar import PhaseSidebar
from tasks.lean import dataclass
from tasks.session.phases import PHASES_BY_ID, VIEWS_BY_ID
from tasks.text import strip_control
from tasks.upgrade.notes import NotesPart, bundled_notes, notes_part

TITLE = "crvs-migrate help · Esc closes · 1 2 3 the notes' steps · t top"

# Textual's own descriptions, in the operator's words.
_DESCRIPTIONS = {
    "command_palette": "Command palette: go to a phase, cluster health, export report, quit",
    "app.focus_next": "Next field or pane",
    "app.focus_previous": "Previous field or pane",
    "help": "This help",
}


# Textual's own keys worth telling on a focused list or choice.
_MOVES = {"cursor_up", "cursor_down", "select", "toggle_button", "next_button", "previous_button"}


@dataclass(frozen=True)
class KeyHelp:
    keys: str
    what: str
    enabled: bool = True


@dataclass(frozen=True)
class KeyGroup:
    title: str
    keys: tuple[KeyHelp, ...]


@dataclass(frozen=True)
class FieldHelp:
    name: str
    hint: str = ""


@dataclass(frozen=True)
class HelpContext:
    """What help says first: the screen it was opened over, and the phase under it."""

    heading: str  # names the phase (or view) and its part of the notes
    part: NotesPart | None
    keys: tuple[KeyGroup, ...]
    fields: tuple[FieldHelp, ...]
    buttons: tuple[str, ...]
    typing: bool  # a text field has the focus: keys that type a character type it
    dialog: str  # the dialog help was opened over, or ""


# -- what a screen offers -------------------------------------------------------------


def _own_actions(node: DOMNode) -> set[str]:
    """Actions bound by this project's classes of ``node`` (not Textual's)."""
    actions = set()
    for cls in type(node).__mro__:
        if cls.__module__.split(".")[0] in ("screens", "tui"):
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", ())):
                actions.add(binding.action)
    return actions


def _widget_name(node: DOMNode) -> str:
    """``Phases`` (its border title), else ``node table`` (its class, in words)."""
    border = getattr(node, "border_title", None)
    if border:
        return _plain(border).split("·", 1)[0].strip()
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(node).__name__).lower()


def screen_keys(screen: Screen[Any]) -> tuple[KeyGroup, ...]:
    """The keys active on ``screen`` now (its ``active_bindings``), grouped: the screen's,
    the focused widget's, everywhere's. Keys that do the same thing share a row; disabled
    ones say so. A key a focused text field would type is not active, so not listed."""
    app = screen.app
    focused = screen.focused
    consumes = focused is not None and focused.check_consume_key("a", "a")
    # group title -> (node, action) -> [keys], what, enabled: one row per thing done
    groups: dict[str, dict[tuple[int, str], tuple[list[str], str, bool]]] = {}
    digits: list[str] = []
    owned: dict[int, set[str]] = {}
    for key, active in screen.active_bindings.items():
        binding, node = active.binding, active.node
        if binding.system:
            continue
        if id(node) not in owned:
            owned[id(node)] = _own_actions(node) | set(_DESCRIPTIONS)
        told = binding.show or binding.action in owned[id(node)]
        if node is app:
            title = "Everywhere"
            if key.isdigit() and binding.action.startswith("navigate("):
                digits.append(key)
                continue
        elif node is screen:
            title = "This dialog" if screen.is_modal else "This screen"
        else:
            # The focused widget's: a text field's editing keys are its own business;
            # a list's or a choice's moves are worth telling, not its every scroll key.
            told = not consumes and (told or binding.action in _MOVES)
            title = f"Focused: {_widget_name(node)}"
        if not told:
            continue
        what = _DESCRIPTIONS.get(binding.action) or binding.description
        if not what:
            continue
        rows = groups.setdefault(title, {})
        row = rows.setdefault((id(node), binding.action), ([], what, active.enabled))
        row[0].append(app.get_key_display(binding))
    if digits:
        first, last = min(digits), max(digits)
        groups.setdefault("Everywhere", {})[(0, "digits")] = (
            [f"{first} … {last}"],
            f"Go to phase {first} … {last}",
            True,
        )
    order = sorted(groups, key=lambda t: (t == "Everywhere", t.startswith("Focused")))
    return tuple(
        KeyGroup(
            title,
            tuple(
                KeyHelp(" ".join(dict.fromkeys(keys)), what, enabled)
                for keys, what, enabled in groups[title].values()
            ),
        )
        for title in order
    )


_FIELD_TYPES = (Input, TextArea, Select, RadioSet, Checkbox, OptionList, DataTable)
_LABEL_CLASSES = ("question-label", "field-label")


def _plain(content: object) -> str:
    if isinstance(content, Text | Content):
        text = content.plain
    elif isinstance(content, str):
        try:
            text = Content.from_markup(content).plain
        except MarkupError:  # not markup after all: shown as it is
            text = content
    else:
        text = str(content)
    return "\n".join(strip_control(line) for line in text.split("\n")).strip()


def _shown(widget: Widget) -> bool:
    node: DOMNode | None = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return True


def _label_before(widget: Widget) -> str:
    """The text of the label just before ``widget`` in its container, if it has one."""
    parent = widget.parent
    if parent is None:
        return ""
    siblings = list(parent.children)
    for sibling in reversed(siblings[: siblings.index(widget)]):
        if isinstance(sibling, _FIELD_TYPES + (Button,)):
            return ""
        if isinstance(sibling, Label) or (
            isinstance(sibling, Static) and any(sibling.has_class(c) for c in _LABEL_CLASSES)
        ):
            return _plain(sibling.content)
    return ""


def _field(widget: Widget) -> FieldHelp | None:
    label = _label_before(widget)
    if not label and isinstance(widget, Checkbox):
        label = _plain(widget.label)
    if not label and widget.border_title:
        # "Steps · Tab here, Enter runs": a name, then how to use it.
        label = "\n".join(_plain(widget.border_title).split(" · ", 1))
    if not label and isinstance(widget, Input):
        label = _plain(widget.placeholder)
    if not label and isinstance(widget.tooltip, str):
        label = _plain(widget.tooltip)
    if not label:
        return None
    name, _, hint = label.partition("\n")
    return FieldHelp(name.strip(), " ".join(hint.split()))


def screen_fields(screen: Screen[Any]) -> tuple[tuple[FieldHelp, ...], tuple[str, ...]]:
    """The fields shown on ``screen`` now, in order, named as the screen labels them
    (never their values), and its buttons."""
    fields: list[FieldHelp] = []
    buttons: list[str] = []
    for widget in screen.query("*"):
        if isinstance(widget, PhaseSidebar) or not _shown(widget):
            continue
        if isinstance(widget, Button):
            name = _plain(widget.label)
            if name and name not in buttons:
                buttons.append(name)
        elif isinstance(widget, _FIELD_TYPES) and (found := _field(widget)):
            fields.append(found)
    return tuple(fields), tuple(buttons)


def _phase_screen(stack: Sequence[Screen[Any]]) -> PhaseScreen | None:
    for screen in reversed(stack):
        if isinstance(screen, PhaseScreen):
            return screen
    return None


def help_context(stack: Sequence[Screen[Any]]) -> HelpContext:
    """Help's first part for the top of ``stack`` (the screen help opens over)."""
    top = stack[-1]
    phase_screen = _phase_screen(stack)
    view_id = phase_screen.view_id if phase_screen is not None else ""
    part = notes_part(view_id) if view_id else None
    if view_id in PHASES_BY_ID:
        p = PHASES_BY_ID[view_id]
        heading = f"Phase {p.number} of 9 · {p.title}"
    elif view_id in VIEWS_BY_ID:
        heading = VIEWS_BY_ID[view_id].title
    else:
        heading = _plain(top.title or top.app.title) or "crvs-migrate"
    if part is not None:
        heading += f" · notes: {part.describe()}"
    elif view_id:
        heading += " · the migration notes have no part for this view"
    dialog = ""
    if top.is_modal:
        dialog = _plain(getattr(top, "modal_title", "")) or _widget_name(top)
    fields, buttons = screen_fields(top)
    focused = top.focused
    return HelpContext(
        heading=heading,
        part=part,
        keys=screen_keys(top),
        fields=fields,
        buttons=buttons,
        typing=focused is not None and focused.check_consume_key("a", "a"),
        dialog=dialog,
    )


# -- rendering --------------------------------------------------------------------------


def _section(title: str) -> Text:
    return Text(title, style="bold underline")


def render_keys(context: HelpContext) -> RenderableType:
    parts: list[RenderableType] = [_section("Keys")]
    if context.dialog:
        parts.append(Text(f"Dialog: {context.dialog}", style="italic"))
    # Each group one flowing paragraph: on 80x24 the phase's notes start on the first page.
    for group in context.keys:
        line = Text()
        line.append(f"{group.title}: ", style="italic")
        for n, key in enumerate(group.keys):
            if n:
                line.append(" · ", style="dim")
            line.append(key.keys, style="bold")
            line.append(" ")
            line.append(key.what, style="" if key.enabled else "dim")
            if not key.enabled:
                line.append(" (not now)", style="dim")
        parts.append(line)
    if context.typing:
        parts.append(
            Text(
                "A text field has the focus: a key that types a character types it (? too). "
                "F1 opens help from anywhere; Tab moves on.",
                style="italic",
            )
        )
    return Group(*parts)


def render_fields(context: HelpContext) -> RenderableType:
    parts: list[RenderableType] = [Text(""), _section("Fields")]
    if context.fields:
        # One per line, its hint after it: two columns would be cramped at 80 columns.
        for f in context.fields:
            line = Text("• ")
            line.append(f.name, style="bold")
            if f.hint:
                line.append(" — ")
                line.append(f.hint, style="italic")
            parts.append(line)
    else:
        parts.append(Text("No fields here.", style="italic"))
    if context.buttons:
        parts.append(Text(""))
        parts.append(Text("Buttons: ", style="bold") + Text(" · ".join(context.buttons)))
    return Group(*parts)


def render_contents(steps: Iterable[tuple[int, str]]) -> Content:
    """The notes' steps, each reached by its number key or a click."""
    lines = [Content(""), Content.from_markup("[b u]The migration notes[/]")]
    for number, title in steps:
        # The title is a template variable: whatever it holds is text, never markup.
        lines.append(
            Content.from_markup(
                f"  [b]{number:d}[/b]  [@click=screen.jump({number:d})]$title[/]", title=title
            )
        )
    lines.append(Content.from_markup("  [b]t[/b]  [@click=screen.top]back to the top[/]"))
    return Content("\n").join(lines)


class DrawnOnce:
    """A renderable drawn once per width and kept. Textual measures a Static's height by
    drawing its renderable, then draws it again to show it: for the notes' Markdown (code
    blocks highlighted) that was a third of help's first opening."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._drawn: dict[tuple[object, ...], list[Segment]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (options.max_width, options.justify, options.overflow, options.no_wrap)
        drawn = self._drawn.get(key)
        if drawn is None:
            drawn = self._drawn[key] = list(console.render(self.renderable, options))
        yield from drawn

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


class HelpScreen(Dialog[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close help"),
        Binding("t,home", "top", "Top", show=False),
        *(Binding(str(n), f"jump({n})", f"Step {n} of the notes", show=False) for n in (1, 2, 3)),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #help-box {
        width: 90%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title {
        text-style: bold;
    }
    HelpScreen #help-part, HelpScreen #help-keys, HelpScreen .help-notes-step {
        height: auto;
    }
    HelpScreen #help-part {
        margin-top: 1;
    }
    HelpScreen #help-heading {
        text-style: bold;
        margin-bottom: 1;
    }
    HelpScreen #help-all-notes {
        height: auto;
        margin-top: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.context: HelpContext | None = None
        self._context_shown: HelpContext | None = None
        self._notes_started = False
        self._notes_shown = asyncio.Event()

    def compose(self) -> ComposeResult:
        notes = bundled_notes()
        with VerticalScroll(id="help-box"):
            yield Static(TITLE, id="help-title", markup=False)
            yield Static("", id="help-heading", markup=False)
            yield Static("", id="help-keys")
            yield ContentSwitcher(id="help-part")
            yield Static("", id="help-fields")
            yield Static(
                render_contents((s.number, s.title) for s in notes.steps), id="help-contents"
            )
            # The whole notes, below the first screenful: mounted once help is on screen
            # (measuring their height renders every step, half of a first opening).
            yield Vertical(id="help-all-notes")

    async def _mount_notes(self) -> None:
        if self._notes_started:
            await self._notes_shown.wait()
            return
        self._notes_started = True
        from rich.markdown import Markdown

        notes = bundled_notes()
        try:
            await self.query_one("#help-all-notes").mount_all(
                [
                    Static(DrawnOnce(Markdown(f"# {notes.title}")), id="help-notes-title"),
                    *(
                        Static(
                            DrawnOnce(Markdown(step.markdown)),
                            id=f"notes-{step.anchor}",
                            classes="help-notes-step",
                        )
                        for step in notes.steps
                    ),
                ]
            )
        finally:
            self._notes_shown.set()

    async def notes_shown(self) -> None:
        """Wait until the whole notes are mounted (at once after help's first frame)."""
        await self._notes_shown.wait()

    def show_for(self, stack: Sequence[Screen[Any]]) -> None:
        """Open next over the top of ``stack``: read it now, before help covers it."""
        self.context = help_context(stack)

    async def on_screen_resume(self) -> None:
        if not self._notes_started:
            self.call_after_refresh(self._mount_notes)
        context = self.context
        if context is None or context is self._context_shown:
            return  # back from the palette over help: as it was
        box = self.query_one("#help-box", VerticalScroll)
        if context == self._context_shown:
            # Opened again over the same screen as it was: nothing to render again.
            self._context_shown = context
            box.scroll_home(animate=False)
            return
        self._context_shown = context
        self.query_one("#help-heading", Static).update(Text(context.heading))
        self.query_one("#help-keys", Static).update(render_keys(context))
        self.query_one("#help-fields", Static).update(render_fields(context))
        await self._show_part(context.part)
        box.scroll_home(animate=False)

    async def _show_part(self, part: NotesPart | None) -> None:
        switcher = self.query_one("#help-part", ContentSwitcher)
        if part is None:
            switcher.display = False
            return
        switcher.display = True
        if self._has(part.key):
            switcher.current = part.key
            return
        from rich.markdown import Markdown

        # Each part is rendered once, on its first showing, and kept.
        markdown = Markdown(part.markdown(bundled_notes()))
        await switcher.mount(Static(DrawnOnce(markdown), id=part.key))
        switcher.current = part.key

    def _has(self, key: str) -> bool:
        return any(child.id == key for child in self.query_one("#help-part").children)

    def action_top(self) -> None:
        self.query_one("#help-box", VerticalScroll).scroll_home(animate=False)

    async def action_jump(self, number: int) -> None:
        await self._mount_notes()
        target = self.query(f"#notes-step-{number}")
        if target:
            self.query_one("#help-box", VerticalScroll).scroll_to_widget(
                target.first(), animate=False, top=True
            )
