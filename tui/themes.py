"""Which colour theme suits the operator's terminal.

Textual's own themes are truecolor; on a terminal that reports 16 colours
(TERM=linux on a console, plain TERM=xterm or screen on old jump hosts) Textual
maps them to the nearest of 16 fixed colours, which can lose contrast. The
``ansi-*`` themes are built from the terminal's own 16-colour palette instead.
TERM and COLORTERM are never changed: they are the operator's.
"""

from __future__ import annotations

ANSI_THEME = "ansi-dark"
# Rich's names for colour systems (``Console.color_system``) with at most 16 colours.
SIXTEEN_COLOUR_SYSTEMS = frozenset({"standard", "windows"})


def auto_theme(color_system: str | None) -> str | None:
    """The theme to use for ``color_system``, or ``None`` to keep Textual's default."""
    if color_system in SIXTEEN_COLOUR_SYSTEMS:
        return ANSI_THEME
    return None
