"""Table tests of every upgrade-path and plan rule of the Prepare and Plan issue."""

from __future__ import annotations

import dataclasses

import pytest

from tasks.upgrade import catalogue as releases
from tasks.upgrade.answers import CitizenRegistration, EnvironmentId
from tasks.upgrade.catalogue import Release
from tasks.upgrade.plan import Applicability, build_plan
from tasks.upgrade.versions import PathKind, Version, parse_version, upgrade_path
from tests.support.plan import env, full_answers

UPGRADE_PHASES = (
    "update_core",
    "merge_config",
    "verify_local",
    "release",
    "deploy_qa",
    "backup_production",
    "deploy_production",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.3.0", Version(1, 3, 0)),
        ("v1.3.5", Version(1, 3, 5)),
        (" 1.2 ", Version(1, 2, 0)),
        ("1.10.2", Version(1, 10, 2)),
    ],
)
def test_parse_version(text: str, expected: Version) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["", "1", "1.3.x", "latest", "1.3.0-rc1", "v", "1..3"])
def test_parse_version_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_version(text)


@pytest.mark.parametrize(
    ("current", "target", "kind", "says"),
    [
        ("1.1.0", "1.3.5", PathKind.SKIPPED_MINOR, "1.1 to 1.2 first"),
        ("1.0.3", "1.3.0", PathKind.SKIPPED_MINOR, "1.0 to 1.1 first"),
        ("1.2.0", "1.3.0", PathKind.FROM_1_2, "new servers, a restore of your backup and hours"),
        ("1.2.4", "1.3.5", PathKind.FROM_1_2, "v1.2 to v1.3 migration notes"),
        ("1.3.4", "1.3.2", PathKind.DOWNGRADE, "cannot be downgraded"),
        ("1.4.0", "1.3.5", PathKind.DOWNGRADE, "cannot be downgraded"),
        ("1.3.3", "1.3.3", PathKind.SAME, "nothing to upgrade"),
        ("1.3.0", "1.3.9", PathKind.UNKNOWN_TARGET, "not a known release"),
        ("1.3.0", "1.3.1", PathKind.HOTFIX, "crossing 1.3.1"),
        ("1.3.1", "1.3.5", PathKind.HOTFIX, "crossing 1.3.2, 1.3.3, 1.3.4, 1.3.5"),
    ],
)
def test_upgrade_paths(current: str, target: str, kind: PathKind, says: str) -> None:
    path = upgrade_path(parse_version(current), parse_version(target))
    assert path.kind is kind
    assert says in path.explanation
    assert path.proceeds is (kind is PathKind.HOTFIX)


@pytest.mark.parametrize(
    ("current", "target", "kind"),
    [
        ("1.1.0", "1.3.5", "skipped_minor"),
        ("1.2.0", "1.3.0", "from_1_2"),
        ("1.3.5", "1.3.1", "downgrade"),
    ],
)
def test_refused_paths_block_every_upgrade_phase(current: str, target: str, kind: str) -> None:
    plan = build_plan(full_answers(current_version=current, target_version=target))
    assert plan.kind == kind
    assert [b.code for b in plan.blockers][0] == kind
    for pid in UPGRADE_PHASES:
        assert plan.phase(pid).status is Applicability.BLOCKED
    assert plan.phase("prepare").status is Applicability.APPLIES


def test_same_version_nothing_to_do() -> None:
    plan = build_plan(full_answers(current_version="1.3.5", target_version="1.3.5"))
    assert plan.kind == "same"
    assert not plan.blockers
    for pid in UPGRADE_PHASES:
        phase = plan.phase(pid)
        assert phase.status is Applicability.SKIPPED
        assert "nothing to do" in phase.reason


@pytest.mark.parametrize("current", ["1.3.1", "1.3.2", "1.3.4"])
def test_hotfix_from_1_3_1_or_later_skips_ansible_and_migration(current: str) -> None:
    plan = build_plan(full_answers(current_version=current))
    for pid in ("deploy_qa", "deploy_production"):
        for sid in ("ansible_playbook", "data_migration"):
            step = plan.step(pid, sid)
            assert step is not None and not step.applies
            assert f"hotfix upgrade from {current}" in step.reason
    assert not plan.step_applies("release", "env_content_security_policy_wildcard")


def test_from_1_3_0_crosses_the_incompatible_1_3_1() -> None:
    plan = build_plan(full_answers(current_version="1.3.0", target_version="1.3.1"))
    for pid in ("deploy_qa", "deploy_production"):
        assert plan.step_applies(pid, "ansible_playbook")
        assert plan.step_applies(pid, "data_migration")
        assert "1.3.1" in plan.step(pid, "ansible_playbook").reason
    assert plan.step_applies("release", "env_content_security_policy_wildcard")
    assert not plan.step_applies("merge_config", "certificate_templates")


@pytest.mark.parametrize(
    ("current", "target", "applies"),
    [
        ("1.3.2", "1.3.3", True),
        ("1.3.0", "1.3.5", True),
        ("1.3.3", "1.3.5", False),
        ("1.3.1", "1.3.2", False),
    ],
)
def test_crossing_1_3_3_adds_certificate_templates(
    current: str, target: str, applies: bool
) -> None:
    plan = build_plan(full_answers(current_version=current, target_version=target))
    step = plan.step("merge_config", "certificate_templates")
    assert step is not None and step.manual
    assert step.applies is applies
    assert step.reason


def test_1_3_4_mentions_its_optional_env_vars() -> None:
    plan = build_plan(full_answers(current_version="1.3.3", target_version="1.3.4"))
    step = plan.step("release", "optional_env")
    assert step is not None and step.applies
    assert "MOSIP_API_KEY" in step.title
    # Going on to 1.3.5 removes them again: nothing to set, and the reason says so.
    plan = build_plan(full_answers(current_version="1.3.3", target_version="1.3.5"))
    step = plan.step("release", "optional_env")
    assert not step.applies and "removed again in 1.3.5" in step.reason
    # From 1.3.4 to 1.3.5 they are to be removed.
    plan = build_plan(full_answers(current_version="1.3.4", target_version="1.3.5"))
    assert plan.step_applies("release", "removed_env")
    assert "MOSIP_API_KEY" in plan.step("release", "removed_env").title


def test_core_customisations_add_merge_core_fork() -> None:
    assert build_plan(full_answers(core_customised=True)).step_applies(
        "update_core", "merge_core_fork"
    )
    plan = build_plan(full_answers(core_customised=False))
    assert not plan.step_applies("update_core", "merge_core_fork")
    assert "No customisations" in plan.step("update_core", "merge_core_fork").reason


def test_integrations_add_testing_them_on_qa() -> None:
    plan = build_plan(full_answers(integrations=True, integrations_list="DHIS2"))
    assert plan.step_applies("deploy_qa", "test_integrations")
    assert "DHIS2" in plan.step("deploy_qa", "test_integrations").reason
    assert not build_plan(full_answers(integrations=False)).step_applies(
        "deploy_qa", "test_integrations"
    )


def test_not_deployed_ends_after_verify_locally() -> None:
    plan = build_plan(full_answers(deployed=False, environments={}))
    for pid in ("update_core", "merge_config", "verify_local"):
        assert plan.phase(pid).status is Applicability.APPLIES
    for pid in ("release", "deploy_qa", "backup_production", "deploy_production"):
        assert plan.phase(pid).status is Applicability.SKIPPED
        assert "Not deployed" in plan.phase(pid).reason


@pytest.mark.parametrize(
    ("citizens", "registrars", "mandatory"),
    [
        (CitizenRegistration.NO, False, False),
        (CitizenRegistration.TESTING, False, True),
        (CitizenRegistration.PRODUCTION, False, True),
        (CitizenRegistration.NO, True, True),
        (None, False, True),  # not answered: the cautious answer
    ],
)
def test_real_citizens_or_registrars_make_the_backup_gate_mandatory(
    citizens: CitizenRegistration | None, registrars: bool, mandatory: bool
) -> None:
    plan = build_plan(full_answers(real_citizens=citizens, real_registrars=registrars))
    assert plan.backup_gate_mandatory is mandatory
    assert plan.step_applies("deploy_production", "backup_gate") is mandatory
    assert plan.phase("backup_production").optional is (not mandatory)
    assert plan.phase("backup_production").status is Applicability.APPLIES


def test_no_backup_server_blocks_the_production_phases() -> None:
    plan = build_plan(full_answers(backup_server=False))
    assert "no_backup_server" in [b.code for b in plan.blockers]
    for pid in ("backup_production", "deploy_production"):
        assert plan.phase(pid).status is Applicability.BLOCKED
        assert "backup server" in plan.phase(pid).reason
    assert plan.phase("deploy_qa").status is Applicability.APPLIES


def test_single_server_production_warns() -> None:
    answers = full_answers()
    answers.environments[EnvironmentId.PRODUCTION] = env(1)
    plan = build_plan(answers)
    assert "single_server_production" in [w.code for w in plan.warnings]
    assert "very risky" in plan.warnings[0].message
    assert "single_server_production" not in [w.code for w in build_plan(full_answers()).warnings]


@pytest.mark.parametrize(
    ("ram", "disk", "warns"), [(16, 320, False), (8, 320, True), (16, 200, True), (32, 500, False)]
)
def test_ram_or_disk_under_spec_warns(ram: int, disk: int, warns: bool) -> None:
    answers = full_answers()
    answers.environments[EnvironmentId.QA] = env(1, ram=ram, disk=disk)
    codes = [w.code for w in build_plan(answers).warnings]
    assert ("under_spec_qa" in codes) is warns


def test_no_separate_qa_blocks_production() -> None:
    answers = full_answers()
    del answers.environments[EnvironmentId.QA]
    plan = build_plan(answers)
    assert "no_qa" in [b.code for b in plan.blockers]
    assert plan.phase("deploy_qa").status is Applicability.BLOCKED
    for pid in ("backup_production", "deploy_production"):
        assert plan.phase(pid).status is Applicability.BLOCKED
        assert "Test on QA first" in plan.phase(pid).reason


def test_both_blockers_are_given_together() -> None:
    answers = full_answers(backup_server=False)
    del answers.environments[EnvironmentId.QA]
    reason = build_plan(answers).phase("deploy_production").reason
    assert "Test on QA first" in reason and "backup server" in reason


def test_rules_are_data_driven_a_new_release_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    new = Release(
        "1.3.6",
        "2024-07-01",
        "test release",
        ansible_run=True,
        new_required_env=("NEW_REQUIRED_VAR",),
    )
    table = (*releases.RELEASES, new)
    for module in ("tasks.upgrade.catalogue", "tasks.upgrade.versions", "tasks.upgrade.plan"):
        monkeypatch.setattr(f"{module}.RELEASES", table)
    plan = build_plan(full_answers(current_version="1.3.5", target_version="1.3.6"))
    assert plan.proceeds and plan.crossed == ("1.3.6",)
    assert plan.step_applies("deploy_qa", "ansible_playbook")
    assert not plan.step_applies("deploy_qa", "data_migration")
    assert plan.step_applies("release", "env_new_required_var")
    assert not plan.step_applies("release", "env_content_security_policy_wildcard")


def test_answers_round_trip_through_state() -> None:
    import tomllib

    import tomli_w

    from tasks.upgrade.answers import Answers

    answers = full_answers(
        core_customised=True, core_fork_path="/x", core_upstream_remote="upstream"
    )
    answers.environments[EnvironmentId.QA].inventory_path = "qa.ini"
    back = Answers.from_state(tomllib.loads(tomli_w.dumps(answers.to_state())))
    assert back == answers
    assert dataclasses.asdict(back) == dataclasses.asdict(answers)


def test_unreadable_answers_are_not_answered() -> None:
    from tasks.upgrade.answers import Answers

    answers = Answers.from_state(
        {
            "deployed": "yes",
            "real_citizens": "sometimes",
            "environments": {"moon": {}, "qa": {"ram_gb": "x"}},
        }
    )
    assert answers.deployed is None and answers.real_citizens is None
    assert list(answers.environments) == [EnvironmentId.QA]
    assert answers.environments[EnvironmentId.QA].ram_gb is None
