"""The migration notes as help shows them: every phase maps to a part of the bundled notes
that exists (its step's heading, its items), in the order of the notes."""

from __future__ import annotations

import re

import pytest

from tasks.session.phases import PHASE_IDS, PHASES, VIEWS
from tasks.upgrade.notes import (
    PHASE_NOTES,
    STEP_1,
    STEP_2,
    STEP_3,
    NotesPart,
    bundled_notes,
    bundled_notes_text,
    parse_notes,
    plain_heading,
)


def test_the_bundled_notes_have_their_three_steps_and_items():
    notes = bundled_notes()
    assert notes.title == "v1.3.* to v1.3.* Migration notes"
    assert [s.title for s in notes.steps] == [STEP_1, STEP_2, STEP_3]
    assert sorted(notes.step(STEP_1).items) == list(range(1, 9))
    assert sorted(notes.step(STEP_2).items) == list(range(1, 13))
    assert sorted(notes.step(STEP_3).items) == [1]
    # Every heading of the file is a step (none missed by the parser).
    headings = re.findall(r"^###\s+(.*)$", bundled_notes_text(), re.M)
    assert [plain_heading(h) for h in headings] == [s.title for s in notes.steps]


def test_every_phase_and_view_has_an_entry_and_every_phase_a_part():
    assert set(PHASE_NOTES) == {*PHASE_IDS, *(v.id for v in VIEWS)}
    assert all(PHASE_NOTES[p] is not None for p in PHASE_IDS)


@pytest.mark.parametrize("view_id", list(PHASE_NOTES))
def test_each_part_names_a_heading_and_items_that_exist(view_id):
    part = PHASE_NOTES[view_id]
    if part is None:
        return
    notes = bundled_notes()
    step = notes.step(part.step)  # KeyError: a heading the notes no longer have
    assert part.whole or part.items or part.intro
    assert set(part.items) <= set(step.items), (view_id, part.items, sorted(step.items))
    text = part.markdown(notes)
    assert text.startswith(("### ", "> **crvs-migrate:**"))
    assert f"### {step.heading}" in text
    for n in part.items:
        assert step.items[n].strip() in text


def test_the_phases_parts_follow_the_notes_and_agree_with_each_phases_source():
    order = []
    for p in PHASES:
        part = PHASE_NOTES[p.id]
        assert part is not None
        number = int(part.step.split()[1].rstrip(":"))
        # Phase.source names the same step ("migration notes 2.2-2.7", "migration notes 3,
        # the warnings", "migration notes 1, Prepare to migrate").
        assert re.search(rf"notes {number}\b", p.source), (p.id, p.source)
        if m := re.match(r"migration notes \d+\.(\d+)(?:-\d+\.(\d+))?", p.source):
            first, last = int(m.group(1)), int(m.group(2) or m.group(1))
            assert set(range(first, last + 1)) <= set(part.items), (p.id, part.items)
        if "the warnings" in p.source:
            assert part.intro and "DANGER" in part.markdown(bundled_notes())
        order.append((number, part.items[:1] or (0,)))
    assert order == sorted(order)


def test_describe_and_key():
    assert NotesPart(STEP_1, whole=True).describe() == "Step 1"
    assert NotesPart(STEP_2, (2, 3, 4, 5, 6, 7)).describe() == "Step 2, items 2-7"
    assert NotesPart(STEP_2, (8,)).describe() == "Step 2, item 8"
    assert NotesPart(STEP_3, intro=True).describe() == "Step 3, its opening"
    assert NotesPart(STEP_3, (1,), intro=True).describe() == "Step 3, its opening and item 1"
    parts = {v: p for v, p in PHASE_NOTES.items() if p is not None and v != "plan"}
    # Prepare and Plan show the same part (rendered once for both); the others their own.
    assert PHASE_NOTES["plan"] is not None and PHASE_NOTES["prepare"] is not None
    assert PHASE_NOTES["plan"].key == PHASE_NOTES["prepare"].key
    by_key: dict[str, NotesPart] = {}
    for part in PHASE_NOTES.values():
        if part is not None:
            assert by_key.setdefault(part.key, part) == part  # one key, one rendering
    keys = [p.key for p in parts.values()]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z][a-z0-9-]*", k) for k in keys)  # usable as widget ids


def test_parse_items_headings_and_fences():
    text = (
        "# Title **bold**\n\n"
        "### Step 1: First\n\nOpening.\n\n"
        "1. One\n\n```\n2. not an item\n### not a heading\n```\n\n```\ngit pull\n```\n\n"
        "2\\. Two, escaped\n\n"
        "### Step 2: Second **part**\n\n1. Only\n"
    )
    notes = parse_notes(text)
    assert notes.title == "Title bold"
    first, second = notes.steps
    assert first.title == "Step 1: First" and first.intro.strip() == "Opening."
    assert sorted(first.items) == [1, 2]
    assert "2. not an item" in first.items[1] and "### not a heading" in first.items[1]
    # Consecutive code blocks are shown as one.
    assert "### not a heading\ngit pull\n```" in first.items[1]
    assert first.items[2].startswith("2\\. Two")
    assert second.title == "Step 2: Second part" and second.short == "Step 2"
    assert (
        NotesPart(second.title, whole=True)
        .markdown(notes)
        .startswith("### Step 2: Second **part**")
    )


def test_a_part_says_where_crvs_migrate_departs_from_the_notes():
    notes = bundled_notes()
    core = PHASE_NOTES["update_core"]
    merge = PHASE_NOTES["merge_config"]
    assert core is not None and merge is not None
    # The notes' master was 1.3 in 2023: help must not leave that unexplained.
    assert "git checkout master" in core.markdown(notes) and "master" in core.differs
    assert "countryconfig/master" in merge.markdown(notes) and "v<target>" in merge.differs
    assert merge.markdown(notes).startswith("> **crvs-migrate:**")
