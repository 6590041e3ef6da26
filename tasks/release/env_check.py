"""Deploy environment variables: what the target's deploy.sh requires, and what the env files hold.

``infrastructure/deploy.sh`` is read with its real semantics (``parse_deploy_sh``):
- a variable set from a ``--name=value`` argument (the ``for i in "$@"; do case $i in``
  loop) is an argument, never an environment variable, whatever checks follow;
- a ``-z`` check whose block exits (``exit``, or a function that exits such as
  ``print_usage_and_exit``) makes the variable required;
- a ``-z`` check that does not exit (``echo 'Info: Missing optional …'``) and a variable the
  script defaults itself (``SSH_USER=${SSH_USER:-root}``) are optional.

The list is deploy.sh as it will be after the merge (``required_env``): upstream's checks at
the target, read from git (``git show v<target>:infrastructure/deploy.sh`` in the country
config checkout, where ``git fetch --all`` brought upstream's tags), plus the fork's own
checks, merged the way git merges: what the fork changed since the merge base wins. Without
upstream's release in the checkout, the catalogue's list for the target stands in for it.

Values are read only to test that they are set and well formed; no result of this module
carries a value, so nothing secret reaches the state, the screen, the journal or the report.
A value holding a NUL or another control character is refused naming the variable, never the
value.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from tasks.errors import CrvsError
from tasks.lean import dataclass, regex
from tasks.session.state import now_iso
from tasks.text import strip_control
from tasks.upgrade.catalogue import Catalogue, bundled_catalogue
from tasks.upgrade.detect import find_release_ref, merge_base, read_package_version, show_file

DEPLOY_SH = Path("infrastructure") / "deploy.sh"
CSP_WILDCARD = "CONTENT_SECURITY_POLICY_WILDCARD"
# A deploy.sh is a few hundred lines; anything far bigger is not one.
MAX_SCRIPT_BYTES = 4 * 1024 * 1024

_DOMAIN = regex(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)
_NAME = regex(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Control characters a value must not hold (TAB and LF are allowed: quoted multi-line values).
_BAD_VALUE = regex(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class EnvFileError(CrvsError):
    title = "The environment file cannot be read"


# -- reading deploy.sh ------------------------------------------------------------------


@dataclass(frozen=True)
class DeployChecks:
    """What one deploy.sh checks, in script order."""

    arguments: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    def kind(self, name: str) -> str:
        if name in self.arguments:
            return "argument"
        if name in self.required:
            return "required"
        if name in self.optional:
            return "optional"
        return ""

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.arguments, *self.required, *self.optional)


# `--clear_data=*) CLEAR_DATA="${i#*=}"` (pattern and assignment may be on separate lines),
# and the `--host) HOST="$2"` form.
_ARGUMENT = regex(r"--[A-Za-z0-9_-]+=?\*?\)\s*([A-Za-z_][A-Za-z0-9_]*)=")
# `SSH_USER=${SSH_USER:-root}`: the script's own default makes the variable optional.
_SELF_DEFAULT = regex(
    r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=\"?\$\{\1:?[-=][^}\n]*\}", re.MULTILINE
)
# `-z "$X"`, `-z $X`, `-z "${X}"`, `-z "${X:-}"`; not `-z "${!X}"` (an indirect name).
_Z_TEST = regex(
    r"-z\s+\"?\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:[:}#%/-][^\"\s]*)?|([A-Za-z_][A-Za-z0-9_]*))"
)
# `name () {`, `function name {`, `function name () {`, body up to a line that is just `}`.
_FUNCTION = regex(
    r"^[ \t]*(?:function[ \t]+)?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*(?:\([ \t]*\))?[ \t]*\{[ \t]*$"
    r"(.*?)^[ \t]*\}",
    re.MULTILINE | re.DOTALL,
)
_FUNCTION_KEYWORD = regex(r"^[ \t]*function[ \t]+([A-Za-z_][A-Za-z0-9_-]*)", re.MULTILINE)
# The upstream name: a script that calls it without defining it still means "exit".
EXITING_BY_NAME = ("print_usage_and_exit",)


def _statements(text: str) -> list[tuple[str, str]]:
    """Split shell text into simple statements: (raw, masked) pairs.

    ``masked`` has the contents of quotes, backticks and ``$(...)`` blanked, so keywords and
    commands are found only where the shell would see them. Comments are dropped. Splits on
    unquoted newlines and ``;`` (``;;`` too). One pass, linear in the text.
    """
    out: list[tuple[str, str]] = []
    raw: list[str] = []
    masked: list[str] = []
    i, n = 0, len(text)
    quote = ""  # "'", '"', "`" or ")" (inside $( ... ))
    depth = 0  # nesting of $( ... )

    def flush() -> None:
        r, m = "".join(raw).strip(), "".join(masked).strip()
        if r:
            out.append((r, m))
        raw.clear()
        masked.clear()

    while i < n:
        c = text[i]
        if quote == "'":
            raw.append(c)
            masked.append("'" if c == "'" else " ")
            if c == "'":
                quote = ""
        elif quote == '"':
            if c == "\\" and i + 1 < n:
                raw.append(text[i : i + 2])
                masked.append("  ")
                i += 2
                continue
            raw.append(c)
            masked.append('"' if c == '"' else (" " if c != "\n" else "\n"))
            if c == '"':
                quote = ""
        elif quote == "`":
            raw.append(c)
            masked.append("`" if c == "`" else " ")
            if c == "`":
                quote = ""
        elif quote == ")":
            raw.append(c)
            masked.append(" ")
            if text.startswith("$(", i):
                depth += 1
                raw.append("(")
                masked.append(" ")
                i += 2
                continue
            if c == ")":
                depth -= 1
                if depth == 0:
                    quote = ""
                    masked[-1] = ")"
        elif c == "\\" and i + 1 < n:
            if text[i + 1] == "\n":  # a continued line
                i += 2
                continue
            raw.append(text[i : i + 2])
            masked.append(text[i : i + 2])
            i += 2
            continue
        elif c in "'\"`":
            quote = c
            raw.append(c)
            masked.append(c)
        elif text.startswith("$(", i):
            quote, depth = ")", 1
            raw.append("$(")
            masked.append("$(")
            i += 2
            continue
        elif c == "#" and (not raw or raw[-1] in " \t"):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif c in "\n;":
            flush()
        else:
            raw.append(c)
            masked.append(c)
        i += 1
    flush()
    return out


def _first_word(masked: str) -> str:
    return masked.split(None, 1)[0] if masked.split() else ""


def _after_keyword(raw: str, masked: str) -> tuple[str, str]:
    """The statement without its leading keyword (``then echo x`` -> ``echo x``)."""
    word = _first_word(masked)
    cut = masked.index(word) + len(word)
    return raw[cut:].strip(), masked[cut:].strip()


def _exiting_functions(text: str) -> set[str]:
    names = set(EXITING_BY_NAME)
    for match in _FUNCTION.finditer(text):
        body = " ".join(m for _, m in _statements(match.group(2)))
        if re.search(r"(?:^|[\s;&|({])exit\b", body):
            names.add(match.group(1))
    return names


def _exits(masked_body: list[str], exiting: set[str]) -> bool:
    """Does a block of statements (run unconditionally) leave the script?"""
    words = "|".join(re.escape(n) for n in sorted(exiting)) or "exit"
    command = re.compile(rf"(?:^|&&|\|\||[{{(])\s*(?:exit|{words})\b")
    return any(command.search(m) for m in masked_body)


def _z_names(raw: str) -> list[str]:
    return [a or b for a, b in _Z_TEST.findall(raw)]


@dataclass
class _Frame:
    condition: list[str] = field(default_factory=list)  # raw condition statements
    body: list[str] = field(default_factory=list)  # masked statements of the then-branch
    state: str = "condition"  # condition -> then -> else


def parse_deploy_sh(text: str) -> DeployChecks:
    """What a deploy.sh checks: its arguments, required and optional variables.

    Raises ``CrvsError`` for a text too large to be a deploy script.
    """
    if len(text) > MAX_SCRIPT_BYTES:
        raise CrvsError(
            f"deploy.sh is {len(text)} characters long: too large to be a deploy script.",
            "Unreadable deploy.sh",
        )
    arguments = list(dict.fromkeys(_ARGUMENT.findall(text)))
    exiting = _exiting_functions(text)
    required: list[str] = []
    optional: list[str] = []

    def record(names: list[str], exits: bool) -> None:
        for name in names:
            if name in arguments:
                continue
            if exits:
                if name in optional:
                    optional.remove(name)
                if name not in required:
                    required.append(name)
            elif name not in required and name not in optional:
                optional.append(name)

    stack: list[_Frame] = []
    for raw, masked in _statements(text):
        word = _first_word(masked)
        if stack and stack[-1].state == "condition":
            if word == "then":
                stack[-1].state = "then"
                raw, masked = _after_keyword(raw, masked)
                word = _first_word(masked)
                if not masked:
                    continue
            else:
                stack[-1].condition.append(raw)
                continue
        if word == "if":
            stack.append(_Frame(condition=[_after_keyword(raw, masked)[0]]))
            continue
        if word in ("elif", "else") and stack:
            stack[-1].state = "else"
            continue
        if word == "fi" and stack:
            frame = stack.pop()
            names = [n for c in frame.condition for n in _z_names(c)]
            if names:
                record(names, _exits(frame.body, exiting))
            continue
        if stack and stack[-1].state == "then":
            stack[-1].body.append(masked)
        # `[ -z "$X" ] && print_usage_and_exit` on one line.
        if re.match(r"^(?:\[\[?|test)\s", masked) and "&&" in masked:
            names = _z_names(raw.split("&&", 1)[0])
            if names:
                record(names, _exits([masked.split("&&", 1)[1]], exiting))
    for name in _SELF_DEFAULT.findall(text):
        record([name], False)
    return DeployChecks(tuple(arguments), tuple(required), tuple(optional))


def merge_checks(base: DeployChecks, ours: DeployChecks, theirs: DeployChecks) -> DeployChecks:
    """deploy.sh's checks after merging ``theirs`` (upstream) into ``ours`` (the fork).

    As git merges lines: for each variable, what changed since ``base`` wins; when both
    sides changed it differently, the stricter kind (required, then optional) stands.
    """
    rank = {"": 0, "optional": 1, "required": 2}
    arguments = tuple(dict.fromkeys((*theirs.arguments, *ours.arguments)))
    order = list(
        dict.fromkeys((*theirs.required, *theirs.optional, *ours.required, *ours.optional))
    )
    required: list[str] = []
    optional: list[str] = []
    for name in order:
        if name in arguments:
            continue
        b, o, t = (c.kind(name) for c in (base, ours, theirs))
        b, o, t = ("" if k == "argument" else k for k in (b, o, t))
        if o == b:
            kind = t
        elif t == b:
            kind = o
        else:
            kind = max(o, t, key=lambda k: rank[k])
        if kind == "required":
            required.append(name)
        elif kind == "optional":
            optional.append(name)
    return DeployChecks(arguments, tuple(required), tuple(optional))


def catalogue_checks(version: str, catalogue: Catalogue | None = None) -> DeployChecks:
    catalogue = catalogue or bundled_catalogue()
    return DeployChecks(
        catalogue.deploy.arguments,
        catalogue.deploy_required_env(version),
        catalogue.deploy_optional_env(version),
    )


# -- the list for the target --------------------------------------------------------------


@dataclass(frozen=True)
class RequiredEnv:
    names: tuple[str, ...]
    # Where the list came from, in the operator's words.
    source: str
    optional: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()
    # Read by the deploy before the merge (or by an earlier release) and no longer after it.
    removed: tuple[str, ...] = ()


def _read_script(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            raise CrvsError(f"{path} is too large to be a deploy script.", "Unreadable deploy.sh")
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def required_env(
    config_path: Path | None, target_version: str, catalogue: Catalogue | None = None
) -> RequiredEnv:
    """The deploy variables of the target: deploy.sh as it will be after the merge.

    Upstream's checks at the target (from git, after ``git fetch --all``) merged with the
    fork's own (its working-tree deploy.sh); the catalogue's list stands in for what git
    cannot give. Raises ``CrvsError`` for a target the catalogue does not know and no script.
    """
    catalogue = catalogue or bundled_catalogue()
    release = catalogue.by_version.get(target_version)
    script = DEPLOY_SH.as_posix()
    if config_path is None:
        if release is None:
            raise _unknown_target(target_version, catalogue)
        checks = catalogue_checks(target_version, catalogue)
        return _result(checks, f"built-in list for {target_version}", catalogue, target_version)
    config_path = Path(config_path).expanduser()
    text = _read_script(config_path / DEPLOY_SH)
    ours = parse_deploy_sh(text) if text is not None else None
    ref = find_release_ref(config_path, release) if release is not None else None
    if ref is not None:
        upstream_text = show_file(config_path, ref, script)
        theirs = parse_deploy_sh(upstream_text) if upstream_text is not None else DeployChecks()
        short = ref.removeprefix("refs/tags/").removeprefix("refs/remotes/")
        where = f"upstream {short}:{script}"
        if ours is None:
            return _result(theirs, where, catalogue, target_version)
        base_commit = merge_base(config_path, "HEAD", ref)
        base_text = show_file(config_path, base_commit, script) if base_commit else None
        base = parse_deploy_sh(base_text) if base_text is not None else DeployChecks()
        merged = merge_checks(base, ours, theirs)
        return _result(
            merged,
            f"{where} merged with your {script}",
            catalogue,
            target_version,
            before=(base, ours),
        )
    if release is None:
        if ours is not None and ours.required:
            return _result(ours, f"{script} in {config_path}", catalogue, target_version)
        raise _unknown_target(target_version, catalogue)
    # Upstream's release is not in the checkout yet (git fetch --all brings it).
    theirs = catalogue_checks(target_version, catalogue)
    where = (
        f"built-in list for {target_version} (upstream's v{target_version} is not in "
        f"{config_path}: git fetch --all brings it)"
    )
    if ours is None:
        return _result(theirs, where, catalogue, target_version)
    current = read_package_version(config_path) or ""
    base = (
        catalogue_checks(current, catalogue)
        if current in catalogue.by_version
        else DeployChecks(catalogue.deploy.arguments)
    )
    merged = merge_checks(base, ours, theirs)
    return _result(
        merged, f"{where}, with your {script}", catalogue, target_version, before=(base, ours)
    )


def _unknown_target(version: str, catalogue: Catalogue) -> CrvsError:
    return CrvsError(
        f"No deploy.sh to read and no built-in list for version {version!r} "
        f"(known: {', '.join(catalogue.by_version)}).",
        "Unknown target version",
    )


def _result(
    checks: DeployChecks,
    source: str,
    catalogue: Catalogue,
    target: str,
    *,
    before: tuple[DeployChecks, ...] = (),
) -> RequiredEnv:
    live = set(checks.required) | set(checks.optional)
    gone: list[str] = []
    for old in before:
        gone += [n for n in (*old.required, *old.optional) if n not in live]
    if target in catalogue.by_version:
        gone += [n for n in catalogue.removed_env_up_to(target) if n not in live]
    return RequiredEnv(
        checks.required,
        source,
        checks.optional,
        checks.arguments,
        tuple(n for n in dict.fromkeys(gone) if n not in checks.arguments),
    )


# -- the env files -------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvProblem:
    name: str
    # Says what is wrong with the form, never what the value is.
    reason: str


@dataclass
class EnvProblemRecord:
    name: str
    reason: str


@dataclass
class EnvCheckRecord:
    """An env check as kept in the release section: names only, never values."""

    checked_at: str
    ok: bool
    source: str = ""
    files: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    invalid: list[EnvProblemRecord] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)


@dataclass
class EnvCheck:
    required: RequiredEnv
    files: list[str]
    missing: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    invalid: list[EnvProblem] = field(default_factory=list)
    # Set but no longer used by the target version (harmless, worth tidying).
    unused: list[str] = field(default_factory=list)
    checked_at: str = field(default_factory=now_iso)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.invalid

    def to_record(self) -> EnvCheckRecord:
        return EnvCheckRecord(
            checked_at=self.checked_at,
            ok=self.ok,
            source=self.required.source,
            files=[str(f) for f in self.files],
            required=list(self.required.names),
            optional=list(self.required.optional),
            missing=list(self.missing),
            present=list(self.present),
            invalid=[EnvProblemRecord(p.name, p.reason) for p in self.invalid],
            unused=list(self.unused),
        )

    def to_json(self) -> dict[str, Any]:
        """Names only: what ``crvs-migrate check-env --json`` prints."""
        return {
            "required": list(self.required.names),
            "optional": list(self.required.optional),
            "missing": list(self.missing),
            "invalid": [{"name": p.name, "reason": p.reason} for p in self.invalid],
            "removed": list(self.unused),
            "source": self.required.source,
        }


def _safe_name(name: str) -> str:
    return name if _NAME.match(name) else repr(strip_control(name)[:64])


def _read_env(paths: Iterable[Path]) -> tuple[dict[str, str], list[EnvProblem]]:
    from dotenv import dotenv_values

    merged: dict[str, str] = {}
    problems: dict[str, EnvProblem] = {}
    for path in paths:
        path = Path(path).expanduser()
        if not path.is_file():
            raise EnvFileError(f"{path} does not exist or is not a file.")
        try:
            # utf-8-sig: a byte-order mark left by an editor is not part of the first name.
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise EnvFileError(f"{path}: cannot be read ({exc.strerror}).") from None
        except UnicodeDecodeError as exc:
            raise EnvFileError(f"{path}: is not UTF-8 text (byte {exc.start}).") from None
        values = dotenv_values(stream=io.StringIO(text), interpolate=False)
        for name, value in values.items():
            value = "" if value is None else value.removesuffix("\r")
            merged[name] = value
            if _BAD_VALUE.search(value) or not _NAME.match(name):
                what = (
                    "holds a control character (NUL, ESC, …): deploy.sh cannot pass it on"
                    if _NAME.match(name)
                    else "is not a valid variable name"
                )
                problems[name] = EnvProblem(_safe_name(name), f"{what} ({path.name})")
            else:
                problems.pop(name, None)  # a later file fixed it
    return merged, list(problems.values())


def read_env_files(paths: Iterable[Path], *, strict: bool = True) -> dict[str, str]:
    """Merge dotenv files in order (later files win). Raises ``EnvFileError``.

    ``strict``: a value with a control character is an error naming the variable (never the
    value); without it such values are returned as they are (to scrub them from a report).
    """
    values, problems = _read_env(paths)
    if strict and problems:
        first = problems[0]
        raise EnvFileError(f"{first.name} {first.reason}. Fix the env file; nothing was run.")
    return values


def csp_wildcard_problem(value: str, domain: str | None) -> str | None:
    """Why a CONTENT_SECURITY_POLICY_WILDCARD value is malformed, without repeating it."""
    value = value.strip()
    if not value.startswith("*."):
        return "must have the form *.<domain> (a star, a dot, then the domain)"
    if not _DOMAIN.match(value[2:].lower()):
        return "the part after *. is not a valid domain name"
    if domain:
        domain = domain.strip().lower().removeprefix("*.")
        if value[2:].lower() != domain:
            return "does not match DOMAIN: it must be *. followed by the value of DOMAIN"
    return None


def check_env(
    env: Mapping[str, str],
    required: RequiredEnv,
    *,
    files: Iterable[Path | str] = (),
    domain: str | None = None,
    removed: Iterable[str] = (),
    problems: Iterable[EnvProblem] = (),
) -> EnvCheck:
    """Compare ``env`` with ``required``. An empty value counts as missing (deploy.sh tests -z)."""
    result = EnvCheck(required=required, files=[str(f) for f in files])
    result.invalid.extend(problems)
    bad = {p.name for p in result.invalid}
    for name in required.names:
        if (env.get(name) or "").strip():
            result.present.append(name)
        elif name not in bad:
            result.missing.append(name)
    domain = domain or (env.get("DOMAIN") or "").strip() or None
    wildcard = (env.get(CSP_WILDCARD) or "").strip()
    if wildcard and CSP_WILDCARD not in bad:
        problem = csp_wildcard_problem(wildcard, domain)
        if problem:
            result.invalid.append(EnvProblem(CSP_WILDCARD, problem))
    gone = dict.fromkeys((*required.removed, *removed))
    result.unused = [n for n in gone if (env.get(n) or "").strip()]
    return result


def check_env_files(
    paths: Iterable[Path],
    config_path: Path | None,
    target_version: str,
    *,
    domain: str | None = None,
    catalogue: Catalogue | None = None,
) -> EnvCheck:
    paths = [Path(p) for p in paths]
    required = required_env(config_path, target_version, catalogue)
    env, problems = _read_env(paths)
    return check_env(env, required, files=paths, domain=domain, problems=problems)


# Where country configs keep the deploy's variables (dotenv), most specific first.
ENV_FILE_NAMES = (".env.production", ".env.qa", ".env")


def suggested_env_file(config_path: Path) -> str:
    """An env file in the country config checkout, when it has one."""
    for name in ENV_FILE_NAMES:
        path = Path(config_path) / name
        if path.is_file():
            return str(path)
    return ""
