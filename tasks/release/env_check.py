"""Deploy environment variables: what the target version requires, and what the env files hold.

The required list comes from the country config's own ``infrastructure/deploy.sh``
when it exists (the variables it exits on when empty: ``if [ -z "$VAR" ]``),
otherwise from the built-in list per release (``tasks.upgrade.catalogue``).

Values are read only to test that they are set and well formed; no result of
this module carries a value, so nothing secret reaches the state, the screen,
the journal or the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tasks.errors import CrvsError
from tasks.session.state import now_iso
from tasks.upgrade.catalogue import RELEASES_BY_VERSION, deploy_optional_env, deploy_required_env

DEPLOY_SH = Path("infrastructure") / "deploy.sh"
CSP_WILDCARD = "CONTENT_SECURITY_POLICY_WILDCARD"

# `if [ -z "$VAR" ]`, `if [[ -z ${VAR} ]]`, with or without quotes and spaces.
_Z_CHECK = re.compile(r"""\bif\s+\[\[?\s*-z\s+"?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?"?\s*\]\]?""")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


class EnvFileError(CrvsError):
    title = "The environment file cannot be read"


@dataclass(frozen=True)
class RequiredEnv:
    names: tuple[str, ...]
    # Where the list came from, in the operator's words.
    source: str
    optional: tuple[str, ...] = ()


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
            missing=list(self.missing),
            present=list(self.present),
            invalid=[EnvProblemRecord(p.name, p.reason) for p in self.invalid],
            unused=list(self.unused),
        )


def parse_deploy_sh(text: str) -> list[str]:
    """Names of the variables a deploy.sh exits on when empty, in script order."""
    names: list[str] = []
    for match in _Z_CHECK.finditer(text):
        name = match.group(1)
        if name.isupper() and name not in names:
            names.append(name)
    return names


def required_env(config_path: Path | None, target_version: str) -> RequiredEnv:
    """The target's required deploy variables: from its deploy.sh, else the built-in list."""
    optional: tuple[str, ...] = ()
    if target_version in RELEASES_BY_VERSION:
        optional = deploy_optional_env(target_version)
    if config_path is not None:
        script = Path(config_path) / DEPLOY_SH
        try:
            text = script.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        names = parse_deploy_sh(text)
        if names:
            return RequiredEnv(tuple(names), f"{DEPLOY_SH} in {config_path}", optional)
    if target_version not in RELEASES_BY_VERSION:
        raise CrvsError(
            f"No deploy.sh to read and no built-in list for version {target_version!r}.",
            "Unknown target version",
        )
    return RequiredEnv(
        deploy_required_env(target_version), f"built-in list for {target_version}", optional
    )


def read_env_files(paths: Iterable[Path]) -> dict[str, str]:
    """Merge dotenv files in order (later files win). Raises ``EnvFileError``."""
    from dotenv import dotenv_values

    merged: dict[str, str] = {}
    for path in paths:
        path = Path(path).expanduser()
        if not path.is_file():
            raise EnvFileError(f"{path} does not exist or is not a file.")
        try:
            values = dotenv_values(path, interpolate=False)
        except (OSError, UnicodeDecodeError) as exc:
            raise EnvFileError(f"{path}: {exc.__class__.__name__}") from None
        for name, value in values.items():
            merged[name] = "" if value is None else value
    return merged


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
) -> EnvCheck:
    """Compare ``env`` with ``required``. An empty value counts as missing (deploy.sh tests -z)."""
    result = EnvCheck(required=required, files=[str(f) for f in files])
    for name in required.names:
        if (env.get(name) or "").strip():
            result.present.append(name)
        else:
            result.missing.append(name)
    domain = domain or (env.get("DOMAIN") or "").strip() or None
    wildcard = (env.get(CSP_WILDCARD) or "").strip()
    if wildcard:
        problem = csp_wildcard_problem(wildcard, domain)
        if problem:
            result.invalid.append(EnvProblem(CSP_WILDCARD, problem))
    result.unused = [n for n in removed if (env.get(n) or "").strip()]
    return result


def check_env_files(
    paths: Iterable[Path],
    config_path: Path | None,
    target_version: str,
    *,
    domain: str | None = None,
) -> EnvCheck:
    paths = [Path(p) for p in paths]
    required = required_env(config_path, target_version)
    env = read_env_files(paths)
    removed: tuple[str, ...] = ()
    release = RELEASES_BY_VERSION.get(target_version)
    if release is not None:
        removed = release.removed_env
    return check_env(env, required, files=paths, domain=domain, removed=removed)


# Where country configs keep the deploy's variables (dotenv), most specific first.
ENV_FILE_NAMES = (".env.production", ".env.qa", ".env")


def suggested_env_file(config_path: Path) -> str:
    """An env file in the country config checkout, when it has one."""
    for name in ENV_FILE_NAMES:
        path = Path(config_path) / name
        if path.is_file():
            return str(path)
    return ""
