"""The operator's words for what the session stores: times, durations, answers, statuses.

The report never prints a stored key or a raw value: times read ``2024-05-04 19:05:10 UTC``,
durations ``12 min 30 s`` (``tasks.units``), sizes in GiB, yes/no answers as answers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tasks.session.phases import PhaseStatus, StepStatus
from tasks.text import strip_control
from tasks.units import fmt_bytes, fmt_elapsed
from tasks.upgrade.answers import Answers, EnvironmentAnswers, EnvironmentId

NOT_NAMED = "Not named yet: name the installation in Prepare (phase 1)"


def parse_time(text: str | None) -> datetime | None:
    """A stored ISO time as an aware datetime (a naive one is taken as UTC); None if unset."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def when(text: str | None) -> str:
    """``2024-05-04 19:05:10 UTC``; "" when unset; an unreadable value as it is (stripped)."""
    value = parse_time(text)
    if value is None:
        return strip_control(str(text or ""))
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def when_local(text: str | None) -> str:
    """A typed time as typed, in its own zone: ``2024-05-04 22:00 (UTC+03:00)``."""
    value = parse_time(text)
    if value is None:
        return strip_control(str(text or ""))
    offset = value.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{value:%Y-%m-%d %H:%M} ({zone})"


def seconds_between(start: str | None, end: str | None) -> float | None:
    a, b = parse_time(start), parse_time(end)
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 0:
        return "-" + fmt_elapsed(-seconds)
    return fmt_elapsed(seconds)


def size(n_bytes: int | float | None) -> str:
    return "" if n_bytes is None else fmt_bytes(n_bytes)


def health(status: str) -> str:
    """A stored health status (``pass``, ``warn``, ...) as Cluster health shows it."""
    from tasks.servers.health import Health

    try:
        found = Health(status)
    except ValueError:
        return strip_control(status)
    return f"{found.glyph} {found.label}"


def yes_no(value: bool | None) -> str:
    return "not answered" if value is None else ("yes" if value else "no")


def phase_status(status: PhaseStatus) -> str:
    return f"{status.glyph} {status.label}"


def step_status(status: StepStatus) -> str:
    return f"{status.glyph} {status.label}"


def _env_line(env: EnvironmentAnswers) -> str:
    parts = []
    if env.cluster_size is not None:
        parts.append(f"{env.cluster_size} server{'s' if env.cluster_size != 1 else ''}")
    spec = [
        f"{env.ram_gb} GB RAM" if env.ram_gb is not None else "",
        f"{env.cpus} CPUs" if env.cpus is not None else "",
        f"{env.disk_gb} GB disk" if env.disk_gb is not None else "",
    ]
    if any(spec):
        parts.append(", ".join(s for s in spec if s) + " each")
    if env.inventory_path:
        parts.append(f"inventory {env.inventory_path}")
    if env.servers:
        free = ", ".join(
            f"{s.node} {s.free_disk_gb:g} GB disk and {s.free_ram_gb:g} GB RAM free"
            for s in env.servers
        )
        parts.append(f"free: {free}")
    return "; ".join(parts) or "no details"


def answer_rows(answers: Answers) -> list[tuple[str, str]]:
    """Prepare's questions and the answers given, as the form asks them."""
    a = answers
    rows: list[tuple[str, str]] = [
        ("Country config checkout", a.config_path or "not answered"),
        ("opencrvs-core checkout", a.core_path or "not answered"),
        (
            "1. Version in use",
            (a.current_version or "not answered")
            + (
                f" (detected {a.detected_version})"
                if a.detected_version and a.detected_version != a.current_version
                else ""
            ),
        ),
        ("2. Version to upgrade to", a.target_version or "not answered"),
        ("3. Customisations to opencrvs-core", yes_no(a.core_customised)),
    ]
    if a.core_customised:
        rows += [
            ("Customised core checkout", a.core_fork_path or "not answered"),
            ("Core's upstream remote", a.core_upstream_remote or "not answered"),
        ]
    rows.append(("4. Integrations (API or system clients)", yes_no(a.integrations)))
    if a.integrations:
        rows.append(("Integrated systems", a.integrations_list or "not answered"))
    rows += [
        ("5. OpenCRVS completely configured", yes_no(a.fully_configured)),
        ("6. Real registrar users", yes_no(a.real_registrars)),
        (
            "7. Registering real citizens",
            a.real_citizens.label if a.real_citizens is not None else "not answered",
        ),
        ("8. Deployed to servers", yes_no(a.deployed)),
    ]
    if a.deployed:
        rows.append(
            (
                "Servers",
                a.server_kind.value if a.server_kind is not None else "not answered",
            )
        )
        for env_id in EnvironmentId:
            env = a.environments.get(env_id)
            if env is not None:
                rows.append((f"{env_id.label} environment", _env_line(env)))
        rows += [
            ("Backup server provisioned", yes_no(a.backup_server)),
            ("Automated emergency backups", yes_no(a.automated_backups)),
        ]
    return rows
