"""Writing the report: from the app (Markdown and HTML into the session's reports folder) or
from the command line (``crvs-migrate report``), the same document either way.

Reading only: the session, its journal and the crash reports beside it are read, never
written, and the session's lock is not taken (a report of a session in use is a snapshot).

No secret values: every text is masked (``tasks.masking``) as it enters the document, and as
a last guard every value of the env files the session points to is scrubbed from the
document before it is rendered, and again from the rendered text (in its escaped forms).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from tasks.lean import dataclass
from tasks.masking import MASK, is_secret_name
from tasks.release.publish import ReleaseRecord
from tasks.report.document import Report, build_report
from tasks.report.inputs import ReportInput
from tasks.report.render import css_string, md_cell, render_html, render_markdown
from tasks.session.journal import Journal, operator_identity
from tasks.session.state import Session, write_atomic
from tasks.session.workspace import Workspace

# Values shorter than this are too common to scrub safely ("yes", "qa", "3").
_MIN_SCRUB = 6
FORMATS = ("md", "html")
# Deploy variables that name public things the report shows on purpose (the domain, the
# Docker Hub account in every image name, users, hosts): their values are not scrubbed.
# Any other variable's value is, whatever its name (errs on the side of hiding).
PUBLIC_VARIABLES = frozenset(
    {
        "DOMAIN",
        "REPLICAS",
        "DOCKERHUB_ACCOUNT",
        "DOCKERHUB_REPO",
        "CONTENT_SECURITY_POLICY_WILDCARD",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_USERNAME",
        "ALERT_EMAIL",
        "SENDER_EMAIL_ADDRESS",
        "KIBANA_USERNAME",
        "MINIO_ROOT_USER",
        "MONGODB_ADMIN_USER",
        "SSH_USER",
        "SSH_HOST",
        "LOG_LOCATION",
        "INFOBIP_GATEWAY_ENDPOINT",
        "INFOBIP_SENDER_ID",
    }
)


def env_values_to_scrub(session: Session) -> list[str]:
    """Every value in the env files named in the session (but the public ones), longest
    first."""
    from tasks.release.env_check import read_env_files

    check = ReleaseRecord.of(session).env_check
    files = check.files if check is not None else []
    values: set[str] = set()
    for name in files:
        try:
            env = read_env_files([Path(name)], strict=False)
        except Exception:  # noqa: BLE001 - a moved file just means nothing to scrub from it
            continue
        values.update(
            v
            for k, v in env.items()
            if len(v) >= _MIN_SCRUB and (k not in PUBLIC_VARIABLES or is_secret_name(k))
        )
    return sorted(values, key=len, reverse=True)


def _scrub_text(value: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        value = value.replace(secret, MASK)
    return value


def scrub_report(report: Report, secrets: list[str]) -> Report:
    """``report`` with every secret value replaced, in every text it holds."""
    if not secrets:
        return report
    report.title = _scrub_text(report.title, secrets)
    report.page_header = _scrub_text(report.page_header, secrets)
    report.generated_by = _scrub_text(report.generated_by, secrets)
    for part in report.parts:
        part.title = _scrub_text(part.title, secrets)
        for section in part.sections:
            section.title = _scrub_text(section.title, secrets)
            for b in section.blocks:
                b.text = _scrub_text(b.text, secrets)
                b.pairs = [(_scrub_text(k, secrets), _scrub_text(v, secrets)) for k, v in b.pairs]
                b.headers = [_scrub_text(h, secrets) for h in b.headers]
                b.rows = [[_scrub_text(c, secrets) for c in row] for row in b.rows]
                b.items = [_scrub_text(i, secrets) for i in b.items]
    return report


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The rendered text with each secret removed in every form rendering gives it."""
    for value in secrets:
        forms = {
            value,
            html.escape(value, quote=True),
            html.escape(value, quote=False),
            md_cell(value),
            css_string(value)[1:-1],
        }
        for form in forms:
            text = text.replace(form, MASK)
    return text


def read_input(session: Session, journal: Journal, state_path: Path) -> ReportInput:
    """Everything the report is made of; crash reports are looked for beside the session."""
    return ReportInput.read(
        session,
        journal.entries(),
        crash_dir=Path(state_path).expanduser().absolute().parent,
        exported_by=operator_identity(),
    )


def render(report_input: ReportInput, fmt: str) -> str:
    """The report as ``md`` or ``html`` text, secrets scrubbed."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    secrets = env_values_to_scrub(report_input.session)
    report = scrub_report(build_report(report_input), secrets)
    out = render_markdown(report) if fmt == "md" else render_html(report)
    return scrub(out, secrets)


@dataclass(frozen=True)
class ExportedReport:
    markdown: Path
    html: Path


def export_report(workspace: Workspace, session: Session) -> ExportedReport:
    """Write the report as Markdown and HTML into ``workspace.reports_dir`` (0600, atomic)."""
    inp = read_input(session, workspace.journal, workspace.state_path)
    out_dir = workspace.reports_dir
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    base = f"crvs-migrate-report-{session.session_id}-{stamp}"
    md_path, html_path = out_dir / f"{base}.md", out_dir / f"{base}.html"
    write_atomic(md_path, render(inp, "md").encode("utf-8"))
    write_atomic(html_path, render(inp, "html").encode("utf-8"))
    return ExportedReport(md_path, html_path)
