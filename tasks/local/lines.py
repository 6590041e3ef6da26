"""Bytes of a command's output in, complete sanitised lines out.

Shared by the supervisor of a detached step (``tasks.local.supervise``), which writes the
cleaned lines to the step's log, and by the app, which follows that log. Output is read
in chunks, not ``readline()``: lines over 64 KiB would break it and yarn redraws progress
with ``\\r``. Lines are split across chunk boundaries, decoded as UTF-8 with replacement
and sanitised with ``tasks.text.strip_control``. Only the standard library and
``tasks.text``: the supervisor imports this module and must start fast.
"""

from __future__ import annotations

import codecs

from tasks.lean import regex
from tasks.text import strip_control

# A "line" without a newline longer than this is cut, so a runaway process cannot
# make us hold unbounded memory.
MAX_LINE = 1024 * 1024

# Anything strip_control would change (C0/C1 controls, ESC, TAB, bidi controls). Checked
# once per chunk so plain output takes the fast path (the benchmark streams a million lines).
_NEEDS_CLEANING = regex(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
_CSI = regex(r"\x1b\[[0-?]*[ -/]*[@-~]")


def _plain(text: str) -> bool:
    """Nothing for strip_control to do (ASCII checked by C string methods: fast)."""
    if text.isascii():
        return text.replace("\n", "").isprintable()
    return _NEEDS_CLEANING.search(text) is None


class LineSplitter:
    """Bytes in, complete sanitised lines out; keeps the partial last line between chunks."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = self._partial + self._decoder.decode(data)
        if "\n" not in text:
            self._partial = self._keep_partial(text)
            return []
        lines = text.split("\n")
        self._partial = self._keep_partial(lines.pop())
        return self._clean(lines, text)

    def flush(self) -> list[str]:
        text = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        return self._clean([text], text) if text else []

    @staticmethod
    def _clean(lines: list[str], text: str) -> list[str]:
        if _plain(text):
            return lines
        # Colour codes (CSI) are by far the most common: a CSI never spans a newline, so
        # one pass over the whole chunk removes them; if nothing else is left to clean,
        # no line needs the slower per-line treatment.
        if "\x1b[" in text:
            stripped = _CSI.sub("", text)
            if _plain(stripped):
                return stripped.split("\n")[: len(lines)]
        return [strip_control(line) if _NEEDS_CLEANING.search(line) else line for line in lines]

    def _keep_partial(self, partial: str) -> str:
        # A progress bar redrawn with \r and no newline: only the last drawing matters.
        if "\r" in partial:
            cut = partial.rstrip("\r").rfind("\r")
            if cut >= 0:
                partial = partial[cut + 1 :]
        if len(partial) > MAX_LINE:
            partial = partial[-MAX_LINE:]
        return partial
