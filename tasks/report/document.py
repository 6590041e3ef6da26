"""The session as the record a change board accepts: one model, rendered as Markdown and HTML.

Four parts, each starting on a new printed page:
  1. The change: summary and outcome, approvals, the versions running at the end (planned
     against actual), the rollback plan, incidents, the closing note. What the board reads.
  2. How it went: every phase and step as it ended, and the evidence of each by-hand step.
  3. Evidence: the preparation answers, the plan and its reasons, the release, the backup
     and the production gate, the deploys, cluster health.
  4. Journal: every command, confirmation and event, in order.

Everything is read from the typed session sections and the journal (``ReportInput``), in
the operator's words (``tasks.report.words``). Every text goes through ``tasks.masking``
and is stripped of control characters here; rendering escapes it (``tasks.report.render``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import field
from typing import Any

from tasks.lean import dataclass, regex
from tasks.masking import mask_text
from tasks.release.deploy import DeployRecord, EnvironmentDeploy
from tasks.release.gate import STRATEGIES, BackupRecord, compute_gate, tampered_records
from tasks.release.publish import ReleaseRecord
from tasks.report.change import ChangeRecord
from tasks.report.facts import (
    ENVIRONMENT_TITLES,
    Downtime,
    outcome,
    planned_actual,
    production_downtime,
    rollback_plan,
    running_versions,
)
from tasks.report.incidents import Incident, collect_incidents
from tasks.report.inputs import ReportInput
from tasks.report.places import where
from tasks.report.steps import hand_evidence, phase_rows
from tasks.report.words import (
    NOT_NAMED,
    answer_rows,
    duration,
    health,
    seconds_between,
    size,
    when,
    when_local,
)
from tasks.servers.health import HealthSnapshot, NodeHealth, load_node_resources, load_snapshots
from tasks.text import sanitize
from tasks.upgrade.answers import Answers
from tasks.upgrade.plan import current_plan, plan_accepted

# A stored time quoted inside a text (a gate condition's words): shown like every other time.
_ISO_TIME = regex(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)")


def text(value: Any) -> str:
    """Any value as report text: masked, control characters stripped, times in words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _ISO_TIME.sub(lambda m: when(m.group(0)), mask_text(sanitize(str(value))))


@dataclass
class Block:
    kind: str  # "p" | "lead" | "kv" | "table" | "list"
    text: str = ""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, value: Any) -> None:
        self.blocks.append(Block("p", text=text(value)))

    def lead(self, value: Any) -> None:
        self.blocks.append(Block("lead", text=text(value)))

    def kv(self, pairs: Iterable[tuple[Any, Any]]) -> None:
        self.blocks.append(Block("kv", pairs=[(text(k), text(v)) for k, v in pairs]))

    def table(self, headers: list[str], rows: Iterable[Iterable[Any]]) -> None:
        self.blocks.append(
            Block("table", headers=list(headers), rows=[[text(c) for c in r] for r in rows])
        )

    def items(self, values: Iterable[Any]) -> None:
        self.blocks.append(Block("list", items=[text(v) for v in values]))


@dataclass
class Part:
    title: str
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        s = Section(title)
        self.sections.append(s)
        return s


@dataclass
class Report:
    title: str
    # What every printed page's header says: the installation and the change number.
    page_header: str
    generated_at: str
    generated_by: str
    parts: list[Part]


def build_report(inp: ReportInput) -> Report:
    session = inp.session
    change = ChangeRecord.of(session)
    incidents = collect_incidents(inp)
    downtime = production_downtime(inp)
    installation = text(session.installation.strip())
    number = text(change.number)
    plan = current_plan(session)
    versions = f"{plan.current} to {plan.target}" if plan.current and plan.target else ""
    title = "Change record: OpenCRVS upgrade" + (f" {versions}" if versions else "")
    if installation:
        title += f", {installation}"
    header = (
        (installation or "Installation not named")
        + " · "
        + (f"Change {number}" if number else "No change number")
    )
    parts = [
        _part_change(inp, incidents, downtime),
        _part_steps(inp),
        _part_evidence(inp),
        _part_journal(inp),
    ]
    return Report(text(title), header, inp.exported_at, text(inp.exported_by), parts)


# -- part 1: the change --------------------------------------------------------------------


def _part_change(inp: ReportInput, incidents: list[Incident], downtime: Downtime) -> Part:
    session = inp.session
    change = ChangeRecord.of(session)
    plan = current_plan(session)
    answers = Answers.of(session)
    part = Part("The change")
    result = outcome(inp, len(incidents), downtime)

    s = part.section("Summary")
    s.lead(f"Outcome: {result.verdict}. {result.statement}")
    window = change.window
    window_text = "Not planned: enter it in the Report screen (Change record)"
    if window is not None:
        start, end = window
        window_text = (
            f"{when(change.window_start)} to {when(change.window_end)} "
            f"({duration((end - start).total_seconds())}); as typed: "
            f"{when_local(change.window_start)} to {when_local(change.window_end)}"
        )
    signed = [a for a in change.approvers if a.signed]
    s.kv(
        [
            ("Installation", session.installation.strip() or NOT_NAMED),
            (
                "Change or ticket number",
                change.number or "Not entered: enter it in the Report screen (Change record)",
            ),
            (
                "Upgrade",
                f"OpenCRVS {plan.current or answers.current_version or '?'} to "
                f"{plan.target or answers.target_version or '?'}"
                + (f" (crosses {', '.join(plan.crossed)})" if plan.crossed else ""),
            ),
            ("Maintenance window (planned)", window_text),
            ("Production downtime (measured)", downtime.text()),
            (
                "Approvals",
                f"{len(signed)} of {len(change.approvers)} approvers signed off"
                if change.approvers
                else "No approver recorded",
            ),
            ("Incidents", f"{len(incidents)} (listed below)" if incidents else "None recorded"),
            ("Started", when(session.created_at)),
            ("Last change to the session", when(session.updated_at)),
            ("Report exported", f"{when(inp.exported_at)} by {inp.exported_by}"),
            ("Session", session.session_id + (" (a demo session)" if session.demo else "")),
        ]
    )

    s = part.section("Approvals and sign-off")
    if change.approvers:
        s.table(
            ["Approver", "Role", "Sign-off", "Recorded by", "It covered"],
            [
                [
                    a.name,
                    a.role,
                    f"✓ {when(a.signed_at)}" if a.signed else "○ not signed off",
                    a.signed_by or f"added by {a.added_by}",
                    a.signed_for,
                ]
                for a in change.approvers
            ],
        )
    else:
        s.p(
            "No approver is recorded. Add the approvers and record their sign-off in the Report "
            "screen (Change record): each sign-off is journalled with its time."
        )
    if change.details_at:
        s.p(f"Change number and window last set {when(change.details_at)} by {change.details_by}.")

    s = part.section("Versions running at the end")
    running = running_versions(session)
    if running:
        s.table(
            ["Environment", "Core", "Country config", "Images", "Read where and when"],
            [_running_row(rv) for rv in running],
        )
    else:
        s.p("No environment was deployed in this session.")
    not_deployed = [
        title
        for env, title in ENVIRONMENT_TITLES.items()
        if DeployRecord.of(session).get(env) is None
    ]
    if running and not_deployed:
        s.p(
            f"Not deployed in this session: {', '.join(not_deployed)} "
            f"(still on {plan.current or answers.current_version or 'the previous release'} "
            "as far as crvs-migrate knows)."
        )
    rows = planned_actual(session)
    s.table(
        ["What", "Planned", "Actual", ""],
        [[r.what, r.planned, r.actual, "differs" if r.differs else ""] for r in rows],
    )

    s = part.section("Rollback plan")
    rollback = rollback_plan(session, inp)
    s.lead(rollback.summary)
    s.kv(rollback.rows)

    s = part.section("Incidents")
    if incidents:
        s.table(
            ["#", "When", "Kind", "Where", "What", "Evidence"],
            [
                [n, when(i.at) or "time not known", i.kind, i.where, i.what, i.evidence]
                for n, i in enumerate(incidents, 1)
            ],
        )
    else:
        s.p(
            "None: no crash, interrupted or failed step, override, by-hand step, damaged "
            "journal record or evidence without its journal record."
        )

    if change.closing_note:
        s = part.section("Closing note")
        s.p(change.closing_note)
        s.p(f"Written {when(change.closing_note_at)} by {change.closing_note_by}.")
    return part


def _running_row(rv: Any) -> list[str]:
    rec: EnvironmentDeploy = rv.deploy
    core = rec.version
    config = rec.country_config_version
    if rv.core_running and rv.core_running != core:
        core = f"{rv.core_running} (deployed {rec.version})"
    if rv.config_running and rv.config_running != config:
        config = f"{rv.config_running} (deployed {rec.country_config_version})"
    images = ", ".join(x for x in (rv.core_image, rv.config_image) if x)
    if rv.core_services:
        images += f" ({rv.core_services} core services)"
    seen = [
        f"deployed {when(rec.at)} to {rec.host} ({rec.how}, "
        + (f"exit code {rec.exit_code}" if rec.exit_code is not None else "exit code not known")
        + ")"
    ]
    stack = rec.stack
    if stack is not None:
        seen.append(
            f"stack on the manager {when(stack.checked_at)}: {stack.services_up} of "
            f"{stack.services} services at full replicas, migrations {stack.migration}"
        )
        if not rv.core_image:
            seen.append("images not read from the manager (only the tags deployed are known)")
    else:
        seen.append("the stack was not looked at after the deploy")
    if rec.health is not None:
        seen.append(f"health {health(rec.health.status)} at {when(rec.health.checked_at)}")
    return [rv.title, core, config, images or "not read", "; ".join(seen)]


# -- part 2: how it went -------------------------------------------------------------------


def _part_steps(inp: ReportInput) -> Part:
    part = Part("How the upgrade went")
    for row in phase_rows(inp):
        s = part.section(f"{row.number}. {row.title}")
        span = ""
        if row.started_at or row.finished_at:
            took = seconds_between(row.started_at, row.finished_at)
            span = f", {when(row.started_at)} to {when(row.finished_at) or 'now'}" + (
                f" ({duration(took)})" if took is not None and row.finished_at else ""
            )
        s.p(f"{row.status}{span}" + (f". {row.reason}" if row.reason else ""))
        s.table(
            ["Step", "Status", "When", "Took", "How", "Note"],
            [
                [st.title + (" (by hand)" if st.manual else ""), st.status, when(st.at),
                 st.took, st.how, st.note]
                for st in row.steps
            ],
        )  # fmt: skip
    s = part.section("Evidence of the steps done by hand")
    evidence = hand_evidence(inp)
    if evidence:
        s.table(
            ["Step", "Who", "When", "What they said", "What crvs-migrate checked"],
            [[e.step, e.who, when(e.at), e.said, e.checked] for e in evidence],
        )
    else:
        s.p("No step was done by hand.")
    return part


# -- part 3: evidence ----------------------------------------------------------------------


def _part_evidence(inp: ReportInput) -> Part:
    session = inp.session
    part = Part("Evidence")

    s = part.section("Preparation answers")
    s.table(["Question", "Answer"], answer_rows(Answers.of(session)))

    s = part.section("Plan and its reasons")
    plan = current_plan(session)
    s.p(plan.summary)
    s.kv(
        [
            ("Accepted by the operator", "yes" if plan_accepted(session) else "no"),
            ("Releases crossed", ", ".join(plan.crossed) or "none"),
            (
                "Production backup gate",
                "mandatory" if plan.backup_gate_mandatory else "recommended, not mandatory",
            ),
        ]
    )
    findings = [("Blocker", f.message) for f in plan.blockers]
    findings += [("Warning", f.message) for f in plan.warnings]
    if findings:
        s.table(["Kind", "Finding"], findings)
    rows = []
    for phase in plan.phases:
        rows.append([f"{phase.number}. {phase.title}", "", phase.status.value, phase.reason])
        for step in phase.steps:
            rows.append(
                [
                    "",
                    step.title + (" (by hand)" if step.manual else ""),
                    "applies" if step.applies else "does not apply",
                    step.reason,
                ]
            )
    s.table(["Phase", "Step", "Applies", "Why"], rows)

    _release_section(part.section("Release"), inp)
    _backup_section(part.section("Backup and the production gate"), inp)
    _deploy_section(part.section("Deploys"), inp)
    _health_section(part.section("Cluster health"), inp)
    return part


def _release_section(s: Section, inp: ReportInput) -> None:
    r = ReleaseRecord.of(inp.session)
    if r.merge is None and r.tag is None and r.image is None and r.env_check is None:
        s.p("Nothing recorded yet.")
        return
    pairs: list[tuple[str, str]] = []
    if r.merge is not None:
        pairs.append(
            (
                "Upgrade branch merged",
                f"{r.merge.branch} into {r.merge.into}, {when(r.merge.at)} ({r.merge.how}"
                + (f", {r.merge.by}" if r.merge.by else "")
                + ")",
            )
        )
    if r.tag is not None:
        pushed = (
            f"pushed to {r.tag.remote} {when(r.tag.pushed_at)}" if r.tag.pushed_at else "not pushed"
        )
        pairs.append(
            (
                "Release tag",
                f"{r.tag.name} on commit {r.tag.commit[:12]}, created {when(r.tag.created_at)}; "
                + pushed,
            )
        )
    if r.image is not None:
        how = "typed by the operator" if r.image.how == "operator" else r.image.how
        pairs.append(
            ("Published image tag", f"{r.image.tag}, recorded {when(r.image.recorded_at)} ({how})")
        )
    check = r.env_check
    if check is not None:
        verdict = "every required variable set" if check.ok else "variables missing or invalid"
        pairs.append(
            (
                "Deploy variables",
                f"{verdict}: checked {when(check.checked_at)} in {', '.join(check.files) or 'no file'}"
                + (f" against {check.source}" if check.source else ""),
            )
        )
        pairs.append(("Required and set", f"{len(check.present)} of {len(check.required)}"))
        if check.missing:
            pairs.append(("Missing", ", ".join(check.missing)))
        if check.invalid:
            pairs.append(("Invalid", ", ".join(f"{p.name} ({p.reason})" for p in check.invalid)))
        if check.unused:
            pairs.append(("Set but no longer used", ", ".join(check.unused)))
    s.kv(pairs)
    s.p("Values of variables are never written here: names only.")


def _backup_section(s: Section, inp: ReportInput) -> None:
    session = inp.session
    gate = compute_gate(session, inp)
    b = BackupRecord.of(session)
    s.lead("The production gate is " + ("OPEN." if gate.open else "LOCKED."))
    s.table(
        ["Condition", "Holds", "How", "What is missing"],
        [[c.title, "✓ yes" if c.met else "✗ no", c.how, c.missing] for c in gate.conditions],
    )
    tampered = tampered_records(session)
    if tampered:
        s.p("Edited outside crvs-migrate, so counting for nothing: " + ", ".join(tampered) + ".")
    pairs: list[tuple[str, str]] = []
    if b.gate_opened_at:
        pairs.append(("Gate opened", when(b.gate_opened_at)))
    if b.target is not None:
        t = b.target
        pairs.append(
            (
                "Backup server",
                f"{t.ssh_user}@{t.ssh_host} port {t.ssh_port}, directory {t.remote_dir}; "
                f"production {t.production_ip}, {t.replicas} replica(s)",
            )
        )
    if b.taken is not None:
        pairs.append(("Backup taken", f"label {b.taken.label}, {when(b.taken.at)} ({b.taken.by})"))
        pairs.append(("Backup command", " ".join(b.taken.argv)))
    if b.restore is not None:
        pairs.append(
            ("Restored on QA", f"{b.restore.label}, {when(b.restore.at)} ({b.restore.by})")
        )
    if b.records_ok is not None:
        pairs.append(("Restored records confirmed", f"{when(b.records_ok.at)} ({b.records_ok.by})"))
    if b.drafts is not None:
        pairs.append(("Staff told about drafts", f"{when(b.drafts.at)} ({b.drafts.by})"))
    if b.risk is not None:
        pairs.append(
            (
                "Migration-duration risk",
                f"{STRATEGIES.get(b.risk.strategy, b.risk.strategy)}; {when(b.risk.at)} ({b.risk.by})",
            )
        )
    if pairs:
        s.kv(pairs)
    v = b.verification
    if v is not None:
        total = sum(p.size for p in v.parts)
        s.p(
            f"Backup {v.label} listed on {v.host} in {v.remote_dir}/{v.label} at "
            f"{when(v.verified_at)}; every part must be newer than {when(v.since)}: "
            + (
                f"{sum(1 for p in v.parts if p.ok)} of {len(v.parts)} parts good, {size(total)} in all."
                if v.parts
                else (v.error or "nothing listed.")
            )
        )
        if v.parts:
            s.table(
                ["Part", "Path", "Size", "Last changed", "Good", "Problem"],
                [
                    [p.name, p.path, size(p.size), when(p.mtime), "✓" if p.ok else "✗", p.problem]
                    for p in v.parts
                ],
            )


def _deploy_section(s: Section, inp: ReportInput) -> None:
    deploys = DeployRecord.of(inp.session)
    found = False
    for env in ("qa", "production"):
        rec = deploys.get(env)
        if rec is None:
            continue
        found = True
        pairs = [
            (f"{ENVIRONMENT_TITLES[env]}: command", " ".join(rec.argv)),
            (
                "Ran",
                f"{when(rec.at)}, {rec.how}; "
                + (
                    f"exit code {rec.exit_code}"
                    if rec.exit_code is not None
                    else "exit code not known"
                )
                + (f", took {duration(rec.duration_s)}" if rec.duration_s is not None else ""),
            ),
            (
                "Target",
                f"{rec.host}, {rec.replicas} replica(s), data kept: {'no' if rec.clear_data else 'yes'}",
            ),
        ]
        if rec.gate_open_at:
            pairs.append(("Production gate", f"open when deployed ({when(rec.gate_open_at)})"))
        if rec.stack is not None:
            st = rec.stack
            line = (
                f"{when(st.checked_at)}: {'up' if st.up else 'NOT up'}; {st.services_up} of "
                f"{st.services} services at full replicas; migrations {st.migration}"
            )
            if st.not_up:
                line += "; not up: " + ", ".join(st.not_up)
            pairs.append(("Stack after the deploy", line))
        if rec.health is not None:
            pairs.append(
                (
                    "Health after the deploy",
                    f"{health(rec.health.status)} at {when(rec.health.checked_at)}",
                )
            )
        s.kv(pairs)
    if not found:
        s.p("No deploy recorded.")


def _node_cells(r: NodeHealth, free: dict[str, tuple[int | None, int | None]]) -> list[str]:
    disk = r.summary("disk")
    disk = " ".join(
        f"{w} used" if w.endswith("%") else w for w in disk.split()
    ) if disk else ""  # fmt: skip
    total, available = free.get(r.node.name, (None, None))
    if available is not None and total:
        disk += f" ({size(available)} free of {size(total)})"
    swarm = r.check("swarm")
    swarm_text = ""
    if swarm is not None:
        nodes = swarm.summary.split(" · ")[0]
        swarm_text = f"{nodes} ready" if "nodes" in nodes else nodes
        if swarm.status.value in ("pass", "warn"):
            swarm_text += "; every service at full replicas"
        elif swarm.detail:
            swarm_text += f"; {swarm.detail}"
    memory = r.summary("memory")
    memory = memory.replace(" of ", " used of ", 1) if "%" in memory else memory
    cpus = r.summary("cpus").replace(" · ", " CPUs, ", 1)
    return [
        r.node.name,
        r.node.role.value,
        r.node.address,
        f"{r.status.glyph} {r.status.label}",
        disk,
        memory,
        cpus,
        swarm_text,
        sanitize(r.reason),
    ]


def _health_section(s: Section, inp: ReportInput) -> None:
    snapshots: list[HealthSnapshot] = load_snapshots(inp.session)
    if not snapshots:
        s.p("No health check recorded.")
        return
    for snap in snapshots:
        free = {
            res.node: (res.disk_total_bytes, res.disk_free_bytes)
            for res in load_node_resources(inp.session, snap.environment)
        }
        s.p(
            f"{ENVIRONMENT_TITLES.get(snap.environment, snap.environment)}: "
            f"{snap.status.glyph} {snap.status.label}, {len(snap.results)} node(s) checked "
            f"{when(snap.checked_at)}" + (f" from {snap.source}" if snap.source else "")
        )
        s.table(
            [
                "Node",
                "Role",
                "Address",
                "Status",
                "Disk",
                "Memory",
                "CPUs and load",
                "Swarm",
                "Notes",
            ],
            [_node_cells(r, free) for r in snap.results],
        )


# -- part 4: journal -----------------------------------------------------------------------


def _part_journal(inp: ReportInput) -> Part:
    session = inp.session
    part = Part("Journal")
    s = part.section("Commands run")
    if inp.commands:
        s.table(
            ["#", "Started", "Phase and step", "Where", "Command", "Exit code", "Took"],
            [
                [
                    e.n,
                    when(e.started_at or e.at),
                    where(session, e.phase, e.step) if e.phase else "",
                    e.host or e.cwd,
                    shlex.join(e.argv),
                    "" if e.exit_code is None else e.exit_code,
                    duration(e.duration_s),
                ]
                for e in inp.commands
            ],
        )
    else:
        s.p("No command was run through crvs-migrate.")
    s = part.section("Confirmations")
    if inp.confirmations:
        s.table(
            ["#", "When", "Who", "Where", "What was confirmed"],
            [
                [e.n, when(e.at), e.by, where(session, e.phase, e.step) if e.phase else "", e.what]
                for e in inp.confirmations
            ],
        )
    else:
        s.p("No confirmation recorded.")
    events = [e for e in inp.entries if e.kind in ("event", "damaged")]
    if events:
        s = part.section("Events")
        s.table(
            ["#", "When", "Where", "What"],
            [
                [
                    e.n,
                    when(e.at),
                    where(session, e.phase) if e.phase else "",
                    e.what if e.kind == "event" else f"damaged record (line {e.line or e.n})",
                ]
                for e in events
            ],
        )
    return part
