"""Secrets kept out of what crvs-migrate writes and shows: one masking for argv and text.

Everything that records or prints a command (the journal, step logs, the report, the
commands shown before they run) and every confirmation text goes through here.

What counts as a secret:
- a value whose name says so: the name contains PASS, SECRET, TOKEN, KEY, AUTH (not
  AUTHOR), CREDENTIAL, PRIVATE or DSN (``SMTP_PASSWORD=…``, ``ansible_ssh_pass=…``,
  ``--api-key=…``, ``--db-pass VALUE``);
- ``-pVALUE`` (a password glued to ``-p``, as mysql takes it);
- an ``Authorization:`` header's credentials, and ``Bearer`` tokens;
- the user-info of a URL (``https://user:token@host``).
Masking errs on the side of hiding: a masked non-secret costs a little readability, a
missed secret cannot be taken back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tasks.lean import regex

MASK = "********"

# AUTH but not AUTHOR (git's --author); AUTHORIZATION and AUTHORITY still count.
_SECRET_WORD = r"(?:PASS|SECRET|TOKEN|KEY|AUTH(?!OR(?!I))|CREDENTIAL|PRIVATE|DSN)"
_SECRET_NAME = regex(_SECRET_WORD, re.IGNORECASE)

# NAME=value inside one argument: an identifier or option name, then "=".
_ASSIGNMENT = regex(r"^(-{0,2}[A-Za-z_][\w.-]*)=(.*)$", re.DOTALL)
# scheme://userinfo@ (userinfo: anything up to @ without / or whitespace).
_URL_USERINFO = regex(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
# Authorization / Proxy-Authorization headers: keep the scheme word, hide the rest.
_AUTH_HEADER = regex(
    r"\b((?:proxy-)?authorization\s*:\s*)(?:(bearer|basic|digest|token|negotiate)\s+)?[^\s'\"]+",
    re.IGNORECASE,
)
_BEARER = regex(r"\b(bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# In free text: NAME=value (inside a quoted word the value ends at the quote), and
# NAME: value (not for KEY: host key fingerprints are not secrets).
_TEXT_ASSIGNMENT = regex(
    r"""(?<![\w-])(?:(?P<q>['"])(?P<qname>-{0,2}[A-Za-z_][\w.-]*)=[^'"]*(?P=q)"""
    r"""|(?P<name>-{0,2}[A-Za-z_][\w.-]*)=(?:"[^"]*"|'[^']*'|\S+))"""
)
_TEXT_COLON = regex(
    r"""(?<![\w-])([\w.-]*(?:PASS|SECRET|TOKEN|CREDENTIAL)[\w.-]*\s*:\s*)(?!//)("[^"]*"|'[^']*'|[^\s'"]+)""",
    re.IGNORECASE,
)
# In free text: an option whose name is a secret's, then its value as the next word.
_TEXT_OPTION = regex(r"(?<!\S)(--?[A-Za-z][\w-]*)(\s+)(?!-)(\S+)")
_GLUED_P = regex(r"(?<!\S)-p(\S+)")


def is_secret_name(name: str) -> bool:
    """Whether a variable, option or key name says it carries a secret."""
    return bool(_SECRET_NAME.search(name))


def _is_secret_option(arg: str) -> bool:
    return arg.startswith("-") and not arg.startswith("---") and is_secret_name(arg)


def _mask_assignment(m: re.Match[str]) -> str:
    if m.group("q"):
        name = m.group("qname")
        return f"{m.group('q')}{name}={MASK}{m.group('q')}" if is_secret_name(name) else m.group(0)
    name = m.group("name")
    return f"{name}={MASK}" if is_secret_name(name) else m.group(0)


def mask_text(text: str) -> str:
    """``text`` with every secret form above replaced by ``MASK``."""
    if not text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _AUTH_HEADER.sub(
        lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}{MASK}", text
    )
    text = _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _TEXT_ASSIGNMENT.sub(_mask_assignment, text)
    text = _TEXT_COLON.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _TEXT_OPTION.sub(
        lambda m: (
            f"{m.group(1)}{m.group(2)}{MASK}"
            if _is_secret_option(m.group(1)) and m.group(3) != MASK
            else m.group(0)
        ),
        text,
    )
    return _GLUED_P.sub(f"-p{MASK}", text)


def mask_arg(arg: str) -> str:
    """One argument on its own (``NAME=value``, ``-pX``, a URL, a header, a script)."""
    assignment = _ASSIGNMENT.match(arg)
    if assignment and is_secret_name(assignment.group(1)):
        return f"{assignment.group(1)}={MASK}"
    if arg.startswith("-p") and len(arg) > 2 and not arg.startswith("--"):
        return f"-p{MASK}"
    return mask_text(arg)


def mask_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` with secret values masked; ``--secret-option VALUE`` hides VALUE too."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        arg = str(arg)
        if hide_next:
            hide_next = False
            if not arg.startswith("-"):
                out.append(MASK)
                continue
        if _is_secret_option(arg) and "=" not in arg:
            hide_next = True
            out.append(arg)
            continue
        out.append(mask_arg(arg))
    return out
