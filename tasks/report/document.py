"""The session as a change-management record: Markdown and self-contained HTML.

One model (sections of paragraphs, key/value lists, tables and trees) is built
from the session and the journal, then rendered twice. The HTML has its style
inline and no external asset (no link, script or image), so it can be mailed or
archived as one file.

No secret values: every text goes through ``tasks.masking`` (the journal masked
argv when it wrote them; older journals and free texts are masked again here),
keys that look like credentials are masked, and as a last guard every value from
the env files the operator pointed to is scrubbed from the output.
Untrusted text (remote output kept in the session) is stripped of control and bidi
characters, and the Markdown escapes HTML (a Markdown viewer renders raw HTML).
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tasks.masking import MASK, is_secret_name, mask_argv, mask_text
from tasks.release.gate import BackupRecord, compute_gate
from tasks.release.publish import ReleaseRecord
from tasks.session.journal import operator_identity
from tasks.session.phases import PHASES
from tasks.session.state import Session, now_iso, write_atomic
from tasks.session.workspace import Workspace
from tasks.text import sanitize
from tasks.upgrade.answers import Answers

# Values shorter than this are too common to scrub safely ("yes", "qa", "3").
_MIN_SCRUB = 6


@dataclass
class Block:
    kind: str  # "p" | "kv" | "table" | "tree"
    text: str = ""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    data: Any = None


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, text: str) -> None:
        self.blocks.append(Block("p", text=_fmt(text)))

    def kv(self, pairs: Iterable[tuple[str, Any]]) -> None:
        self.blocks.append(Block("kv", pairs=[(_fmt(k), _fmt(v)) for k, v in pairs]))

    def table(self, headers: list[str], rows: list[list[Any]]) -> None:
        self.blocks.append(
            Block("table", headers=headers, rows=[[_fmt(c) for c in r] for r in rows])
        )

    def tree(self, data: Any) -> None:
        self.blocks.append(Block("tree", data=_mask_tree(data)))


@dataclass
class Report:
    title: str
    generated_at: str
    sections: list[Section]


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value)
    return mask_text(sanitize(str(value)))


def _mask_tree(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            str(k): (MASK if is_secret_name(str(k)) and v not in ("", None) else _mask_tree(v))
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [_mask_tree(v) for v in data]
    return data


def _argv_text(argv: Any) -> str:
    if isinstance(argv, list):
        return shlex.join(mask_argv([str(a) for a in argv]))
    return _fmt(argv)


# -- building the model -------------------------------------------------------


def build_report(session: Session, journal_entries: Iterable[dict[str, Any]]) -> Report:
    answers = Answers.of(session)
    entries = list(journal_entries)
    commands = [e for e in entries if e.get("kind") == "command"]
    confirmations = [e for e in entries if e.get("kind") == "confirmation"]
    events = [e for e in entries if e.get("kind") in ("event", "damaged")]
    sections: list[Section] = []

    s = Section("Summary")
    s.kv(
        [
            ("Installation", session.installation or "(not named)"),
            ("Session", session.session_id),
            ("Demo session", session.demo),
            ("Current version", answers.current_version),
            ("Target version", answers.target_version),
            ("Started", session.created_at),
            ("Last change", session.updated_at),
            ("Report exported", now_iso()),
            ("Exported by", operator_identity()),
            ("Commands run", len(commands)),
            ("Confirmations", len(confirmations)),
        ]
    )
    sections.append(s)

    s = Section("Final state of every phase")
    rows = []
    for p in PHASES:
        rec = session.phase(p.id)
        rows.append(
            [
                p.number,
                p.title,
                f"{rec.status.glyph} {rec.status.label}",
                rec.reason,
                rec.started_at,
                rec.finished_at,
            ]
        )
    s.table(["#", "Phase", "Status", "Reason", "Started", "Finished"], rows)
    step_rows = []
    for p in PHASES:
        for step_id, step in session.phase(p.id).steps.items():
            step_rows.append(
                [p.title, step_id, step.status.label, step.exit_code, step.duration_s, step.note]
            )
    if step_rows:
        s.table(["Phase", "Step", "Status", "Exit code", "Duration (s)", "Note"], step_rows)
    sections.append(s)

    s = Section("Answers")
    if session.section_state("answers"):
        s.tree(session.section_state("answers"))
    else:
        s.p("No answers recorded.")
    sections.append(s)

    s = Section("Plan and its reasons")
    _plan_section(s, session)
    sections.append(s)

    s = Section("Commands run")
    if commands:
        s.table(
            ["Started", "Phase / step", "Where", "Command", "Exit code", "Duration (s)"],
            [
                [
                    e.get("started_at") or e.get("at"),
                    "/".join(x for x in (e.get("phase"), e.get("step")) if x),
                    e.get("host") or e.get("cwd") or "",
                    _argv_text(e.get("argv")),
                    "" if e.get("exit_code") is None else e.get("exit_code"),
                    e.get("duration_s"),
                ]
                for e in commands
            ],
        )
    else:
        s.p("No command was run through crvs-migrate.")
    sections.append(s)

    s = Section("Confirmations")
    if confirmations:
        s.table(
            ["When", "Who", "Phase / step", "What was confirmed"],
            [
                [
                    e.get("at"),
                    e.get("by"),
                    "/".join(x for x in (e.get("phase"), e.get("step")) if x),
                    e.get("what"),
                ]
                for e in confirmations
            ],
        )
    else:
        s.p("No confirmation recorded.")
    sections.append(s)

    s = Section("Cluster health snapshots")
    _health_section(s, session)
    sections.append(s)

    s = Section("Release")
    if session.section_state("release"):
        s.tree(session.section_state("release"))
    else:
        s.p("Nothing recorded.")
    sections.append(s)

    s = Section("Backup evidence and the production gate")
    gate = compute_gate(session)
    s.p("The production gate is OPEN." if gate.open else "The production gate is LOCKED.")
    s.table(
        ["Condition", "Holds", "What is missing"],
        [[c.title, c.met, c.missing] for c in gate.conditions],
    )
    backup = BackupRecord.of(session)
    verification = backup.verification
    if verification is not None and verification.parts:
        s.p(
            f"Backup {verification.label} verified on {verification.host} in "
            f"{verification.remote_dir} at {verification.verified_at} "
            f"(files must be newer than {verification.since})."
        )
        s.table(
            ["Part", "Path", "Size (bytes)", "Last changed", "OK", "Problem"],
            [[p.name, p.path, p.size, p.mtime, p.ok, p.problem] for p in verification.parts],
        )
    rest = {k: v for k, v in session.section_state("backup").items() if k != "verification"}
    if rest:
        s.tree(rest)
    sections.append(s)

    s = Section("Deploys")
    if session.section_state("deploy"):
        s.tree(session.section_state("deploy"))
    else:
        s.p("No deploy recorded.")
    sections.append(s)

    if events:
        s = Section("Events")
        s.table(
            ["When", "Phase", "What"],
            [
                [
                    e.get("at"),
                    e.get("phase"),
                    e.get("what") or f"damaged journal line {e.get('line')}",
                ]
                for e in events
            ],
        )
        sections.append(s)

    title = f"OpenCRVS upgrade record: {session.installation or 'installation'}"
    return Report(title, now_iso(), sections)


def _plan_section(s: Section, session: Session) -> None:
    from tasks.upgrade.plan import load_plan, plan_accepted

    plan = load_plan(session)
    if plan is None:
        if session.section_state("plan"):
            s.tree(session.section_state("plan"))
        else:
            s.p("No plan recorded.")
        return
    s.p(plan.summary)
    s.kv(
        [
            ("From", plan.current),
            ("To", plan.target),
            ("Releases crossed", list(plan.crossed)),
            ("Backup gate mandatory", plan.backup_gate_mandatory),
            ("Accepted by the operator", plan_accepted(session)),
        ]
    )
    findings = [("Blocker", f) for f in plan.blockers] + [("Warning", f) for f in plan.warnings]
    if findings:
        s.table(["Kind", "Finding"], [[kind, f.message] for kind, f in findings])
    rows = []
    for phase in plan.phases:
        rows.append([phase.title, "", f"{phase.status.glyph} {phase.status.value}", phase.reason])
        for step in phase.steps:
            mark = "+ applies" if step.applies else "» does not apply"
            title = step.title + (" (by hand)" if step.manual else "")
            rows.append(["", title, mark, step.reason])
    s.table(["Phase", "Step", "Applies", "Reason"], rows)


def _health_section(s: Section, session: Session) -> None:
    from tasks.servers.health import load_snapshots
    from tasks.text import sanitize

    snapshots = load_snapshots(session)
    for snap in snapshots:
        s.p(
            f"{snap.environment}: {snap.status.glyph} {snap.status.label}, checked "
            f"{snap.checked_at}" + (f" ({snap.source})" if snap.source else "")
        )
        s.table(
            ["Node", "Role", "Address", "Status", "Disk", "Memory", "CPUs", "Swarm", "Reason"],
            [
                [
                    r.node.name,
                    r.node.role.value,
                    r.node.address,
                    f"{r.status.glyph} {r.status.label}",
                    sanitize(r.summary("disk")),
                    sanitize(r.summary("memory")),
                    sanitize(r.summary("cpus")),
                    sanitize(r.summary("swarm")),
                    sanitize(r.reason),
                ]
                for r in snap.results
            ],
        )
    rest = {k: v for k, v in session.section_state("health").items() if k != "snapshots"}
    if rest:
        s.tree(rest)
    if not snapshots and not rest:
        s.p("No health check recorded.")


# -- rendering ------------------------------------------------------------------


def _md(text: Any) -> str:
    """Text for Markdown: HTML escaped (viewers render raw HTML), no control characters."""
    return html.escape(str(text), quote=False)


def _md_cell(text: str) -> str:
    return _md(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _md_tree(data: Any, depth: int = 0) -> list[str]:
    pad = "  " * depth
    lines: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}- **{_md(_fmt(k))}**:")
                lines += _md_tree(v, depth + 1)
            else:
                lines.append(f"{pad}- **{_md(_fmt(k))}**: {_md(_fmt(v))}")
    elif isinstance(data, list):
        for v in data:
            if isinstance(v, dict | list):
                lines.append(f"{pad}-")
                lines += _md_tree(v, depth + 1)
            else:
                lines.append(f"{pad}- {_md(_fmt(v))}")
    else:
        lines.append(f"{pad}- {_md(_fmt(data))}")
    return lines


def render_markdown(report: Report) -> str:
    out = [
        f"# {_md(_fmt(report.title))}",
        "",
        f"Generated by crvs-migrate at {report.generated_at}.",
        "",
    ]
    for section in report.sections:
        out += [f"## {_md(section.title)}", ""]
        for b in section.blocks:
            if b.kind == "p":
                out += [_md(b.text), ""]
            elif b.kind == "kv":
                out += [f"- **{_md(k)}**: {_md(v)}" for k, v in b.pairs] + [""]
            elif b.kind == "table":
                out.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
                out.append("|" + "---|" * len(b.headers))
                out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
                out.append("")
            elif b.kind == "tree":
                out += _md_tree(b.data) + [""]
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:70em;
color:#1b1b1b;line-height:1.4;padding:0 1em}
h1{border-bottom:2px solid #333}h2{margin-top:1.6em;border-bottom:1px solid #bbb}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td code,li code{font-family:ui-monospace,monospace;font-size:.9em}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}dd{margin:0}
ul.tree{margin:.2em 0}
@media print{body{margin:0;max-width:none}}
"""


def _h(text: Any) -> str:
    return html.escape(_fmt(text), quote=True)


def _html_tree(data: Any) -> str:
    if isinstance(data, dict):
        items = "".join(
            f"<li><b>{_h(k)}</b>: {_html_tree(v) if isinstance(v, dict | list) and v else _h(v)}</li>"
            for k, v in data.items()
        )
        return f'<ul class="tree">{items}</ul>'
    if isinstance(data, list):
        items = "".join(
            f"<li>{_html_tree(v) if isinstance(v, dict | list) else _h(v)}</li>" for v in data
        )
        return f'<ul class="tree">{items}</ul>'
    return _h(data)


def render_html(report: Report) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(report.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_h(report.title)}</h1>",
        f"<p>Generated by crvs-migrate at {_h(report.generated_at)}.</p>",
    ]
    for section in report.sections:
        parts.append(f"<section><h2>{_h(section.title)}</h2>")
        for b in section.blocks:
            if b.kind == "p":
                parts.append(f"<p>{_h(b.text)}</p>")
            elif b.kind == "kv":
                parts.append(
                    "<dl>"
                    + "".join(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in b.pairs)
                    + "</dl>"
                )
            elif b.kind == "table":
                head = "".join(f"<th>{_h(h)}</th>" for h in b.headers)
                body = "".join(
                    "<tr>" + "".join(f"<td>{_h(c)}</td>" for c in r) + "</tr>" for r in b.rows
                )
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif b.kind == "tree":
                parts.append(_html_tree(b.data))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


# -- secrets guard and export ------------------------------------------------------


def env_values_to_scrub(session: Session) -> list[str]:
    """Every value in the env files named in the session, to remove from the report text."""
    check = ReleaseRecord.of(session).env_check
    files = check.files if check is not None else []
    values: set[str] = set()
    for name in files:
        try:
            from tasks.release.env_check import read_env_files

            env = read_env_files([Path(name)], strict=False)
        except Exception:  # noqa: BLE001 - a moved file just means nothing to scrub from it
            continue
        values.update(v for v in env.values() if len(v) >= _MIN_SCRUB)
    return sorted(values, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        for form in {value, html.escape(value, quote=True), _md(value), _md_cell(value)}:
            text = text.replace(form, MASK)
    return text


@dataclass(frozen=True)
class ExportedReport:
    markdown: Path
    html: Path


def export_report(workspace: Workspace, session: Session) -> ExportedReport:
    """Write the report as Markdown and HTML into ``workspace.reports_dir`` (0600, atomic)."""
    report = build_report(session, workspace.journal.entries())
    secrets = env_values_to_scrub(session)
    out_dir = workspace.reports_dir
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    base = f"crvs-migrate-report-{session.session_id}-{stamp}"
    md_path, html_path = out_dir / f"{base}.md", out_dir / f"{base}.html"
    write_atomic(md_path, scrub(render_markdown(report), secrets).encode("utf-8"))
    write_atomic(html_path, scrub(render_html(report), secrets).encode("utf-8"))
    return ExportedReport(md_path, html_path)
