"""The OpenCRVS 1.3.x releases crvs-migrate knows: the one place that says what each release needs.

The facts are data, in ``assets/releases.toml`` (each one citing the CHANGELOG section, file
or tag diff it was read from). This module reads that file once, checks every field (schema,
versions in order, dates, variable names, phases, known keys) and refuses a mistake with a
``CatalogueError`` that names the entry and the field. Adding 1.3.6 is one ``[[release]]``
entry in the data file; nothing here changes.

``bundled_catalogue()`` is the bundled file, read and checked the first time it is asked
for (about 4 ms: a resume's first screen does not wait for it), then kept; the
``deploy_*`` helpers read it. ``load_catalogue(path)`` reads another file (tests, a newer
catalogue).
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import field
from pathlib import Path
from typing import Any

from assets import asset
from tasks.errors import CrvsError
from tasks.lean import LazyPattern, dataclass, regex
from tasks.session.phases import PHASE_IDS

SCHEMA = 1
DATA_FILE = "releases.toml"

_VERSION = regex(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
_ENV_NAME = regex(r"^[A-Z_][A-Z0-9_]{0,127}$")
_ID = regex(r"^[a-z][a-z0-9_]{0,63}$")
_MIGRATION_NAME = regex(r"^\d{14}-[a-z0-9][a-z0-9-]{0,99}$")
_SERVICE = regex(r"^[a-z][a-z0-9-]{0,31}$")
# A tag or branch name as upstream spells them (checked again by git where it is used).
_REF = regex(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")


class CatalogueError(CrvsError):
    title = "The release catalogue is invalid"


@dataclass(frozen=True)
class ManualStep:
    """A step the operator does by hand, named by a stable id the plan and screens share."""

    id: str
    # The phase it belongs to (an id from tasks.session.phases).
    phase: str
    title: str
    # Why it is part of the upgrade, in the operator's words.
    why: str = ""
    # Recommended, not required: it never keeps its phase from being done.
    recommended: bool = False
    source: str = ""

    def __str__(self) -> str:
        return self.title


@dataclass(frozen=True)
class Migration:
    """An automatic data migration that core's migration service runs when the release is deployed."""

    # The database it migrates (a folder of core's packages/migration/src/migrations).
    service: str
    # The migration's file name without .ts, as core's migration log prints it.
    name: str
    what: str
    # What it walks through: its cost grows with the number of these.
    scope: str
    source: str = ""

    @property
    def label(self) -> str:
        return f"{self.service} {self.name}"


@dataclass(frozen=True)
class Notice:
    """Something the plan warns about when an upgrade crosses (or ends at) the release."""

    code: str
    message: str
    phases: tuple[str, ...] = ()
    # Only when the upgrade stops at this release (the next one undoes the reason).
    only_as_target: bool = False
    source: str = ""


@dataclass(frozen=True)
class Release:
    version: str
    date: str
    summary: str
    # Upgrading *to* this release from an earlier one needs:
    # re-running the Ansible playbooks on servers already set up.
    ansible_run: bool = False
    # What the playbooks change (also when re-running them is not required).
    playbook_change: str = ""
    migrations: tuple[Migration, ...] = ()
    new_required_env: tuple[str, ...] = ()
    optional_env: tuple[str, ...] = ()
    removed_env: tuple[str, ...] = ()
    manual_steps: tuple[ManualStep, ...] = field(default_factory=tuple)
    notices: tuple[Notice, ...] = ()
    dependency_changes: tuple[str, ...] = ()
    # The notes call 1.3.1 "incompatible": crossing it is not a plain hotfix.
    incompatible: bool = False
    # What to merge (country config) or check out (core), in order of preference;
    # empty means the default: the tag v<version>, then the branch release-v<version>.
    upstream_refs: tuple[str, ...] = ()
    upstream_refs_why: str = ""
    # (fact key, citation) pairs: where each fact above was read.
    sources: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[int, int, int]:
        major, minor, patch = (int(x) for x in self.version.split("."))
        return (major, minor, patch)

    @property
    def data_migration(self) -> bool:
        """Does deploying it run automatic data migrations?"""
        return bool(self.migrations)

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def refs(self) -> tuple[str, ...]:
        """Upstream refs that hold this release, best first."""
        return self.upstream_refs or (self.tag, f"release-v{self.version}")

    def source(self, fact: str) -> str:
        return dict(self.sources).get(fact, "")


@dataclass(frozen=True)
class DeployBase:
    """``infrastructure/deploy.sh`` as shipped with the first release of the catalogue."""

    arguments: tuple[str, ...]
    required_env: tuple[str, ...]
    optional_env: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Catalogue:
    releases: tuple[Release, ...]
    deploy: DeployBase
    path: str = ""

    @property
    def by_version(self) -> dict[str, Release]:
        return {r.version: r for r in self.releases}

    @property
    def latest(self) -> Release:
        return self.releases[-1]

    def up_to(self, version: str) -> list[Release]:
        if version not in self.by_version:
            raise KeyError(version)
        key = self.by_version[version].key
        return [r for r in self.releases if r.key <= key]

    def deploy_required_env(self, version: str) -> tuple[str, ...]:
        """Variables the deploy of ``version`` exits on when missing (upstream's deploy.sh)."""
        names = list(self.deploy.required_env)
        for release in self.up_to(version):
            names += [n for n in release.new_required_env if n not in names]
            names = [n for n in names if n not in release.removed_env]
        return tuple(names)

    def deploy_optional_env(self, version: str) -> tuple[str, ...]:
        """Optional deploy variables of ``version`` (added and removed release by release)."""
        names = list(self.deploy.optional_env)
        for release in self.up_to(version):
            names += [n for n in release.optional_env if n not in names]
            names = [n for n in names if n not in release.removed_env]
        return tuple(names)

    def removed_env_up_to(self, version: str) -> tuple[str, ...]:
        """Variables some release up to ``version`` stopped reading (and none read again)."""
        live = set(self.deploy_required_env(version)) | set(self.deploy_optional_env(version))
        names: list[str] = []
        for release in self.up_to(version):
            names += [n for n in release.removed_env if n not in names and n not in live]
        return tuple(names)


# -- loading and checking ------------------------------------------------------------


class _Checker:
    """Reads one table of the data file, naming ``where`` in every error."""

    def __init__(self, data: Any, where: str, file: str) -> None:
        self.file = file
        self.where = where
        if not isinstance(data, dict):
            self.fail(None, f"must be a table, not {_kind(data)}")
        self.data: dict[str, Any] = data

    def fail(self, key: str | None, problem: str) -> None:
        field_part = f", field '{key}'" if key else ""
        raise CatalogueError(f"{self.file}: {self.where}{field_part}: {problem}.")

    def known(self, keys: set[str]) -> None:
        unknown = sorted(set(self.data) - keys)
        if unknown:
            self.fail(unknown[0], f"unknown key (known keys: {', '.join(sorted(keys))})")

    def text(self, key: str, *, required: bool = False, pattern: LazyPattern | None = None) -> str:
        if key not in self.data:
            if required:
                self.fail(key, "is missing")
            return ""
        value = self.data[key]
        if not isinstance(value, str):
            self.fail(key, f"must be a string, not {_kind(value)}")
        value = value.strip()
        if required and not value:
            self.fail(key, "is empty")
        if pattern is not None and not pattern.match(value):
            self.fail(key, f"{value!r} is not of the expected form")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def names(self, key: str, pattern: LazyPattern, what: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            self.fail(key, f"must be a list, not {_kind(value)}")
        out: list[str] = []
        for item in value:
            if not isinstance(item, str) or not pattern.match(item):
                self.fail(key, f"{item!r} is not {what}")
            if item in out:
                self.fail(key, f"{item} is listed twice")
            out.append(item)
        return tuple(out)

    def tables(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            self.fail(key, f"must be a list of tables ([[...]]), not {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    return {
        dict: "a table",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


_RELEASE_KEYS = {
    "version",
    "date",
    "summary",
    "incompatible",
    "upstream_refs",
    "upstream_refs_why",
    "new_required_env",
    "optional_env",
    "removed_env",
    "dependency_changes",
    "ansible",
    "migration",
    "manual_step",
    "notice",
    "sources",
}
# Facts that must cite a source when present (migrations, steps and notices carry their own).
_CITED = (
    "incompatible",
    "upstream_refs",
    "new_required_env",
    "optional_env",
    "removed_env",
    "dependency_changes",
    "ansible",
)
_SOURCE_KEYS = {"date", "summary", *_CITED}


def _date(check: _Checker, key: str) -> str:
    value = check.data.get(key)
    if value is None:
        check.fail(key, "is missing")
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        check.fail(key, f"must be a date such as 2024-05-02, not {_kind(value)}")
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            check.fail(key, f"{value!r} is not a date such as 2024-05-02")
    assert isinstance(value, dt.date)
    if not dt.date(2015, 1, 1) <= value <= dt.date(2100, 1, 1):
        check.fail(key, f"{value} is not a plausible release date")
    return value.isoformat()


def _version_key(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(x) for x in version.split("."))
    return (major, minor, patch)


def _release(data: Any, index: int, file: str, previous: list[Release]) -> Release:
    label = f"release #{index + 1}"
    if isinstance(data, dict) and isinstance(data.get("version"), str):
        label = f"release {data['version'].strip()} (entry {index + 1})"
    check = _Checker(data, label, file)
    check.known(_RELEASE_KEYS)
    version = check.text("version", required=True, pattern=_VERSION)
    date = _date(check, "date")
    if previous:
        last = previous[-1]
        if _version_key(version) <= last.key:
            check.fail("version", f"{version} must come after {last.version} (entries in order)")
        if date < last.date:
            check.fail("date", f"{date} is before {last.version}'s date {last.date}")
    summary = check.text("summary", required=True)

    ansible_run, playbook_change = False, ""
    if "ansible" in check.data:
        sub = _Checker(check.data["ansible"], f"{label}, [release.ansible]", file)
        sub.known({"required", "what"})
        if "required" not in sub.data:
            sub.fail("required", "is missing (true: re-run the playbooks on existing servers)")
        ansible_run = sub.flag("required")
        playbook_change = sub.text("what", required=True)

    migrations = []
    for i, item in enumerate(check.tables("migration")):
        sub = _Checker(item, f"{label}, migration #{i + 1}", file)
        sub.known({"service", "name", "what", "scope", "source"})
        migrations.append(
            Migration(
                sub.text("service", required=True, pattern=_SERVICE),
                sub.text("name", required=True, pattern=_MIGRATION_NAME),
                sub.text("what", required=True),
                sub.text("scope", required=True),
                sub.text("source", required=True),
            )
        )

    steps = []
    for i, item in enumerate(check.tables("manual_step")):
        sub = _Checker(item, f"{label}, manual step #{i + 1}", file)
        sub.known({"id", "phase", "title", "why", "recommended", "source"})
        phase = sub.text("phase", required=True)
        if phase not in PHASE_IDS:
            sub.fail("phase", f"{phase!r} is not a phase (phases: {', '.join(PHASE_IDS)})")
        steps.append(
            ManualStep(
                sub.text("id", required=True, pattern=_ID),
                phase,
                sub.text("title", required=True),
                sub.text("why", required=True),
                sub.flag("recommended"),
                sub.text("source", required=True),
            )
        )

    notices = []
    for i, item in enumerate(check.tables("notice")):
        sub = _Checker(item, f"{label}, notice #{i + 1}", file)
        sub.known({"code", "message", "phases", "only_as_target", "source"})
        phases = sub.names("phases", _ID, "a phase id")
        for phase in phases:
            if phase not in PHASE_IDS:
                sub.fail("phases", f"{phase!r} is not a phase (phases: {', '.join(PHASE_IDS)})")
        notices.append(
            Notice(
                sub.text("code", required=True, pattern=_ID),
                sub.text("message", required=True),
                phases,
                sub.flag("only_as_target"),
                sub.text("source", required=True),
            )
        )

    sources: dict[str, str] = {}
    if "sources" in check.data:
        sub = _Checker(check.data["sources"], f"{label}, [release.sources]", file)
        sub.known(_SOURCE_KEYS)
        sources = {key: sub.text(key, required=True) for key in sub.data}
    if "date" not in sources:
        check.fail("sources", "has no 'date': say where the release date was read")
    for fact in _CITED:
        present = check.data.get(fact) not in (None, False, [], "")
        if present and fact not in sources:
            check.fail(fact, "has no source: add it to [release.sources]")

    return Release(
        version=version,
        date=date,
        summary=summary,
        ansible_run=ansible_run,
        playbook_change=playbook_change,
        migrations=tuple(migrations),
        new_required_env=check.names("new_required_env", _ENV_NAME, "an environment variable name"),
        optional_env=check.names("optional_env", _ENV_NAME, "an environment variable name"),
        removed_env=check.names("removed_env", _ENV_NAME, "an environment variable name"),
        manual_steps=tuple(steps),
        notices=tuple(notices),
        dependency_changes=check.names("dependency_changes", regex(r"^\S.*$"), "a text"),
        incompatible=check.flag("incompatible"),
        upstream_refs=check.names("upstream_refs", _REF, "a tag or branch name"),
        upstream_refs_why=check.text("upstream_refs_why"),
        sources=tuple(sorted(sources.items())),
    )


def _deploy_base(data: Any, file: str) -> DeployBase:
    check = _Checker(data, "[deploy]", file)
    check.known({"source", "arguments", "required_env", "optional_env"})
    arguments = check.names("arguments", _ENV_NAME, "a variable name")
    required = check.names("required_env", _ENV_NAME, "an environment variable name")
    optional = check.names("optional_env", _ENV_NAME, "an environment variable name")
    if not required:
        check.fail("required_env", "is empty")
    for name in optional:
        if name in required:
            check.fail("optional_env", f"{name} is also in required_env")
    for name in (*required, *optional):
        if name in arguments:
            check.fail("arguments", f"{name} is also an environment variable")
    return DeployBase(arguments, required, optional, check.text("source", required=True))


def parse_catalogue(text: str, file: str = DATA_FILE) -> Catalogue:
    """Check and read the catalogue in ``text``; raises ``CatalogueError`` naming entry and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{file}: is not valid TOML ({exc}).") from None
    top = _Checker(data, "the file", file)
    top.known({"schema", "deploy", "release"})
    if data.get("schema") != SCHEMA:
        top.fail("schema", f"must be {SCHEMA} (this crvs-migrate reads schema {SCHEMA})")
    if "deploy" not in data:
        top.fail("deploy", "is missing")
    deploy = _deploy_base(data["deploy"], file)
    releases: list[Release] = []
    for i, entry in enumerate(top.tables("release")):
        releases.append(_release(entry, i, file, releases))
    if not releases:
        top.fail("release", "has no entry")
    _check_env_history(deploy, releases, file)
    return Catalogue(tuple(releases), deploy, file)


def _check_env_history(deploy: DeployBase, releases: list[Release], file: str) -> None:
    """Each removal removes something there; each addition adds something new."""
    live = set(deploy.required_env) | set(deploy.optional_env)
    steps: set[str] = set()
    for index, release in enumerate(releases):
        where = f"release {release.version} (entry {index + 1})"
        check = _Checker({}, where, file)
        for key in ("new_required_env", "optional_env"):
            for name in getattr(release, key):
                if name in live:
                    check.fail(key, f"{name} is already read by the deploy of an earlier release")
                if name in deploy.arguments:
                    check.fail(key, f"{name} is a deploy.sh argument, not an environment variable")
        live |= set(release.new_required_env) | set(release.optional_env)
        for name in release.removed_env:
            if name not in live:
                check.fail("removed_env", f"{name} is not read by the deploy of an earlier release")
        live -= set(release.removed_env)
        for step in release.manual_steps:
            if step.id in steps:
                check.fail("manual_step", f"step id {step.id} is used by an earlier release")
            steps.add(step.id)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and check the catalogue: ``path``, or the one shipped in ``assets/``."""
    if path is None:
        source = asset(DATA_FILE)
        name = f"assets/{DATA_FILE}"
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogueError(f"{name}: cannot be read ({exc.strerror}).") from None
        return parse_catalogue(text, name)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot be read ({exc.__class__.__name__}).") from None
    return parse_catalogue(text, str(path))


@functools.cache
def bundled_catalogue() -> Catalogue:
    """The catalogue shipped in ``assets/releases.toml``, read on first use."""
    return load_catalogue()


def latest_version() -> str:
    """The newest 1.3.x release the bundled catalogue knows (Prepare's default target)."""
    return bundled_catalogue().latest.version


def deploy_required_env(version: str) -> tuple[str, ...]:
    """The built-in list of variables the deploy of ``version`` exits on when missing."""
    return bundled_catalogue().deploy_required_env(version)


def deploy_optional_env(version: str) -> tuple[str, ...]:
    """Optional deploy variables of ``version`` (added and removed release by release)."""
    return bundled_catalogue().deploy_optional_env(version)
