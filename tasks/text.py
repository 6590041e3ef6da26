"""Untrusted text: output of subprocesses and remote hosts.

It is never interpreted as Rich markup (callers put it in ``rich.text.Text``
or a ``Log``), and terminal control sequences are stripped here before display.
Bidirectional controls (embeddings, overrides, isolates and the implicit marks) are
stripped too: a right-to-left override makes ``gnp.exe`` look like ``exe.png``.
The same cleaning applies to text written as JSON (``health --json``, the journal)
and to reports.
"""

from __future__ import annotations

import re
from typing import Any

from tasks.lean import regex

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC
# sequences, and C1 CSI (0x9b). Then any remaining C0/C1 control except TAB.
_ANSI = regex(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]        # CSI
  | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?  # OSC, terminated by BEL or ST
  | \x1b[PX^_][^\x1b]*(?:\x1b\\)?   # DCS, SOS, PM, APC
  | \x1b[@-Z\\-_]                  # other Fe escapes
  | \x1b.?                         # stray ESC
  | \x9b[0-?]*[ -/]*[@-~]          # 8-bit CSI
    """,
    re.VERBOSE,
)
_CONTROL = regex(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f"
    # bidi: LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM, ALM
    r"\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)


def strip_control(line: str) -> str:
    """Remove escape sequences and control characters from one line of text.

    A carriage return (progress bars redrawn in place) keeps only what was
    drawn last, as a terminal would show it.
    """
    if "\r" in line:
        parts = [p for p in line.split("\r") if p]
        line = parts[-1] if parts else ""
    line = _ANSI.sub("", line)
    line = line.expandtabs(8)
    return _CONTROL.sub("", line)


def sanitize(text: str) -> str:
    """Strip control sequences from multi-line text, keeping line breaks."""
    return "\n".join(strip_control(line) for line in text.split("\n"))


def sanitize_tree(data: Any) -> Any:
    """``data`` (JSON-like: dicts, lists, scalars) with every string sanitized, keys too.

    For JSON written from remote or subprocess text: a reader that prints it to a
    terminal must not receive escape sequences or bidi controls either.
    """
    if isinstance(data, str):
        return sanitize(data)
    if isinstance(data, dict):
        return {sanitize(str(k)): sanitize_tree(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [sanitize_tree(v) for v in data]
    return data
