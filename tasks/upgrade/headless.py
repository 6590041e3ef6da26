"""The plan without the full-screen app: answers without a session, and each step's command.

For ``crvs-migrate plan`` (``tui/cli/plan.py``): the answers come from a session file read
without writing or locking it, or else are the safest assumptions (production with real
citizens). A step that runs a command shows that command as the app would run it: the argv
comes from where the steps are defined (``tasks.local.upgrade_steps``, ``tasks.local.start``),
never from a second copy here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.errors import CrvsError
from tasks.lean import dataclass
from tasks.text import strip_control
from tasks.upgrade.answers import Answers, CitizenRegistration, EnvironmentAnswers, EnvironmentId
from tasks.upgrade.plan import Finding, Plan

# The plan's step ids that run a command (tasks.local.upgrade_steps defines them, same ids).
CORE_COMMANDS = ("fetch", "checkout_master", "pull", "merge_core_fork", "yarn_install")
CONFIG_COMMANDS = ("fetch_all", "upgrade_branch", "merge_upstream", "yarn_install")
# Phases whose commands depend on the servers (inventory, host, image tags): shown in the app.
NOT_HEADLESS = ("release", "deploy_qa", "backup_production", "deploy_production")


class PlanInputError(CrvsError):
    title = "Cannot plan"


@dataclass(frozen=True)
class StepCommand:
    argv: tuple[str, ...]
    # None when the checkout it runs in was not given.
    cwd: str | None


def safest_answers(current: str, target: str) -> Answers:
    """What the plan assumes without a session: the answers that keep every safeguard on.

    Production with real citizens and registrars, QA and production servers, a customised
    core, integrations (unanswered questions are planned cautiously).
    """
    return Answers(
        current_version=current,
        target_version=target,
        real_registrars=True,
        real_citizens=CitizenRegistration.PRODUCTION,
        deployed=True,
        environments={
            EnvironmentId.QA: EnvironmentAnswers(),
            EnvironmentId.PRODUCTION: EnvironmentAnswers(),
        },
    )


ASSUMPTIONS = Finding(
    "assumed_answers",
    "No --state given: planned for production with real citizens and registrars, QA and "
    "production servers, a customised core and integrations (the cautious answers). Give "
    "--state FILE to plan with this installation's answers.",
    ("prepare",),
)


def _upstream_remote(config: Path) -> str | None:
    """The fork's upstream remote, as the app finds it (by name, else by URL)."""
    from tasks.local.checkout import detect_upstream_remote
    from tasks.upgrade.detect import git_read

    code, out = git_read(config, "config", "--get-regexp", r"^remote\..*\.url$")
    urls: dict[str, str] = {}
    for line in out.splitlines() if code == 0 else []:
        key, _, url = line.partition(" ")
        name = key.removeprefix("remote.").removesuffix(".url")
        urls.setdefault(name, url)
    return detect_upstream_remote(urls)


def step_commands(
    plan: Plan, config: Path | None, core: Path | None
) -> dict[tuple[str, str], StepCommand]:
    """The command each applying step runs, keyed by (phase id, step id)."""
    from tasks.local.start import start_command
    from tasks.local.upgrade_steps import config_steps, core_steps, release_ref

    out: dict[tuple[str, str], StepCommand] = {}
    if plan.target:
        core_defined = {s.id: s for s in core_steps(core or Path("."), plan.target)}
        for step_id in CORE_COMMANDS:
            out[("update_core", step_id)] = StepCommand(
                tuple(core_defined[step_id].argv), str(core) if core else None
            )
        remote = _upstream_remote(config) if config else None
        ref = release_ref(config or Path("/nonexistent"), plan.target, remote)
        defined = {s.id: s for s in config_steps(config or Path("."), plan.target, ref.name)}
        for step_id in CONFIG_COMMANDS:
            out[("merge_config", step_id)] = StepCommand(
                tuple(defined[step_id].argv), str(config) if config else None
            )
    if config is not None:
        try:
            out[("verify_local", "start_locally")] = StepCommand(
                tuple(start_command(config)), str(config)
            )
        except CrvsError:
            pass  # no start script: the app asks how to start it
    return {
        key: cmd
        for key, cmd in out.items()
        if plan.phase(key[0]).status.value == "applies"
        and (step := plan.step(*key)) is not None
        and step.applies
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "message": strip_control(f.message), "phases": list(f.phases)}


def plan_document(
    plan: Plan,
    commands: dict[tuple[str, str], StepCommand],
    extra_warnings: tuple[Finding, ...] = (),
) -> dict[str, Any]:
    """The plan as ``crvs-migrate plan --json`` prints it."""
    phases = []
    for phase in plan.phases:
        steps = []
        for step in phase.steps:
            cmd = commands.get((phase.id, step.id))
            steps.append(
                {
                    "id": step.id,
                    "title": strip_control(step.title),
                    "applies": step.applies and phase.status.value == "applies",
                    "why": strip_control(step.reason),
                    "argv": [strip_control(a) for a in cmd.argv] if cmd else None,
                    "cwd": strip_control(cmd.cwd) if cmd and cmd.cwd else None,
                    "manual": step.manual,
                    "recommended": step.recommended,
                }
            )
        phases.append(
            {
                "id": phase.id,
                "title": phase.title,
                "status": phase.status.value,
                "reason": strip_control(phase.reason),
                "optional": phase.optional,
                "steps": steps,
            }
        )
    return {
        "current": plan.current,
        "target": plan.target,
        "path_kind": plan.kind,
        "summary": strip_control(plan.summary),
        "blockers": [_finding(f) for f in plan.blockers],
        "warnings": [_finding(f) for f in (*extra_warnings, *plan.warnings)],
        "phases": phases,
    }
