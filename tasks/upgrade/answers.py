"""The operator's answers to the preparation questions (Step 1 of the migration notes).

Stored in ``session.answers`` through ``Answers.to_state()`` / ``Answers.from_state()``.
An unanswered question is ``None`` (or an empty string) and is simply absent
from the state file, so a half-done form resumes exactly.

``field_problems`` is the one place that says whether a given answer is valid;
the Prepare form shows its messages next to the fields, and ``problems()``
decides whether the form is complete.
"""

from __future__ import annotations

from dataclasses import field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from tasks.lean import dataclass, regex
from tasks.names import remote_name_problem
from tasks.session.state import Session
from tasks.upgrade.catalogue import latest_version
from tasks.upgrade.detect import file_problem, git_checkout_problem
from tasks.upgrade.versions import PathKind, parse_version, upgrade_path

# Documented server spec per server (OpenCRVS 1.3 docs).
SPEC_RAM_GB = 16
SPEC_CPUS = 8
SPEC_DISK_GB = 320
CLUSTER_SIZES = (1, 3, 5)


class CitizenRegistration(StrEnum):
    NO = "no"
    TESTING = "testing"
    PRODUCTION = "production"

    @property
    def label(self) -> str:
        return {"no": "No", "testing": "In testing", "production": "In production"}[self.value]


class ServerKind(StrEnum):
    DEDICATED = "dedicated"
    SHARED = "shared"


class EnvironmentId(StrEnum):
    STAGING = "staging"
    QA = "qa"
    PRODUCTION = "production"

    @property
    def label(self) -> str:
        return ENVIRONMENT_LABELS[self]


ENVIRONMENT_LABELS = {
    EnvironmentId.STAGING: "Development / staging",
    EnvironmentId.QA: "QA",
    EnvironmentId.PRODUCTION: "Production",
}
# Environments that an Ansible inventory is asked for (the ones crvs-migrate deploys to).
INVENTORY_ENVIRONMENTS = (EnvironmentId.QA, EnvironmentId.PRODUCTION)


@dataclass
class ServerFree:
    """Free disk and RAM on one server, typed in or filled from a Cluster health run."""

    node: str
    free_disk_gb: float
    free_ram_gb: float


_SERVER_FREE = regex(
    r"^\s*(?P<node>[A-Za-z0-9][A-Za-z0-9._-]{0,62})\s*=\s*(?P<disk>\d+(?:\.\d+)?)\s*/\s*(?P<ram>\d+(?:\.\d+)?)\s*$"
)


def parse_server_free(text: str) -> list[ServerFree]:
    """``"manager1=200/12, worker1=180/10"`` (name=free disk GB/free RAM GB) -> list.

    Raises ``ValueError`` naming the part that does not read.
    """
    servers: list[ServerFree] = []
    for part in (p for p in text.split(",") if p.strip()):
        match = _SERVER_FREE.match(part)
        if not match:
            raise ValueError(
                f"'{part.strip()}' does not read: write name=free disk GB/free RAM GB, "
                "e.g. manager1=200/12"
            )
        servers.append(ServerFree(match["node"], _number(match["disk"]), _number(match["ram"])))
    return servers


def format_server_free(servers: list[ServerFree]) -> str:
    return ", ".join(f"{s.node}={_fmt(s.free_disk_gb)}/{_fmt(s.free_ram_gb)}" for s in servers)


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


@dataclass
class EnvironmentAnswers:
    """One server environment (staging, QA or production) and its servers."""

    ram_gb: int | None = None
    cpus: int | None = None
    disk_gb: int | None = None
    cluster_size: int | None = None
    # Optional: the Ansible inventory file (QA and production only).
    inventory_path: str = ""
    servers: list[ServerFree] = field(default_factory=list)

    def to_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("ram_gb", "cpus", "disk_gb", "cluster_size"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.inventory_path:
            out["inventory_path"] = self.inventory_path
        if self.servers:
            out["servers"] = [
                {"node": s.node, "free_disk_gb": s.free_disk_gb, "free_ram_gb": s.free_ram_gb}
                for s in self.servers
            ]
        return out

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> EnvironmentAnswers:
        env = cls(
            ram_gb=_int_or_none(data.get("ram_gb")),
            cpus=_int_or_none(data.get("cpus")),
            disk_gb=_int_or_none(data.get("disk_gb")),
            cluster_size=_int_or_none(data.get("cluster_size")),
            inventory_path=str(data.get("inventory_path", "")),
        )
        for row in data.get("servers", []) or []:
            try:
                env.servers.append(
                    ServerFree(
                        str(row["node"]), float(row["free_disk_gb"]), float(row["free_ram_gb"])
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue  # a damaged row costs that row, not the form
        return env


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _bool_or_none(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass
class Answers:
    """Every preparation question. ``None`` / ``""`` means not answered yet.

    The ``answers`` section of the session (``Answers.of(session)``).
    """

    KEY: ClassVar[str] = "answers"

    # 1. Current version (detected from the country config, editable).
    current_version: str = ""
    # What detection found, kept to show "detected" beside the answer.
    detected_version: str = ""
    # 2. Target version: one of the known releases, default the latest.
    target_version: str = field(default_factory=latest_version)
    # 3. Customisations to opencrvs-core.
    core_customised: bool | None = None
    core_fork_path: str = ""
    core_upstream_remote: str = ""
    # 4. Integrations through the API or system clients.
    integrations: bool | None = None
    integrations_list: str = ""
    # 5-7.
    fully_configured: bool | None = None
    real_registrars: bool | None = None
    real_citizens: CitizenRegistration | None = None
    # 8. Deployed to servers, and the details.
    deployed: bool | None = None
    server_kind: ServerKind | None = None
    environments: dict[EnvironmentId, EnvironmentAnswers] = field(default_factory=dict)
    backup_server: bool | None = None
    automated_backups: bool | None = None
    # Local checkouts.
    core_path: str = ""
    config_path: str = ""

    # -- state -----------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "environments":
                continue
            value = getattr(self, f.name)
            if value is None or value == "":
                continue
            out[f.name] = value.value if isinstance(value, StrEnum) else value
        if self.environments:
            out["environments"] = {
                env.value: answers.to_state()
                for env, answers in sorted(
                    self.environments.items(), key=lambda kv: _env_order(kv[0])
                )
            }
        return out

    @classmethod
    def from_state(cls, data: dict[str, Any] | None) -> Answers:
        """Read what is there; anything unreadable is treated as not answered."""
        data = data or {}
        # A target in the file is used as it is: only its default, the latest release,
        # reads the release catalogue (not needed before the first screen).
        given = data.get("target_version")
        answers = cls(target_version=given) if isinstance(given, str) else cls()
        for name in (
            "current_version",
            "detected_version",
            "target_version",
            "core_fork_path",
            "core_upstream_remote",
            "integrations_list",
            "core_path",
            "config_path",
        ):
            if isinstance(data.get(name), str):
                setattr(answers, name, data[name])
        for name in (
            "core_customised",
            "integrations",
            "fully_configured",
            "real_registrars",
            "deployed",
            "backup_server",
            "automated_backups",
        ):
            setattr(answers, name, _bool_or_none(data.get(name)))
        answers.real_citizens = _enum_or_none(CitizenRegistration, data.get("real_citizens"))
        answers.server_kind = _enum_or_none(ServerKind, data.get("server_kind"))
        envs = data.get("environments", {})
        if isinstance(envs, dict):
            for key, value in envs.items():
                env = _enum_or_none(EnvironmentId, key)
                if env is not None and isinstance(value, dict):
                    answers.environments[env] = EnvironmentAnswers.from_state(value)
        return answers

    @classmethod
    def of(cls, session: Session) -> Answers:
        return session.section(cls)

    # -- convenience -----------------------------------------------------

    def has(self, env: EnvironmentId) -> bool:
        return env in self.environments

    def environment(self, env: EnvironmentId) -> EnvironmentAnswers:
        return self.environments.setdefault(env, EnvironmentAnswers())

    # -- validity ----------------------------------------------------------

    def problems(self) -> list[tuple[str, str]]:
        """Every (field, reason) that keeps the form from being complete, in form order."""
        return [(name, reason) for name in form_fields(self) if (reason := self.problem(name))]

    @property
    def complete(self) -> bool:
        return not self.problems()

    def problem(self, name: str) -> str | None:
        """Why the answer to ``name`` is missing or invalid; ``None`` when it is fine."""
        if name.startswith("env."):
            _, env_id, attr = name.split(".", 2)
            env = self.environments.get(EnvironmentId(env_id))
            if env is None:
                return None
            return _environment_problem(env, attr)
        return _FIELD_CHECKS[name](self)


def _enum_or_none(enum: type[StrEnum], value: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        return None


def _env_order(env: EnvironmentId) -> int:
    return list(EnvironmentId).index(env)


# -- field checks (pure; the filesystem checks live in tasks.upgrade.detect) -------


def version_problem(text: str) -> str | None:
    try:
        version = parse_version(text)
    except ValueError as exc:
        return str(exc)
    if version.major != 1:
        return f"{version} is not an OpenCRVS 1.x version"
    return None


def target_problem(current: str, target: str) -> str | None:
    if problem := version_problem(target):
        return problem
    if not current or version_problem(current):
        return None  # judged once the current version is known
    path = upgrade_path(parse_version(current), parse_version(target))
    if path.kind in (PathKind.DOWNGRADE, PathKind.SAME, PathKind.UNKNOWN_TARGET):
        return path.explanation
    return None


def positive_int_problem(text: str, what: str = "number") -> str | None:
    value = text.strip()
    if not value:
        return f"Enter the {what}"
    if not value.isdigit():
        return f"'{value}' is not a whole number"
    if int(value) <= 0:
        return "Must be more than 0"
    return None


def cluster_size_problem(text: str) -> str | None:
    value = text.strip()
    if not value:
        return "Enter 1, 3 or 5"
    if value not in {str(n) for n in CLUSTER_SIZES}:
        return f"'{value}': OpenCRVS runs on a cluster of 1, 3 or 5 servers"
    return None


def _required(value: Any) -> str | None:
    return "Not answered yet" if value is None else None


INSTALLATION_NAME_MAX = 80


def installation_problem(text: str) -> str | None:
    """The installation's name (``Session.installation``: the report's title): optional,
    one line of plain words."""
    if len(text.strip()) > INSTALLATION_NAME_MAX:
        return f"keep it under {INSTALLATION_NAME_MAX} characters"
    if any(not ch.isprintable() for ch in text):
        return "plain text only: no control characters"
    return None


def _path_problem(text: str, what: str) -> str | None:
    if not text.strip():
        return f"Enter the path of your {what} checkout"
    return git_checkout_problem(text)


def _inventory_problem(text: str) -> str | None:
    return file_problem(text) if text.strip() else None


_FIELD_CHECKS = {
    "current_version": lambda a: version_problem(a.current_version),
    "target_version": lambda a: target_problem(a.current_version, a.target_version),
    "core_customised": lambda a: _required(a.core_customised),
    "core_fork_path": lambda a: (
        _path_problem(a.core_fork_path, "core fork") if a.core_customised else None
    ),
    "core_upstream_remote": lambda a: (
        remote_name_problem(a.core_upstream_remote) if a.core_customised else None
    ),
    "integrations": lambda a: _required(a.integrations),
    "integrations_list": lambda a: (
        "List the systems you integrated with"
        if a.integrations and not a.integrations_list.strip()
        else None
    ),
    "fully_configured": lambda a: _required(a.fully_configured),
    "real_registrars": lambda a: _required(a.real_registrars),
    "real_citizens": lambda a: _required(a.real_citizens),
    "deployed": lambda a: _required(a.deployed),
    "server_kind": lambda a: _required(a.server_kind) if a.deployed else None,
    "environments": lambda a: (
        "Tick the environments you have" if a.deployed and not a.environments else None
    ),
    "backup_server": lambda a: _required(a.backup_server) if a.deployed else None,
    "automated_backups": lambda a: _required(a.automated_backups) if a.deployed else None,
    "core_path": lambda a: _path_problem(a.core_path, "opencrvs-core"),
    "config_path": lambda a: _path_problem(a.config_path, "country config"),
}

ENV_FIELDS = ("ram_gb", "cpus", "disk_gb", "cluster_size", "inventory_path")


def _environment_problem(env: EnvironmentAnswers, attr: str) -> str | None:
    if attr in ("ram_gb", "cpus", "disk_gb"):
        value = getattr(env, attr)
        if value is None:
            return "Not answered yet"
        return "Must be more than 0" if value <= 0 else None
    if attr == "cluster_size":
        return cluster_size_problem("" if env.cluster_size is None else str(env.cluster_size))
    if attr == "inventory_path":
        return _inventory_problem(env.inventory_path)
    return None


def form_fields(answers: Answers) -> list[str]:
    """The fields of the form in order, with the per-environment ones of answered environments."""
    names = [
        "config_path",
        "core_path",
        "current_version",
        "target_version",
        "core_customised",
        "core_fork_path",
        "core_upstream_remote",
        "integrations",
        "integrations_list",
        "fully_configured",
        "real_registrars",
        "real_citizens",
        "deployed",
        "server_kind",
        "environments",
    ]
    if answers.deployed:
        for env in EnvironmentId:
            if env in answers.environments:
                names += [f"env.{env.value}.{attr}" for attr in ENV_FIELDS]
    names += ["backup_server", "automated_backups"]
    return names


def resolve_answer_path(text: str, config_path: str = "") -> Path:
    """A path as answered in Prepare, made absolute: ``~`` expanded, and a relative path
    taken relative to the country config checkout (where inventories and env files live)."""
    path = Path(text.strip()).expanduser()
    if not path.is_absolute():
        base = Path(config_path.strip()).expanduser() if config_path.strip() else Path.cwd()
        path = base / path
    return path.absolute()


INVENTORY_HOME = Path("infrastructure") / "server-setup"


def suggested_inventory(config_path: str, env: EnvironmentId) -> str:
    """``infrastructure/server-setup/<env>.ini`` in the country config, when it is there."""
    if not config_path.strip():
        return ""
    path = resolve_answer_path(str(INVENTORY_HOME / f"{env.value}.ini"), config_path)
    return str(path) if path.is_file() else ""
