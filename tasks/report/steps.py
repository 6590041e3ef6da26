"""Every phase and step of the upgrade as it ended, and the evidence for each by-hand step.

A step's state comes from its record in the session where it has one (the git and yarn
steps, the deploy command), else from the evidence its phase keeps (the release's merge, tag
and image; the backup's confirmations and verification; the stack after a deploy), else from
the plan (does not apply). A step done by the operator's hand says who, when, what they said
(the journal's confirmation) and what crvs-migrate checked afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from tasks.lean import dataclass
from tasks.release.deploy import DeployRecord
from tasks.release.gate import HOW_APP, BackupRecord, compute_gate, qa_health_after_restore
from tasks.release.publish import ReleaseRecord
from tasks.report.inputs import Entry, ReportInput
from tasks.report.places import STEP_ALIASES, step_record, step_title
from tasks.report.words import duration, phase_status, size, step_status, when
from tasks.report.words import health as health_words
from tasks.session.phases import PHASES, PhaseStatus, StepStatus
from tasks.session.state import Session
from tasks.upgrade.plan import PlanStep, current_plan

DONE = "✓ done"
NOT_DONE = "○ not done"
FAILED = "✗ failed"
NOT_APPLICABLE = "» does not apply"
NOT_RECORDED = "– not recorded"


@dataclass(frozen=True)
class StepRow:
    phase: str
    step: str
    title: str
    status: str
    at: str = ""
    took: str = ""
    how: str = ""
    note: str = ""
    manual: bool = False


@dataclass(frozen=True)
class PhaseRow:
    id: str
    number: int
    title: str
    status: str
    started_at: str
    finished_at: str
    reason: str
    steps: tuple[StepRow, ...]


Resolver = Callable[[ReportInput, str], "StepRow | None"]


def _row(
    phase: str, step: str, status: str, at: str = "", how: str = "", note: str = ""
) -> StepRow:
    return StepRow(phase, step, "", status, at, "", how, note)


def _deploy_env(phase: str) -> str:
    return "qa" if phase == "deploy_qa" else "production"


def _merge(inp: ReportInput, phase: str) -> StepRow | None:
    merge = ReleaseRecord.of(inp.session).merge
    if merge is None:
        return None
    by = f" ({merge.by})" if merge.by else ""
    return _row(
        phase, "merge_pr", DONE, merge.at, f"{merge.how}{by}", f"{merge.branch} into {merge.into}"
    )


def _tag(inp: ReportInput, phase: str) -> StepRow | None:
    tag = ReleaseRecord.of(inp.session).tag
    if tag is None:
        return None
    pushed = f"pushed to {tag.remote} {when(tag.pushed_at)}" if tag.pushed_at else "NOT pushed"
    return _row(
        phase, "tag_release", DONE, tag.created_at, "created by crvs-migrate",
        f"{tag.name} on commit {tag.commit[:12]}; {pushed}",
    )  # fmt: skip


def _image(inp: ReportInput, phase: str) -> StepRow | None:
    image = ReleaseRecord.of(inp.session).image
    if image is None:
        return None
    how = "typed by the operator" if image.how == "operator" else image.how
    return _row(phase, "publish_image", DONE, image.recorded_at, how, f"image tag {image.tag}")


def _env_var(var: str) -> Resolver:
    def resolve(inp: ReportInput, phase: str) -> StepRow | None:
        check = ReleaseRecord.of(inp.session).env_check
        if check is None:
            return None
        step = f"env_{var.lower()}"
        files = ", ".join(check.files)
        if var in check.missing:
            return _row(phase, step, FAILED, check.checked_at, "env check", f"missing from {files}")
        if any(p.name == var for p in check.invalid):
            return _row(phase, step, FAILED, check.checked_at, "env check", f"invalid in {files}")
        if var in check.present:
            return _row(phase, step, DONE, check.checked_at, "env check", f"set in {files}")
        return None

    return resolve


def _deploy(inp: ReportInput, phase: str) -> StepRow | None:
    rec = DeployRecord.of(inp.session).get(_deploy_env(phase))
    if rec is None:
        return None
    status = DONE if rec.succeeded else FAILED
    code = f"exit code {rec.exit_code}" if rec.exit_code is not None else "exit code not known"
    return _row(phase, "deploy", status, rec.at, rec.how, f"{code}; core {rec.version}, country "
                f"config {rec.country_config_version}, {rec.replicas} replica(s)")  # fmt: skip


def _migrations(inp: ReportInput, phase: str) -> StepRow | None:
    rec = DeployRecord.of(inp.session).get(_deploy_env(phase))
    if rec is None or rec.stack is None:
        return None
    state = rec.stack.migration
    status = {"finished": DONE, "failed": FAILED, "running": "◐ running"}.get(state, NOT_DONE)
    return _row(
        phase, "data_migration", status, rec.stack.checked_at, "read on the manager",
        f"migration service: {state}",
    )  # fmt: skip


def _services(inp: ReportInput, phase: str) -> StepRow | None:
    rec = DeployRecord.of(inp.session).get(_deploy_env(phase))
    if rec is None or rec.stack is None:
        return None
    stack = rec.stack
    health = rec.health
    passed = (
        health is not None and health.status in ("pass", "warn") and health.checked_at >= rec.at
    )
    status = DONE if stack.up and passed else (FAILED if not stack.up else "◐ health not checked")
    note = f"{stack.services_up} of {stack.services} services at full replicas"
    if stack.not_up:
        note += "; not up: " + ", ".join(stack.not_up)
    if health is not None:
        note += f"; health {health_words(health.status)} at {when(health.checked_at)}"
    at = max(stack.checked_at, health.checked_at) if health is not None else stack.checked_at
    return _row(phase, "check_services", status, at, "read on the manager", note)


def _evidence_how(how: str, by: str) -> str:
    """Run by crvs-migrate (its command is journalled), or the operator's word."""
    return f"{HOW_APP} ({by})" if how == HOW_APP else f"the operator's word ({by})"


def _backup_taken(inp: ReportInput, phase: str) -> StepRow | None:
    taken = BackupRecord.of(inp.session).taken
    if taken is None:
        return None
    return _row(phase, "emergency_backup", DONE, taken.at, _evidence_how(taken.how, taken.by),
                f"label {taken.label}")  # fmt: skip


def _backup_stored(inp: ReportInput, phase: str) -> StepRow | None:
    v = BackupRecord.of(inp.session).verification
    if v is None:
        return None
    total = sum(p.size for p in v.parts)
    if v.ok:
        note = f"{len(v.parts)} parts, {size(total)} in {v.remote_dir}/{v.label} on {v.host}"
        return _row(phase, "copy_off_server", DONE, v.verified_at, "verified over SSH", note)
    return _row(phase, "copy_off_server", FAILED, v.verified_at, "verified over SSH",
                "; ".join(v.problems[:4]))  # fmt: skip


def _restored(inp: ReportInput, phase: str) -> StepRow | None:
    b = BackupRecord.of(inp.session)
    if b.restore is None:
        return None
    healthy, why = qa_health_after_restore(inp.session)
    looked = b.records_ok is not None
    status = DONE if healthy and looked else NOT_DONE
    note = why + ("; restored records confirmed" if looked else "; records not yet confirmed")
    return _row(phase, "restore_on_qa", status, b.restore.at,
                f"{_evidence_how(b.restore.how, b.restore.by)} and a QA health check", note)  # fmt: skip


def _drafts(inp: ReportInput, phase: str) -> StepRow | None:
    drafts = BackupRecord.of(inp.session).drafts
    if drafts is None:
        return None
    return _row(phase, "inform_staff", DONE, drafts.at, f"the operator's word ({drafts.by})")


def _gate(inp: ReportInput, phase: str) -> StepRow | None:
    prod = DeployRecord.of(inp.session).production
    if prod is not None and prod.gate_open_at:
        return _row(phase, "backup_gate", DONE, prod.gate_open_at, "computed from the evidence",
                    "the gate was open when production was deployed")  # fmt: skip
    gate = compute_gate(inp.session, inp)
    if gate.open:
        return _row(phase, "backup_gate", DONE, "", "computed from the evidence", "open")
    return _row(phase, "backup_gate", NOT_DONE, "", "computed from the evidence",
                "; ".join(gate.missing[:2]))  # fmt: skip


def _conflicts(inp: ReportInput, phase: str) -> StepRow | None:
    commit = next(
        (e for e in inp.confirmations if e.phase == phase and e.what.startswith("commit merge")),
        None,
    )
    if commit is None:
        return None
    return _row(phase, "resolve_conflicts", DONE, commit.at, f"by hand ({commit.by})",
                "resolved by the operator; the merge committed in crvs-migrate")  # fmt: skip


def _answers(inp: ReportInput, phase: str) -> StepRow | None:
    rec = inp.session.phase(phase)
    if rec.status is PhaseStatus.DONE:
        return _row(phase, "answer_questions", DONE, rec.finished_at or "", "typed in Prepare")
    return None


RESOLVERS: dict[tuple[str, str], Resolver] = {
    ("prepare", "answer_questions"): _answers,
    ("merge_config", "resolve_conflicts"): _conflicts,
    ("release", "merge_pr"): _merge,
    ("release", "tag_release"): _tag,
    ("release", "publish_image"): _image,
    ("deploy_qa", "deploy"): _deploy,
    ("deploy_qa", "data_migration"): _migrations,
    ("deploy_qa", "check_services"): _services,
    ("backup_production", "emergency_backup"): _backup_taken,
    ("backup_production", "copy_off_server"): _backup_stored,
    ("backup_production", "restore_on_qa"): _restored,
    ("deploy_production", "inform_staff"): _drafts,
    ("deploy_production", "deploy"): _deploy,
    ("deploy_production", "data_migration"): _migrations,
    ("deploy_production", "check_services"): _services,
    ("deploy_production", "backup_gate"): _gate,
}


def _resolver(phase: str, step: str) -> Resolver | None:
    found = RESOLVERS.get((phase, step))
    if found is None and phase == "release" and step.startswith("env_"):
        return _env_var(step.removeprefix("env_").upper())
    return found


def phase_rows(inp: ReportInput) -> list[PhaseRow]:
    session = inp.session
    plan = current_plan(session)
    out = []
    for p in PHASES:
        rec = session.phase(p.id)
        planned = plan.phase(p.id).steps
        known = {s.id for s in planned} | {alias for (ph, alias) in STEP_ALIASES if ph == p.id}
        ids = [s.id for s in planned] + [sid for sid in rec.steps if sid not in known]
        rows = [
            _step_row(inp, p.id, sid, next((s for s in planned if s.id == sid), None))
            for sid in ids
        ]
        out.append(
            PhaseRow(
                p.id, p.number, p.title, phase_status(rec.status), rec.started_at or "",
                rec.finished_at or "", rec.reason, tuple(rows),
            )
        )  # fmt: skip
    return out


def _step_row(inp: ReportInput, phase: str, step: str, planned: PlanStep | None) -> StepRow:
    session = inp.session
    title = planned.title if planned else step.replace("_", " ")
    manual = bool(planned and planned.manual)
    rec = step_record(session, phase, step)
    if rec is not None and rec.status not in (StepStatus.NOT_STARTED, StepStatus.SKIPPED):
        how = f"by hand ({rec.by})" if rec.by else "run in crvs-migrate"
        return StepRow(
            phase, step, title, step_status(rec.status), rec.finished_at or rec.started_at or "",
            duration(rec.duration_s), how,
            rec.note or _exit(rec.exit_code),
            manual,
        )  # fmt: skip
    if planned is not None and not planned.applies:
        return StepRow(phase, step, title, NOT_APPLICABLE, note=planned.reason, manual=manual)
    resolver = _resolver(phase, step)
    found = resolver(inp, phase) if resolver is not None else None
    if found is not None:
        return StepRow(phase, step, title, found.status, found.at, found.took, found.how,
                       found.note, manual)  # fmt: skip
    phase_rec = session.phase(phase)
    if phase_rec.status in (PhaseStatus.SKIPPED, PhaseStatus.BLOCKED):
        return StepRow(phase, step, title, phase_status(phase_rec.status),
                       note=phase_rec.reason, manual=manual)  # fmt: skip
    if manual:
        return StepRow(phase, step, title, NOT_RECORDED, how="by hand",
                       note="done outside crvs-migrate, which keeps no record of it",
                       manual=True)  # fmt: skip
    return StepRow(phase, step, title, NOT_DONE, manual=manual)


def _exit(code: int | None) -> str:
    return f"exit code {code}" if code is not None else ""


# -- the evidence of the steps done by hand -----------------------------------------------


@dataclass(frozen=True)
class HandEvidence:
    step: str  # in words
    who: str
    at: str
    said: str  # the journal's confirmation, or why there is none
    checked: str  # what crvs-migrate checked afterwards


def _said(entry: Entry | None) -> str:
    if entry is None:
        return "no journal record"
    return f"journal record {entry.n}: “{entry.what}”"


def hand_evidence(inp: ReportInput) -> list[HandEvidence]:
    s = inp.session
    out: list[HandEvidence] = []
    for p in PHASES:
        for step_id, rec in s.phase(p.id).steps.items():
            if rec.by:
                entry = inp.confirmation(p.id, rec.finished_at or "")
                out.append(
                    HandEvidence(
                        f"{p.title} › {step_title(s, p.id, step_id)}",
                        rec.by,
                        rec.finished_at or "",
                        _said(entry),
                        rec.note or "nothing: crvs-migrate cannot see it",
                    )
                )
    conflicts = _conflicts(inp, "merge_config")
    if conflicts is not None:
        entry = next(
            (e for e in inp.confirmations if e.phase == "merge_config" and e.at == conflicts.at),
            None,
        )
        out.append(
            HandEvidence(
                f"Merge the country config › {step_title(s, 'merge_config', 'resolve_conflicts')}",
                entry.by if entry else "",
                conflicts.at,
                _said(entry),
                "git found no conflict left when the merge was committed",
            )
        )
    release = ReleaseRecord.of(s)
    if release.merge is not None and release.merge.how == "operator confirmation":
        m = release.merge
        out.append(
            HandEvidence(
                "Release › Merge the upgrade pull request", m.by, m.at,
                _said(inp.confirmation("release", m.at, "merge")),
                f"{m.branch} merged into {m.into} where git here cannot see it",
            )
        )  # fmt: skip
    if release.image is not None and release.image.how == "operator":
        image = release.image
        tags = [
            rec.country_config_version
            for rec in (DeployRecord.of(s).qa, DeployRecord.of(s).production)
            if rec is not None
        ]
        out.append(
            HandEvidence(
                "Release › Build and publish the release image", "", image.recorded_at,
                f"image tag {image.tag} typed in the Release phase",
                "deployed as " + ", ".join(tags) if tags else "not deployed yet",
            )
        )  # fmt: skip
    for env, phase in (("qa", "deploy_qa"), ("production", "deploy_production")):
        deployed = DeployRecord.of(s).get(env)
        if deployed is not None and deployed.how != "run in crvs-migrate":
            entry = next(
                (e for e in inp.confirmations if e.phase == phase and e.step == "deploy"), None
            )
            stack = deployed.stack
            out.append(
                HandEvidence(
                    f"{'Deploy to QA' if env == 'qa' else 'Deploy to production'} › deploy",
                    entry.by if entry else "", deployed.at, _said(entry),
                    f"the stack at {when(stack.checked_at)}: {stack.summary}"
                    if stack is not None else "nothing yet: the stack was not looked at",
                )
            )  # fmt: skip
    b = BackupRecord.of(s)
    phase = "backup_production"
    if b.taken is not None:
        v = b.verification
        checked = (
            f"verified on {v.host} {when(v.verified_at)}: "
            + (f"{len(v.parts)} parts, {size(sum(p.size for p in v.parts))}" if v.ok
               else "; ".join(v.problems[:3]))
            if v is not None else "not verified on the backup server"
        )  # fmt: skip
        out.append(
            HandEvidence("Back up production › Emergency backup of production", b.taken.by,
                         b.taken.at, _said(inp.confirmation(phase, b.taken.at, "backup")), checked)
        )  # fmt: skip
    if b.restore is not None:
        healthy, why = qa_health_after_restore(s)
        out.append(
            HandEvidence("Back up production › Restore the backup on QA", b.restore.by,
                         b.restore.at, _said(inp.confirmation(phase, b.restore.at, "restore")),
                         why)
        )  # fmt: skip
    if b.records_ok is not None:
        out.append(
            HandEvidence("Back up production › The restored records look right", b.records_ok.by,
                         b.records_ok.at,
                         _said(inp.confirmation(phase, b.records_ok.at, "restore_records")),
                         "the operator looked at them on QA")
        )  # fmt: skip
    if b.drafts is not None:
        out.append(
            HandEvidence("Deploy to production › Tell staff to submit their drafts", b.drafts.by,
                         b.drafts.at, _said(inp.confirmation(phase, b.drafts.at, "drafts")),
                         "nothing: crvs-migrate cannot see it")
        )  # fmt: skip
    return out


def phase_of(session: Session, phase: str) -> str:
    return phase_status(session.phase(phase).status)
