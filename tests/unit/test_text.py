"""Untrusted text: escapes, controls and bidi controls never reach a terminal or a file."""

from __future__ import annotations

import json

import pytest

from tasks.text import sanitize, sanitize_tree, strip_control

BIDI = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings, pop, overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\u200e", "\u200f", "\u061c",  # LRM, RLM, ALM
]  # fmt: skip


@pytest.mark.parametrize("char", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidi_controls_are_stripped(char: str) -> None:
    assert strip_control(f"invoice{char}gnp.exe") == "invoicegnp.exe"


def test_letters_of_right_to_left_scripts_stay() -> None:
    assert strip_control("نظام OpenCRVS עברית") == "نظام OpenCRVS עברית"


def test_json_of_untrusted_text_is_clean() -> None:
    data = {
        "reason": "disk \x1b[31mfull\x1b[0m \u202eexe.txt",
        "nodes": [{"name\x1b]0;t\x07": ["a\x9b2Jb", 3, None, True]}],
    }
    cleaned = sanitize_tree(data)
    assert cleaned == {"reason": "disk full exe.txt", "nodes": [{"name": ["ab", 3, None, True]}]}
    text = json.dumps(cleaned)
    assert "\\u001b" not in text and "\\u202e" not in text and "\\u009b" not in text


def test_sanitize_keeps_line_breaks() -> None:
    assert sanitize("one\x1b[1m\ntwo\u2067\n") == "one\ntwo\n"
