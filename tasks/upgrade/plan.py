"""The plan: which phases and steps apply to this installation, which do not, and why.

Like ``terraform plan``: built from the answers (``tasks.upgrade.answers.Answers``) and
the release catalogue (``tasks.upgrade.catalogue``, data in ``assets/releases.toml``), pure
and deterministic. Every step says why it applies or not. The notes' "checkout master" and
"merge countryconfig/master" meant the 1.3 release in 2023; upstream master is far past 1.3
today, so the steps of phases 3 and 4 take the release tag (or upstream's release branch
where the catalogue prefers it) and say so. Hotfixes need nothing run by hand, yet core's
migration service still runs the automatic data migrations on deploy: the plan names them.
It is saved in ``session.plan`` and drives the sidebar: ``apply_plan`` marks
phases skipped or blocked with the plan's reason (never touching a phase that is
done or in progress).

Screens of phases 3-9 ask ``plan_step_applies(session, phase_id, step_id)``;
the step ids are listed in ARCHITECTURE.md ("Plan step ids").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from tasks.errors import CrvsError
from tasks.lean import dataclass
from tasks.session.phases import PHASE_IDS, PHASES_BY_ID, PhaseStatus, StepStatus
from tasks.session.state import Session
from tasks.text import sanitize
from tasks.upgrade.answers import (
    SPEC_DISK_GB,
    SPEC_RAM_GB,
    Answers,
    CitizenRegistration,
    EnvironmentId,
)
from tasks.upgrade.catalogue import Catalogue, Migration, Release, bundled_catalogue
from tasks.upgrade.versions import PathKind, UpgradePath, parse_version, upgrade_path

if TYPE_CHECKING:
    from tasks.session.journal import Journal

# Phases that only make sense on servers.
SERVER_PHASES = ("release", "deploy_qa", "backup_production", "deploy_production")
PRODUCTION_PHASES = ("backup_production", "deploy_production")
UPGRADE_PHASES = PHASE_IDS[2:]  # everything after Prepare and Plan


class Applicability(StrEnum):
    APPLIES = "applies"
    SKIPPED = "skipped"
    BLOCKED = "blocked"

    @property
    def glyph(self) -> str:
        return {"applies": "+", "skipped": "»", "blocked": "✗"}[self.value]


@dataclass(frozen=True)
class PlanStep:
    id: str
    title: str
    applies: bool
    # Why it applies (when that depends on something) or why it does not.
    reason: str = ""
    # Done by hand by the operator (crvs-migrate cannot do it for them).
    manual: bool = False
    # Recommended, not required: it never keeps its phase from being done.
    recommended: bool = False

    def to_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "applies": self.applies}
        if self.reason:
            out["reason"] = self.reason
        if self.manual:
            out["manual"] = True
        if self.recommended:
            out["recommended"] = True
        return out

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> PlanStep:
        return cls(
            id=str(data["id"]),
            title=str(data.get("title", data["id"])),
            applies=bool(data.get("applies", True)),
            reason=str(data.get("reason", "")),
            manual=bool(data.get("manual", False)),
            recommended=bool(data.get("recommended", False)),
        )


@dataclass(frozen=True)
class PlanPhase:
    id: str
    status: Applicability
    reason: str = ""
    steps: tuple[PlanStep, ...] = ()
    # Applies, but the operator may choose not to do it (a recommended backup).
    optional: bool = False

    @property
    def title(self) -> str:
        return PHASES_BY_ID[self.id].title

    @property
    def number(self) -> int:
        return PHASES_BY_ID[self.id].number

    def step(self, step_id: str) -> PlanStep | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def to_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status.value}
        if self.reason:
            out["reason"] = self.reason
        if self.optional:
            out["optional"] = True
        out["steps"] = [s.to_state() for s in self.steps]
        return out

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> PlanPhase:
        return cls(
            id=str(data["id"]),
            status=Applicability(data.get("status", "applies")),
            reason=str(data.get("reason", "")),
            steps=tuple(PlanStep.from_state(s) for s in data.get("steps", [])),
            optional=bool(data.get("optional", False)),
        )


@dataclass(frozen=True)
class Finding:
    """A blocker (nothing after it can go on) or a warning (go on, knowingly)."""

    code: str
    message: str
    # The phases it blocks or concerns.
    phases: tuple[str, ...] = ()

    def to_state(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "phases": list(self.phases)}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Finding:
        return cls(str(data["code"]), str(data.get("message", "")), tuple(data.get("phases", [])))


@dataclass(frozen=True)
class Plan:
    current: str
    target: str
    # A PathKind value, or "incomplete" while the versions are not known.
    kind: str
    summary: str
    phases: tuple[PlanPhase, ...]
    blockers: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    crossed: tuple[str, ...] = ()
    backup_gate_mandatory: bool = True

    def phase(self, phase_id: str) -> PlanPhase:
        return next(p for p in self.phases if p.id == phase_id)

    def step(self, phase_id: str, step_id: str) -> PlanStep | None:
        return self.phase(phase_id).step(step_id)

    def step_applies(self, phase_id: str, step_id: str) -> bool:
        phase = self.phase(phase_id)
        step = phase.step(step_id)
        return phase.status is Applicability.APPLIES and step is not None and step.applies

    @property
    def proceeds(self) -> bool:
        return self.kind == PathKind.HOTFIX.value

    @property
    def digest(self) -> str:
        """A short fingerprint: equal plans have equal digests."""
        raw = json.dumps(self.to_state(), sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def to_state(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "target": self.target,
            "kind": self.kind,
            "summary": self.summary,
            "crossed": list(self.crossed),
            "backup_gate_mandatory": self.backup_gate_mandatory,
            "blockers": [f.to_state() for f in self.blockers],
            "warnings": [f.to_state() for f in self.warnings],
            "phases": [p.to_state() for p in self.phases],
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Plan:
        return cls(
            current=str(data.get("current", "")),
            target=str(data.get("target", "")),
            kind=str(data.get("kind", "incomplete")),
            summary=str(data.get("summary", "")),
            phases=tuple(PlanPhase.from_state(p) for p in data.get("phases", [])),
            blockers=tuple(Finding.from_state(f) for f in data.get("blockers", [])),
            warnings=tuple(Finding.from_state(f) for f in data.get("warnings", [])),
            crossed=tuple(str(v) for v in data.get("crossed", [])),
            backup_gate_mandatory=bool(data.get("backup_gate_mandatory", True)),
        )


# -- building the plan ---------------------------------------------------------


@dataclass
class _Builder:
    """Collects step decisions per phase while the rules run."""

    steps: dict[str, list[PlanStep]] = field(default_factory=lambda: {p: [] for p in PHASE_IDS})
    phase_status: dict[str, tuple[Applicability, str]] = field(default_factory=dict)
    optional: set[str] = field(default_factory=set)
    blockers: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    def add(
        self,
        phase_id: str,
        step_id: str,
        title: str,
        applies: bool = True,
        reason: str = "",
        manual: bool = False,
        recommended: bool = False,
    ) -> None:
        self.steps[phase_id].append(PlanStep(step_id, title, applies, reason, manual, recommended))

    def skip(self, phase_ids: tuple[str, ...], reason: str) -> None:
        for pid in phase_ids:
            if pid not in self.phase_status:  # the first (most fundamental) reason wins
                self.phase_status[pid] = (Applicability.SKIPPED, reason)

    def block(self, phase_ids: tuple[str, ...], reason: str) -> None:
        for pid in phase_ids:
            status, existing = self.phase_status.get(pid, (None, ""))
            if status is Applicability.SKIPPED:
                continue
            if status is Applicability.BLOCKED:
                if reason not in existing:
                    self.phase_status[pid] = (status, f"{existing}; {reason}")
            else:
                self.phase_status[pid] = (Applicability.BLOCKED, reason)

    def build(self, **kwargs: Any) -> Plan:
        phases = tuple(
            PlanPhase(
                pid,
                *self.phase_status.get(pid, (Applicability.APPLIES, "")),
                steps=tuple(self.steps[pid]),
                optional=pid in self.optional,
            )
            for pid in PHASE_IDS
        )
        return Plan(
            phases=phases, blockers=tuple(self.blockers), warnings=tuple(self.warnings), **kwargs
        )


def _names(releases: tuple[Release, ...] | list[Release]) -> str:
    return ", ".join(r.version for r in releases)


def build_plan(answers: Answers, catalogue: Catalogue | None = None) -> Plan:
    """The plan for these answers. Pure: the same answers always give the same plan.

    ``catalogue`` is the release catalogue to plan with (default: the one shipped).
    """
    catalogue = catalogue or bundled_catalogue()
    b = _Builder()
    path = _version_path(answers, catalogue)
    current = answers.current_version.strip()
    target = answers.target_version.strip()
    if path is not None:
        current, target = str(path.current), str(path.target)

    _base_steps(b, answers, path, catalogue)

    if path is None:
        reason = "Answer the current and target versions in Prepare first"
        b.blockers.append(Finding("versions_unknown", reason, UPGRADE_PHASES))
        b.block(UPGRADE_PHASES, reason)
        kind, summary = "incomplete", reason
    else:
        kind, summary = path.kind.value, path.explanation
        if path.kind is PathKind.SAME:
            b.skip(UPGRADE_PHASES, f"Already on {current}: nothing to do")
        elif not path.proceeds:
            b.blockers.append(Finding(path.kind.value, path.explanation, UPGRADE_PHASES))
            b.block(UPGRADE_PHASES, path.explanation)

    _server_rules(b, answers)
    gate = _backup_gate(b, answers)
    _warnings(b, answers, path)

    unanswered = _unanswered(answers)
    if unanswered:
        b.warnings.insert(
            0,
            Finding(
                "unanswered",
                f"{unanswered} preparation question(s) not answered yet: this plan assumes "
                "the cautious answer until you do.",
                ("prepare",),
            ),
        )
    return b.build(
        current=current,
        target=target,
        kind=kind,
        summary=summary,
        crossed=tuple(r.version for r in (path.crossed if path else ())),
        backup_gate_mandatory=gate,
    )


def _version_path(answers: Answers, catalogue: Catalogue) -> UpgradePath | None:
    try:
        return upgrade_path(
            parse_version(answers.current_version),
            parse_version(answers.target_version),
            catalogue,
        )
    except ValueError:
        return None


def _unanswered(a: Answers) -> int:
    questions: list[object] = [
        a.current_version or None,
        a.target_version or None,
        a.core_customised,
        a.integrations,
        a.fully_configured,
        a.real_registrars,
        a.real_citizens,
        a.deployed,
    ]
    if a.deployed:
        questions += [a.server_kind, a.environments or None, a.backup_server, a.automated_backups]
    return sum(q is None for q in questions)


# The notes' "checkout master" and "merge countryconfig/master", and why the release is used.
MASTER_THEN_AND_NOW = (
    "in 2023 master was the 1.3 release; today upstream master is far past 1.3: "
    "country config 1.9.x, core 2.x"
)


def migrations_of(releases: tuple[Release, ...] | list[Release]) -> list[Migration]:
    """The automatic data migrations deploying across ``releases`` runs, in order."""
    return [m for r in releases for m in r.migrations]


def migrations_text(releases: tuple[Release, ...] | list[Release]) -> str:
    """``hearth 20240201123539-join-given-name (1.3.3, every Patient record), ...``."""
    return ", ".join(f"{m.label} ({r.version}, {m.scope})" for r in releases for m in r.migrations)


def _target_release(path: UpgradePath | None, catalogue: Catalogue) -> Release | None:
    return catalogue.by_version.get(str(path.target)) if path else None


def _base_steps(b: _Builder, a: Answers, path: UpgradePath | None, catalogue: Catalogue) -> None:
    crossed: tuple[Release, ...] = path.crossed if path else ()
    target = str(path.target) if path else (a.target_version.strip() or "the target")
    current = str(path.current) if path else (a.current_version.strip() or "your version")
    release = _target_release(path, catalogue)
    tag = f"v{target}"

    b.add(
        "prepare",
        "answer_questions",
        "Answer the preparation questions",
        reason="Step 1 of the notes: the answers decide which steps below apply",
    )
    b.add(
        "plan",
        "review_plan",
        "Review and accept this plan",
        reason="Nothing is run on your repositories or servers before you accept it",
    )

    _core_steps(b, a, tag)
    _config_steps(b, a, target, tag, release, catalogue, path)

    b.add(
        "verify_local",
        "start_locally",
        "Start OpenCRVS locally",
        reason="Step 2.8 of the notes: the upgrade is finished locally once it starts",
    )
    b.add(
        "verify_local",
        "local_migrations",
        "Automatic data migrations run on the local data",
        reason=_migration_reason(crossed, "when OpenCRVS starts on your local data")
        if migrations_of(crossed)
        else f"No automatic data migration between {current} and {target}; "
        "core's migration service still checks on start",
    )

    b.add(
        "release",
        "merge_pr",
        "Merge the upgrade pull request",
        reason="Step 2.9 of the notes: the merged branch is what gets released",
    )
    b.add(
        "release",
        "tag_release",
        f"Tag the release of your country config ({target})",
        reason="Step 2.10: the tag names the image you build and deploy",
    )
    b.add(
        "release",
        "publish_image",
        "Build and publish the release image",
        reason="Step 2.10: the GitHub action publish-release.yml, or build-and-push.sh",
    )
    _env_steps(b, path, catalogue)

    for env_phase, where in (("deploy_qa", "QA"), ("deploy_production", "production")):
        if env_phase == "deploy_production":
            b.add(
                env_phase,
                "inform_staff",
                "Tell staff to submit their drafts (browser drafts are lost)",
                reason="Step 3: drafts live only in each browser's cache, which the update clears",
                manual=True,
            )
        _ansible_step(b, env_phase, where, crossed, current)
        b.add(
            env_phase,
            "deploy",
            f"Deploy v{target} to {where}"
            + (" with --clear_data=no" if where == "production" else ""),
            reason="Step 2.12 of the notes: deploy with the new version tags"
            if where == "QA"
            else "Step 3.1: production is always deployed with --clear_data=no",
        )
        _migration_step(b, env_phase, where, crossed, current)
        b.add(
            env_phase,
            "check_services",
            f"Check every service came up on {where}",
            reason="deploy.sh does not check it: the stack can take about 10 minutes",
        )
        if env_phase == "deploy_qa":
            _integrations_step(b, a)

    b.add(
        "backup_production",
        "emergency_backup",
        "Emergency backup of production",
        reason="Step 3: back up before anything touches production",
    )
    b.add(
        "backup_production",
        "copy_off_server",
        "Store the backup off the production server",
        reason="Step 3: the backup must be stored externally before proceeding",
    )
    b.add(
        "backup_production",
        "restore_on_qa",
        "Restore the backup on QA and check it",
        reason="Step 3: a backup counts once it restored successfully on QA",
    )


def _core_steps(b: _Builder, a: Answers, tag: str) -> None:
    """Step 2.1 of the notes: "git fetch, git checkout master, git pull, yarn --force"."""
    b.add(
        "update_core",
        "fetch",
        f"git fetch: bring core's release tag {tag}",
        reason=f"Step 2.1 of the notes; {tag} is a tag of opencrvs-core",
    )
    customised = a.core_customised is not False
    assumed = (
        " (not answered yet: assumed customised, the cautious answer)"
        if (a.core_customised is None)
        else ""
    )
    if customised:
        b.add(
            "update_core",
            "checkout_master",
            f"Check out {tag}",
            applies=False,
            reason=f"Your core is customised{assumed}: {tag} is merged into your branch "
            "instead (next step)",
        )
    else:
        b.add(
            "update_core",
            "checkout_master",
            f"Check out {tag}",
            reason=f"The notes say `git checkout master`: {MASTER_THEN_AND_NOW}, so "
            f"crvs-migrate moves your un-customised core to the tag {tag}",
        )
    b.add(
        "update_core",
        "pull",
        "git pull",
        applies=False,
        reason=f"The notes pull master; a release tag does not move, so git fetch already "
        f"brought all of {tag}",
    )
    if customised:
        b.add(
            "update_core",
            "merge_core_fork",
            f"Merge {tag} into your core branch",
            reason=f"You customised opencrvs-core{assumed}: the notes ask you to merge the release "
            f"into your core too. It is {tag}, never master: {MASTER_THEN_AND_NOW}",
        )
    else:
        b.add(
            "update_core",
            "merge_core_fork",
            f"Merge {tag} into your core branch",
            applies=False,
            reason=f"No customisations to opencrvs-core: the tag {tag} is checked out instead",
        )
    b.add(
        "update_core",
        "yarn_install",
        "yarn --force",
        reason=f"Step 2.1: installs the dependency upgrades of {tag}",
    )


def _config_steps(
    b: _Builder,
    a: Answers,
    target: str,
    tag: str,
    release: Release | None,
    catalogue: Catalogue,
    path: UpgradePath | None,
) -> None:
    """Steps 2.3-2.7: fetch --all, the upgrade branch, the merge, yarn, conflicts."""
    ref = release.refs[0] if release else tag
    also = [r for r in release.refs[1:]] if release else []
    b.add(
        "merge_config",
        "fetch_all",
        f"git fetch --all: bring upstream's {ref}",
        reason="Step 2.5 of the notes: your fork has upstream as a remote",
    )
    b.add(
        "merge_config",
        "upgrade_branch",
        f"Create the branch upgrade-countryconfig-v{target}",
        reason="Step 2.6: the merge goes into its own branch, for a pull request",
    )
    why = (
        f"The notes say `git merge countryconfig/master`: {MASTER_THEN_AND_NOW}, so "
        f"crvs-migrate merges the release itself"
    )
    if release and release.upstream_refs_why and release.upstream_refs[:1] != (tag,):
        why += f": {ref}, because {release.upstream_refs_why}"
    elif also:
        why += f" ({' or '.join([ref, *also])}, whichever upstream has)"
    b.add(
        "merge_config",
        "merge_upstream",
        f"Merge {ref} into the upgrade branch",
        reason=f"{why}; afterwards package.json must say {target}",
    )
    b.add(
        "merge_config",
        "yarn_install",
        "yarn --force",
        reason="Step 2.6: installs the dependencies of the merged country config",
    )
    b.add(
        "merge_config",
        "resolve_conflicts",
        "Resolve merge conflicts",
        reason="Step 2.7: conflicts are yours to resolve (git merge --abort is the way back)",
        manual=True,
    )
    _manual_release_steps(b, path, catalogue)


def _integrations_step(b: _Builder, a: Answers) -> None:
    if a.integrations is False:
        b.add(
            "deploy_qa",
            "test_integrations",
            "Test your integrations on QA",
            applies=False,
            reason="No integrations through the API or system clients",
        )
        return
    which = a.integrations_list.strip()
    b.add(
        "deploy_qa",
        "test_integrations",
        "Test your integrations on QA",
        reason=(f"You integrated: {which}" if which else "You have integrations")
        if a.integrations
        else "Not answered yet: assumed you have integrations",
        manual=True,
    )


def _ansible_step(
    b: _Builder, phase_id: str, where: str, crossed: tuple[Release, ...], current: str
) -> None:
    title = f"Run the Ansible playbook on the {where} servers"
    needing = [r for r in crossed if r.ansible_run]
    if needing:
        detail = " (the incompatible hotfix)" if any(r.incompatible for r in needing) else ""
        what = "; ".join(f"{r.version}: {r.playbook_change}" for r in needing)
        b.add(
            phase_id,
            "ansible_playbook",
            title,
            reason=f"Crossing {_names(needing)}{detail}, whose playbooks change: {what}",
            manual=True,
        )
        return
    optional = [r for r in crossed if r.playbook_change]
    reason = (
        f"Not needed: the notes say Ansible changes are not required on a hotfix after "
        f"1.3.1, and a hotfix upgrade from {current} crosses no release that needs them"
    )
    if optional:
        reason += ". " + "; ".join(
            f"{r.version} changes the playbooks: {r.playbook_change}" for r in optional
        )
    b.add(phase_id, "ansible_playbook", title, applies=False, reason=reason, manual=True)


def _migration_reason(crossed: tuple[Release, ...], where: str) -> str:
    hotfix_rule = (
        ""
        if any(r.incompatible for r in crossed)
        else " (the notes: data migrations are not required on a hotfix)"
    )
    return (
        f"Nothing to run by hand{hotfix_rule}, but core's migration service runs these "
        f"automatically {where}: {migrations_text(crossed)}. Their time grows with the "
        "number of records"
    )


def _migration_step(
    b: _Builder, phase_id: str, where: str, crossed: tuple[Release, ...], current: str
) -> None:
    title = f"Wait for the automatic data migrations to finish on {where}"
    if migrations_of(crossed):
        b.add(
            phase_id,
            "data_migration",
            title,
            reason=_migration_reason(crossed, f"when the release is deployed on {where}"),
        )
        return
    span = f" ({_names(crossed)})" if crossed else ""
    b.add(
        phase_id,
        "data_migration",
        title,
        applies=False,
        reason=f"Not needed: a hotfix upgrade from {current} crosses no release{span} that adds "
        "a data migration",
    )


def _not_crossed(release: Release, path: UpgradePath | None) -> str:
    """Why a release's change is not part of this upgrade."""
    if path is None:
        return f"Not known yet whether the upgrade crosses {release.version}"
    if release.key <= tuple(path.current):
        return f"Your current {path.current} already includes {release.version}"
    return f"Comes with {release.version}, after your target {path.target}"


def _manual_release_steps(b: _Builder, path: UpgradePath | None, catalogue: Catalogue) -> None:
    """Manual steps from the catalogue, each in its own phase; listed even when not crossed."""
    crossed_versions = {r.version for r in (path.crossed if path else ())}
    for release in catalogue.releases:
        for manual in release.manual_steps:
            title = manual.title + (" (recommended)" if manual.recommended else "")
            if release.version in crossed_versions:
                kind = (
                    f"Recommended by {release.version}, not required"
                    if manual.recommended
                    else f"Required by {release.version}"
                )
                b.add(
                    manual.phase,
                    manual.id,
                    title,
                    reason=f"{kind}: {manual.why}",
                    manual=True,
                    recommended=manual.recommended,
                )
            else:
                b.add(
                    manual.phase,
                    manual.id,
                    title,
                    applies=False,
                    reason=_not_crossed(release, path),
                    manual=True,
                    recommended=manual.recommended,
                )


def _env_steps(b: _Builder, path: UpgradePath | None, catalogue: Catalogue) -> None:
    crossed: tuple[Release, ...] = path.crossed if path else ()
    crossed_versions = {r.version for r in crossed}
    for release in catalogue.releases:
        for var in release.new_required_env:
            step_id = f"env_{var.lower()}"
            title = f"Set the new required environment variable {var}"
            if release.version in crossed_versions:
                b.add(
                    "release",
                    step_id,
                    title,
                    reason=f"Required from {release.version}: deploy.sh stops without it",
                )
            else:
                b.add("release", step_id, title, applies=False, reason=_not_crossed(release, path))
    # Optional variables: mentioned only if they still exist at the target.
    added: dict[str, str] = {}
    removed: dict[str, str] = {}
    for release in crossed:
        for var in release.optional_env:
            added[var] = release.version
            removed.pop(var, None)
        for var in release.removed_env:
            if var in added:
                removed[var] = f"added in {added.pop(var)} and removed again in {release.version}"
            else:
                removed[var] = f"removed in {release.version}"
    if added:
        versions = sorted(set(added.values()))
        b.add(
            "release",
            "optional_env",
            f"Review the optional environment variables: {', '.join(sorted(added))}",
            reason=f"Optional from {', '.join(versions)} (deploy.sh only prints 'Info: Missing "
            "optional'): set them only if you use what they configure. The env check reads "
            "the deploy.sh you merge",
            manual=True,
        )
    else:
        gone: dict[str, list[str]] = {}
        for var, why in sorted(removed.items()):
            if why.startswith("added"):
                gone.setdefault(why, []).append(var)
        reason = "; ".join(f"{', '.join(v)}: {why}" for why, v in gone.items())
        b.add(
            "release",
            "optional_env",
            "Review new optional environment variables",
            applies=False,
            reason=f"None left at the target ({reason})"
            if gone
            else "No release crossed adds optional variables",
        )
    dropped = sorted(v for v, why in removed.items() if not why.startswith("added"))
    if dropped:
        b.add(
            "release",
            "removed_env",
            f"Remove environment variables no longer used: {', '.join(dropped)}",
            reason="; ".join(removed[v] for v in dropped),
            manual=True,
        )
    else:
        b.add(
            "release",
            "removed_env",
            "Remove environment variables no longer used",
            applies=False,
            reason="No variable you have is removed",
        )


def _server_rules(b: _Builder, a: Answers) -> None:
    if a.deployed is False:
        b.skip(
            SERVER_PHASES,
            "Not deployed to servers: the upgrade ends once it runs locally (Verify locally)",
        )
        return
    if a.deployed is None or not a.environments:
        return  # not known yet: keep every phase, the cautious assumption
    has_qa = a.has(EnvironmentId.QA)
    has_prod = a.has(EnvironmentId.PRODUCTION)
    if not has_prod:
        b.skip(PRODUCTION_PHASES, "No production environment")
    if not has_qa:
        if has_prod:
            reason = "No separate QA environment: set one up and test the upgrade there first"
            b.blockers.append(Finding("no_qa", reason, ("deploy_qa", *PRODUCTION_PHASES)))
            b.block(("deploy_qa",), "No QA environment to deploy to: set one up first")
            b.block(PRODUCTION_PHASES, "Test on QA first: there is no separate QA environment")
        else:
            b.skip(("deploy_qa",), "No QA environment")
    if has_prod and a.backup_server is False:
        reason = (
            "No backup server: provision one and set up automated backups before "
            "touching production"
        )
        b.blockers.append(Finding("no_backup_server", reason, PRODUCTION_PHASES))
        b.block(PRODUCTION_PHASES, "No backup server: provision one first")


def _backup_gate(b: _Builder, a: Answers) -> bool:
    """Is the production backup gate mandatory? Cautious while unanswered."""
    why: list[str] = []
    if a.real_citizens in (CitizenRegistration.TESTING, CitizenRegistration.PRODUCTION):
        why.append(f"you register real citizens ({a.real_citizens.label.lower()})")
    if a.real_registrars:
        why.append("you have real registrar users")
    if a.real_citizens is None or a.real_registrars is None:
        why.append("not all answers about real data are in yet")
    mandatory = bool(why)
    if mandatory:
        b.add(
            "deploy_production",
            "backup_gate",
            "Production waits until the backup is stored off-server and restored on QA",
            reason="Mandatory: " + " and ".join(why),
        )
    else:
        b.optional.add("backup_production")
        b.add(
            "deploy_production",
            "backup_gate",
            "Production waits until the backup is stored off-server and restored on QA",
            applies=False,
            reason="No real citizens or registrars yet: the backup is recommended, not mandatory",
        )
    return mandatory


def _warnings(b: _Builder, a: Answers, path: UpgradePath | None) -> None:
    if path is not None and path.proceeds:
        _notices(b, path)
    if not a.deployed:
        return
    prod = a.environments.get(EnvironmentId.PRODUCTION)
    if prod is not None and prod.cluster_size == 1:
        b.warnings.append(
            Finding(
                "single_server_production",
                "Production runs on 1 server: the docs call this very risky (1 server is for "
                "staging/QA; 3 is normal production).",
                ("deploy_production",),
            )
        )
    for env_id, env in sorted(
        a.environments.items(), key=lambda kv: list(EnvironmentId).index(kv[0])
    ):
        low = []
        if env.ram_gb is not None and env.ram_gb < SPEC_RAM_GB:
            low.append(f"{env.ram_gb} GB RAM (spec {SPEC_RAM_GB} GB)")
        if env.disk_gb is not None and env.disk_gb < SPEC_DISK_GB:
            low.append(f"{env.disk_gb} GB disk (spec {SPEC_DISK_GB} GB)")
        if low:
            b.warnings.append(
                Finding(
                    f"under_spec_{env_id.value}",
                    f"{env_id.label} servers are under the documented spec: {', '.join(low)} "
                    "per server.",
                    (_env_phase(env_id),),
                )
            )
    if a.backup_server and a.automated_backups is False and prod is not None:
        b.warnings.append(
            Finding(
                "no_automated_backups",
                "Automated emergency backups are not set up: set them up as documented "
                "before the upgrade.",
                ("backup_production",),
            )
        )
    migrations = migrations_of(path.crossed) if path is not None and path.proceeds else []
    if migrations and a.real_citizens is CitizenRegistration.PRODUCTION:
        names = ", ".join(m.label for m in migrations)
        b.warnings.append(
            Finding(
                "long_migration",
                f"With live registrations the automatic data migrations ({names}) run on "
                "every record they touch and can take hours, slowing OpenCRVS down. Consider "
                "pausing registrations and upgrading a restored copy on new servers, then "
                "switching DNS.",
                ("deploy_production",),
            )
        )


def _notices(b: _Builder, path: UpgradePath) -> None:
    """The catalogue's notices of the releases crossed, for phases that still apply."""
    for release in path.crossed:
        for notice in release.notices:
            if notice.only_as_target and release.key != tuple(path.target):
                continue
            live = [
                p
                for p in notice.phases
                if b.phase_status.get(p, (Applicability.APPLIES, ""))[0]
                is not Applicability.SKIPPED
            ]
            if notice.phases and not live:
                continue
            b.warnings.append(Finding(notice.code, notice.message, notice.phases))


def _env_phase(env_id: EnvironmentId) -> str:
    return {"qa": "deploy_qa", "production": "deploy_production"}.get(env_id.value, "verify_local")


# -- what changed since the last plan --------------------------------------------


@dataclass(frozen=True)
class PlanChange:
    # "+" added / now applies, "-" removed / no longer applies, "~" changed.
    sign: str
    text: str


def diff_plans(old: Plan | None, new: Plan) -> list[PlanChange]:
    """What changed from ``old`` to ``new``, in plan order; empty when nothing did."""
    if old is None:
        return []
    changes: list[PlanChange] = []
    if (old.current, old.target) != (new.current, new.target):
        changes.append(
            PlanChange(
                "~",
                f"Versions: {old.current or '?'} → {old.target or '?'} is now "
                f"{new.current or '?'} → {new.target or '?'}",
            )
        )
    for label, old_f, new_f in (
        ("Blocker", old.blockers, new.blockers),
        ("Warning", old.warnings, new.warnings),
    ):
        old_by = {f.code: f for f in old_f}
        new_by = {f.code: f for f in new_f}
        for code, f in new_by.items():
            if code not in old_by:
                changes.append(PlanChange("+", f"{label}: {f.message}"))
            elif old_by[code].message != f.message:
                changes.append(PlanChange("~", f"{label}: {f.message}"))
        for code, f in old_by.items():
            if code not in new_by:
                changes.append(PlanChange("-", f"{label} resolved: {f.message}"))
    old_phases = {p.id: p for p in old.phases}
    for phase in new.phases:
        before = old_phases.get(phase.id)
        if before is None:
            continue
        if before.status is not phase.status:
            why = f" ({phase.reason})" if phase.reason else ""
            changes.append(
                PlanChange("~", f"{phase.title}: {before.status.value} → {phase.status.value}{why}")
            )
        old_steps = {s.id: s for s in before.steps}
        for step in phase.steps:
            prior = old_steps.get(step.id)
            if prior is None or prior.applies == step.applies:
                continue
            if step.applies:
                changes.append(PlanChange("+", f"{phase.title} › {step.title}: now applies"))
            else:
                changes.append(
                    PlanChange(
                        "-", f"{phase.title} › {step.title}: no longer applies ({step.reason})"
                    )
                )
    return changes


# -- the plan in the session -------------------------------------------------------


@dataclass
class PlanRecord:
    """``session.plan``: the plan the sidebar shows, the one before it, what was accepted,
    and what ``apply_plan`` set (so it can undo exactly that)."""

    KEY: ClassVar[str] = "plan"

    current: Plan | None = None
    previous: Plan | None = None
    # The digest of the plan the operator accepted ("" until then).
    accepted: str = ""
    # phase id -> (status value, reason) the plan set on that phase.
    applied_phases: dict[str, tuple[str, str]] = field(default_factory=dict)
    # "<phase>/<step>" -> the reason the plan skipped that step with.
    applied_steps: dict[str, str] = field(default_factory=dict)
    # Why the operator reopened the answers after a plan was accepted ("" while they are
    # frozen, or before any plan was accepted).
    answers_reopened: str = ""

    @classmethod
    def of(cls, session: Session) -> PlanRecord:
        return session.section(cls)

    @property
    def is_accepted(self) -> bool:
        return self.current is not None and self.accepted == self.current.digest

    def to_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.current is not None:
            out["current"] = self.current.to_state()
        if self.previous is not None:
            out["previous"] = self.previous.to_state()
        if self.accepted:
            out["accepted"] = self.accepted
        if self.answers_reopened:
            out["answers_reopened"] = self.answers_reopened
        if self.applied_phases or self.applied_steps:
            out["applied"] = {
                "phases": {
                    pid: {"status": status, "reason": reason}
                    for pid, (status, reason) in self.applied_phases.items()
                },
                "steps": dict(self.applied_steps),
            }
        return out

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> PlanRecord:
        def plan(key: str) -> Plan | None:
            value = data.get(key)
            if value is None:
                return None
            if not isinstance(value, dict):
                raise ValueError(f"'{key}' must be a table")
            # Written only by crvs-migrate: any other type is a hand edit, refused.
            for text in ("current", "target", "kind", "summary"):
                if not isinstance(value.get(text, ""), str):
                    raise ValueError(f"'{key}.{text}' must be text")
            for table in ("phases", "blockers", "warnings", "crossed"):
                items = value.get(table, [])
                if not isinstance(items, list):
                    raise ValueError(f"'{key}.{table}' must be a list")
            return Plan.from_state(value)

        applied = data.get("applied", {})
        if not isinstance(applied, dict):
            raise ValueError("'applied' must be a table")
        phases = applied.get("phases", {})
        steps = applied.get("steps", {})
        if not isinstance(phases, dict) or not isinstance(steps, dict):
            raise ValueError("'applied' phases and steps must be tables")
        return cls(
            current=plan("current"),
            previous=plan("previous"),
            accepted=str(data.get("accepted", "")),
            answers_reopened=str(data.get("answers_reopened", "")),
            applied_phases={
                str(pid): (str(v.get("status", "")), str(v.get("reason", "")))
                for pid, v in phases.items()
                if isinstance(v, dict)
            },
            applied_steps={str(k): str(v) for k, v in steps.items()},
        )


def load_plan(session: Session) -> Plan | None:
    return PlanRecord.of(session).current


def current_plan(session: Session) -> Plan:
    """The saved plan, or (before one was made) the plan for the answers so far."""
    return load_plan(session) or build_plan(Answers.of(session))


def plan_step_applies(session: Session, phase_id: str, step_id: str) -> bool:
    """Does step ``step_id`` of phase ``phase_id`` apply to this installation?

    For the screens of phases 3-9. ``False`` for a step the plan does not know,
    or when the whole phase is skipped or blocked. Step ids: ARCHITECTURE.md.
    """
    if phase_id not in PHASES_BY_ID:
        raise KeyError(f"unknown phase {phase_id!r}")
    return current_plan(session).step_applies(phase_id, step_id)


def plan_changes(session: Session) -> list[PlanChange]:
    record = PlanRecord.of(session)
    return diff_plans(record.previous, record.current) if record.current else []


def update_plan(session: Session) -> tuple[Plan, bool]:
    """Rebuild the plan from the session's answers; save and apply it if it changed.

    Returns the plan and whether it changed. An accepted plan that changes must
    be accepted again (the Plan phase goes back to in progress).
    """
    new = build_plan(Answers.of(session))
    record = PlanRecord.of(session)
    old = record.current
    changed = old is None or old.to_state() != new.to_state()
    if changed:
        # While answers reopened after an acceptance are changed, the plan before is the
        # accepted one: what changed is told against what the operator accepted.
        keep_accepted = (
            record.previous is not None
            and record.previous.digest == record.accepted
            and old is not None
            and old.digest != record.accepted
        )
        if old is not None and not keep_accepted:
            record.previous = old
        record.current = new
        if record.accepted != new.digest:
            session.phase("plan").reopen()
    apply_plan(session, new)
    return new, changed


def accept_plan(session: Session, now: str) -> Plan:
    plan = current_plan(session)
    record = PlanRecord.of(session)
    record.current = plan
    record.accepted = plan.digest
    # The answers the plan was made from are frozen again.
    record.answers_reopened = ""
    phase = session.phase("plan")
    phase.finish(now)
    phase.step("review_plan").succeed(at=now)
    return plan


def plan_accepted(session: Session) -> bool:
    return PlanRecord.of(session).is_accepted


# -- Prepare's answers once a plan was accepted --------------------------------------


def answers_frozen(session: Session) -> bool:
    """Prepare's answers are frozen once a plan was accepted: the steps run from that
    plan. They change only after the operator reopens them, saying why."""
    record = PlanRecord.of(session)
    return bool(record.accepted) and not record.answers_reopened


def reopen_answers(session: Session, reason: str, journal: Journal | None = None) -> None:
    """Reopen frozen answers for a change; the reason goes into the journal.

    Prepare goes back to in progress; the plan is made again when the operator is done,
    and must then be accepted again if it changed (``update_plan``).
    """
    reason = " ".join(sanitize(reason).split())
    if not reason:
        raise CrvsError(
            "Say why the answers change: the reason is kept in the journal.",
            "A reason is needed",
        )
    if not answers_frozen(session):
        return
    PlanRecord.of(session).answers_reopened = reason
    session.phase("prepare").reopen()
    if journal is not None:
        journal.confirmation(
            f"answers reopened after the plan was accepted: {reason}", phase="prepare"
        )


def answers_done(session: Session) -> bool:
    """Prepare's "Done": the phase is done and the plan made again from the answers.

    Returns whether the accepted plan still stands: answers reopened and left as they
    were (or changed back) need no new acceptance and are frozen again at once.
    """
    session.phase("prepare").finish()
    update_plan(session)
    record = PlanRecord.of(session)
    stands = record.is_accepted
    if stands:
        record.answers_reopened = ""
    return stands


def upgrade_started(session: Session) -> bool:
    """Work past the plan has begun: a later phase started or done, or one of its steps
    run, done by hand or failed (skipped by the plan does not count)."""
    after_plan = PHASE_IDS[PHASE_IDS.index("plan") + 1 :]
    for phase_id in after_plan:
        record = session.phase(phase_id)
        if record.status in (PhaseStatus.IN_PROGRESS, PhaseStatus.DONE):
            return True
        if any(
            step.status not in (StepStatus.NOT_STARTED, StepStatus.SKIPPED)
            for step in record.steps.values()
        ):
            return True
    return False


@dataclass(frozen=True)
class DetectedVersion:
    """What became of a version read from the country config checkout."""

    # The answer "which version are you on now" was filled in from it.
    filled: bool
    # Why it was left as it was ("" when nothing needs saying).
    kept_because: str = ""


def record_detected_version(session: Session, version: str) -> DetectedVersion:
    """Take a version detected in the country config into the answers.

    It fills an empty (or still detected) current version. Never once the answers are
    frozen, and never once the upgrade started: the checkout then holds the release
    being installed, not the version the upgrade started from.
    """
    answers = Answers.of(session)
    differs = bool(version) and version != answers.current_version
    if upgrade_started(session):
        if differs:
            return DetectedVersion(
                False,
                f"the checkout now reads {version}: the upgrade started from "
                f"{answers.current_version or 'the version answered'}, kept",
            )
        return DetectedVersion(False)
    if answers_frozen(session):
        if differs:
            return DetectedVersion(
                False, f"the checkout now reads {version}: the answers are frozen, kept"
            )
        return DetectedVersion(False)
    previous = answers.detected_version
    answers.detected_version = version
    if version and answers.current_version in ("", previous):
        answers.current_version = version
        return DetectedVersion(True)
    return DetectedVersion(False)


_TO_PHASE_STATUS = {
    Applicability.SKIPPED: PhaseStatus.SKIPPED,
    Applicability.BLOCKED: PhaseStatus.BLOCKED,
}


def apply_plan(session: Session, plan: Plan) -> None:
    """Show the plan in the phase records (and so in the sidebar).

    A phase the plan skips or blocks gets that status and reason, unless it is
    done or in progress (never downgraded) or someone else set its status. A
    phase that applies again loses a status the plan had set. Steps likewise:
    not-applicable steps are marked skipped with the reason. What was applied is
    remembered in ``PlanRecord.applied_*`` so it can be undone precisely.
    """
    record = PlanRecord.of(session)
    for phase in plan.phases:
        phase_rec = session.phase(phase.id)
        mine = record.applied_phases.get(phase.id)
        set_by_plan = mine is not None and (phase_rec.status.value, phase_rec.reason) == mine
        wanted = _TO_PHASE_STATUS.get(phase.status)
        if wanted is not None:
            if phase_rec.status is PhaseStatus.NOT_STARTED or set_by_plan:
                if wanted is PhaseStatus.SKIPPED:
                    phase_rec.skip(phase.reason)
                else:
                    phase_rec.block(phase.reason)
                record.applied_phases[phase.id] = (wanted.value, phase.reason)
        elif set_by_plan:
            phase_rec.clear()
            record.applied_phases.pop(phase.id, None)
        else:
            record.applied_phases.pop(phase.id, None)
        for step in phase.steps:
            key = f"{phase.id}/{step.id}"
            existing = phase_rec.steps.get(step.id)
            note = record.applied_steps.get(key)
            step_by_plan = (
                existing is not None
                and existing.status is StepStatus.SKIPPED
                and existing.note == note
            )
            if not step.applies:
                if existing is None or existing.status is StepStatus.NOT_STARTED or step_by_plan:
                    phase_rec.step(step.id).skip(step.reason)
                    record.applied_steps[key] = step.reason
            else:
                if step_by_plan and existing is not None:
                    existing.reset()
                record.applied_steps.pop(key, None)
