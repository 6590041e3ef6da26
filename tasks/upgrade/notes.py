"""The v1.3 migration notes as the help shows them: their steps, and the part of them
each phase (or view) walks through.

The notes are bundled (``assets/docs/``) for offline reading. They are three ``###``
steps, each some text and then numbered items (``1.`` or ``2\\.`` at the start of a
line); the phases follow them in order, so a phase's part is a step, or some of its
items (with or without the text before the first item). ``PHASE_NOTES`` is that table;
a test checks it against the bundled file, so an edited file cannot leave a phase
pointing at a heading or an item that is gone.
"""

from __future__ import annotations

import re
from dataclasses import field
from functools import cache

from assets import asset
from tasks.errors import CrvsError
from tasks.lean import dataclass, regex

NOTES_FILE = "migration-notes-v1.3.md"

_HEADING = regex(r"^(#{1,3})\s+(.*?)\s*$")
# "1. Navigate…" and the escaped "2\. You will…" (the notes use both).
_ITEM = regex(r"^(\d+)\\?\.\s")
_FENCE = regex(r"^\s*(```|~~~)")
_EMPHASIS = regex(r"\*\*|__|\\(?=[*_#.])")
# The notes give each command its own code block: shown as one block per run of them
# (the same commands, a dozen fewer blank lines on an 80x24 terminal).
_FENCE_GAP = regex(r"^```[ \t]*\n(?:[ \t]*\n)+```[ \t]*\n", re.M)


def plain_heading(text: str) -> str:
    """A heading without Markdown emphasis or escapes: ``v1.3.\\* … **environments**``
    reads ``v1.3.* … environments``."""
    return _EMPHASIS.sub("", text).strip()


@dataclass(frozen=True)
class NotesStep:
    """One ``###`` step of the notes: its heading, its opening text, its numbered items."""

    number: int
    heading: str  # as written (Markdown)
    intro: str
    items: dict[int, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return plain_heading(self.heading)

    @property
    def short(self) -> str:
        """``Step 2`` (the heading up to its colon)."""
        return self.title.split(":", 1)[0]

    @property
    def anchor(self) -> str:
        return f"step-{self.number}"

    @property
    def markdown(self) -> str:
        body = "".join(self.items[n] for n in sorted(self.items))
        return f"### {self.heading}\n\n{self.intro}{body}".rstrip() + "\n"


@dataclass(frozen=True)
class Notes:
    title: str
    steps: tuple[NotesStep, ...]

    def step(self, title: str) -> NotesStep:
        for step in self.steps:
            if step.title == title:
                return step
        raise KeyError(title)


def parse_notes(text: str) -> Notes:
    """The notes' title and steps; text inside code fences is never a heading or an item."""
    title = ""
    steps: list[NotesStep] = []
    heading: str | None = None
    intro: list[str] = []
    items: dict[int, list[str]] = {}
    current: list[str] = intro
    in_fence = False

    def close() -> None:
        if heading is not None:
            steps.append(
                NotesStep(
                    len(steps) + 1,
                    heading,
                    "".join(intro),
                    {n: "".join(lines) for n, lines in items.items()},
                )
            )

    for line in _FENCE_GAP.sub("", text).splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (m := _HEADING.match(line)):
            if len(m.group(1)) == 1:
                title = plain_heading(m.group(2))
                continue
            close()
            heading, intro, items = m.group(2), [], {}
            current = intro
            continue
        elif not in_fence and heading is not None and (m := _ITEM.match(line)):
            number = int(m.group(1))
            current = items.setdefault(number, [])
        if heading is not None:
            current.append(line)
    close()
    return Notes(title, tuple(steps))


@dataclass(frozen=True)
class NotesPart:
    """The part of the notes a phase walks through.

    ``items`` empty with ``intro``: the text before the step's first item (Step 3's
    warnings); ``whole``: the step as it is.
    """

    step: str  # the step's heading, plain (``Step 2: Update locally and on a QA server``)
    items: tuple[int, ...] = ()
    intro: bool = False
    whole: bool = False
    # Where crvs-migrate does not do what the notes' text says, and why (shown above it).
    differs: str = ""

    @property
    def key(self) -> str:
        """Names the excerpt: phases showing the same part share its rendering (so two
        parts with one key must be equal: a test checks)."""
        step = self.step.split(":", 1)[0].lower().replace(" ", "-")
        if self.whole:
            return f"{step}-all"
        what = f"-items-{self.items[0]}-{self.items[-1]}" if self.items else ""
        return f"{step}{'-opening' if self.intro else ''}{what}"

    def describe(self) -> str:
        """``Step 2, items 2-7``; ``Step 3, its opening`` (before item 1); ``Step 1``."""
        short = self.step.split(":", 1)[0]
        if self.whole:
            return short
        parts = []
        if self.intro:
            parts.append("its opening")
        if self.items:
            first, last = self.items[0], self.items[-1]
            parts.append(f"item {first}" if first == last else f"items {first}-{last}")
        return f"{short}, {' and '.join(parts)}"

    def markdown(self, notes: Notes) -> str:
        step = notes.step(self.step)
        if self.whole:
            text = step.markdown
        else:
            body = (step.intro if self.intro else "") + "".join(step.items[n] for n in self.items)
            text = f"### {step.heading}\n\n{body}".rstrip() + "\n"
        if self.differs:
            text = f"> **crvs-migrate:** {self.differs}\n\n{text}"
        return text


def _items(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


STEP_1 = "Step 1: Prepare to migrate"
STEP_2 = "Step 2: Update locally and on a QA server"
STEP_3 = "Step 3: Upgrade your production server environments"

# Every phase and view, in the order of the notes (tasks.session.phases); a view the
# notes say nothing about maps to None.
PHASE_NOTES: dict[str, NotesPart | None] = {
    "prepare": NotesPart(STEP_1, whole=True),
    "plan": NotesPart(STEP_1, whole=True),
    "update_core": NotesPart(
        STEP_2,
        _items(1, 1),
        intro=True,
        differs="the notes check out and pull `master`: in 2023 master was the 1.3 release. "
        "Upstream master is far past 1.3 today (core 2.x), so crvs-migrate checks out the "
        "release itself, `v<target>` or upstream's branch `release-v<target>` where that is "
        "the better source (1.3.4), or merges it into your core fork.",
    ),
    "merge_config": NotesPart(
        STEP_2,
        _items(2, 7),
        differs="the notes merge `countryconfig/master`: today that is country config 1.9.x. "
        "crvs-migrate merges the release itself, `v<target>`, or upstream's branch "
        "`release-v<target>` where that is the better source (1.3.4).",
    ),
    "verify_local": NotesPart(STEP_2, _items(8, 8)),
    "release": NotesPart(
        STEP_2,
        _items(9, 11),
        differs="the environment variables are checked against what `infrastructure/deploy.sh` "
        "of the target requires (`crvs-migrate check-env` does the same from a shell).",
    ),
    "deploy_qa": NotesPart(STEP_2, _items(12, 12)),
    "backup_production": NotesPart(
        STEP_3,
        intro=True,
        differs="the emergency backup and its restore on QA are run and verified here; "
        "the gate to production opens only on that evidence.",
    ),
    "deploy_production": NotesPart(STEP_3, _items(1, 1), intro=True),
    # The server questions of Step 1: disk, RAM, cluster size, backups.
    "health": NotesPart(STEP_1, _items(8, 8)),
    "report": None,
}


@cache
def bundled_notes_text() -> str:
    try:
        return asset("docs", NOTES_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CrvsError(
            f"assets/docs/{NOTES_FILE} cannot be read ({exc}).", "Migration notes"
        ) from None


@cache
def bundled_notes() -> Notes:
    return parse_notes(bundled_notes_text())


def notes_part(view_id: str) -> NotesPart | None:
    return PHASE_NOTES.get(view_id)
