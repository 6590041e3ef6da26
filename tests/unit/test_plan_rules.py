"""Table tests of every upgrade-path and plan rule of the Prepare and Plan issue."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import pytest

from tasks.upgrade import catalogue as releases
from tasks.upgrade.answers import CitizenRegistration, EnvironmentId
from tasks.upgrade.plan import Applicability, build_plan
from tasks.upgrade.versions import PathKind, Version, parse_tag, parse_version, upgrade_path
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
    ("tag", "version", "suffix"),
    [
        ("v1.3.0", Version(1, 3, 0), ""),
        ("v1.3.0-ruritania.2", Version(1, 3, 0), "ruritania.2"),
        ("v1.3.5-farajaland-prod", Version(1, 3, 5), "farajaland-prod"),
        ("1.3.2-gb_1", Version(1, 3, 2), "gb_1"),
    ],
)
def test_country_tags_count_as_their_release(tag: str, version: Version, suffix: str) -> None:
    found = parse_tag(tag)
    assert (found.version, found.suffix, found.tag) == (version, suffix, tag)


@pytest.mark.parametrize(
    "tag", ["v1.3.0-rc.1", "v1.3.1-beta", "v1.3.0-RC2", "v1.3", "v1.3.0-", "v1.3.0-x y", "latest"]
)
def test_pre_release_and_malformed_tags_are_not_releases(tag: str) -> None:
    with pytest.raises(ValueError):
        parse_tag(tag)


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
def test_hotfix_from_1_3_1_or_later_needs_no_ansible_run(current: str) -> None:
    plan = build_plan(full_answers(current_version=current))
    for pid in ("deploy_qa", "deploy_production"):
        step = plan.step(pid, "ansible_playbook")
        assert step is not None and not step.applies
        assert f"hotfix upgrade from {current}" in step.reason
        assert "not required on a hotfix" in step.reason
    assert not plan.step_applies("release", "env_content_security_policy_wildcard")


# Which automatic migrations core adds per release (core packages/migration/src/migrations).
MIGRATIONS = {
    "1.3.1": (
        "hearth 20230905130632-elastic-search-property-rename",
        "hearth 20231025175023-fix-crude-birth-rates",
        "user-mgnt 20231106130956-email-mobile-unique-index",
    ),
    "1.3.2": ("hearth 20231123125224-deceased-birth-date",),
    "1.3.3": ("hearth 20240201123539-join-given-name",),
}


def test_the_catalogue_names_the_automatic_migrations_of_core() -> None:
    for release in releases.bundled_catalogue().releases:
        assert tuple(m.label for m in release.migrations) == MIGRATIONS.get(release.version, ())
        assert release.data_migration is (release.version in MIGRATIONS)
        assert all(m.source.startswith(f"core v{release.version}:") for m in release.migrations)
    join = releases.bundled_catalogue().by_version["1.3.3"].migrations[0]
    assert join.scope == "every Patient record"


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("1.3.0", "1.3.5", [*MIGRATIONS["1.3.1"], *MIGRATIONS["1.3.2"], *MIGRATIONS["1.3.3"]]),
        ("1.3.1", "1.3.2", list(MIGRATIONS["1.3.2"])),
        ("1.3.2", "1.3.5", list(MIGRATIONS["1.3.3"])),
        ("1.3.1", "1.3.5", [*MIGRATIONS["1.3.2"], *MIGRATIONS["1.3.3"]]),
        ("1.3.3", "1.3.5", []),
        ("1.3.4", "1.3.5", []),
    ],
)
def test_hotfixes_still_run_core_s_automatic_migrations(
    current: str, target: str, expected: list[str]
) -> None:
    plan = build_plan(full_answers(current_version=current, target_version=target))
    for pid in ("deploy_qa", "deploy_production", "verify_local"):
        sid = "local_migrations" if pid == "verify_local" else "data_migration"
        step = plan.step(pid, sid)
        assert step is not None
        if pid != "verify_local":
            assert step.applies is bool(expected)
        if expected:
            # Named, in order, with their cost; and nothing for the operator to run by hand.
            positions = [step.reason.index(name) for name in expected]
            assert positions == sorted(positions)
            assert "grows with the number of records" in step.reason
            assert "Nothing to run by hand" in step.reason
            assert "automatically" in step.reason
        else:
            assert "no release" in step.reason.lower() or "No automatic" in step.reason
    if expected and current != "1.3.0":
        # A hotfix after 1.3.1: the notes' rule is quoted, and not read as "no migration".
        reason = plan.step("deploy_production", "data_migration").reason
        assert "not required on a hotfix" in reason and "but core's migration service" in reason


def test_long_migration_warning_names_the_migrations() -> None:
    plan = build_plan(full_answers(current_version="1.3.2", target_version="1.3.5"))
    warning = next(w for w in plan.warnings if w.code == "long_migration")
    assert "join-given-name" in warning.message and "hours" in warning.message
    quiet = build_plan(full_answers(current_version="1.3.3", target_version="1.3.5"))
    assert "long_migration" not in [w.code for w in quiet.warnings]


def test_from_1_3_0_crosses_the_incompatible_1_3_1() -> None:
    plan = build_plan(full_answers(current_version="1.3.0", target_version="1.3.1"))
    for pid in ("deploy_qa", "deploy_production"):
        assert plan.step_applies(pid, "ansible_playbook")
        assert plan.step_applies(pid, "data_migration")
        assert "1.3.1" in plan.step(pid, "ansible_playbook").reason
        assert "jq" in plan.step(pid, "ansible_playbook").reason
    assert plan.step_applies("release", "env_content_security_policy_wildcard")
    assert not plan.step_applies("merge_config", "certificate_templates")
    assert "minio_pinned_to_data1" in [w.code for w in plan.warnings]


def test_1_3_3_playbook_change_is_explained_not_required() -> None:
    plan = build_plan(full_answers(current_version="1.3.2", target_version="1.3.3"))
    step = plan.step("deploy_production", "ansible_playbook")
    assert not step.applies
    assert "PIP_BREAK_SYSTEM_PACKAGES" in step.reason
    metabase = next(w for w in plan.warnings if w.code == "metabase_upgrade")
    assert "0.45.2.1" in metabase.message and "0.46.6.1" in metabase.message
    assert releases.bundled_catalogue().by_version["1.3.3"].dependency_changes == (
        "Metabase 0.45.2.1 → 0.46.6.1 (core's dashboards image)",
    )


@pytest.mark.parametrize(
    ("current", "target", "applies"),
    [
        ("1.3.2", "1.3.3", True),
        ("1.3.0", "1.3.5", True),
        ("1.3.3", "1.3.5", False),
        ("1.3.1", "1.3.2", False),
    ],
)
def test_crossing_1_3_3_recommends_certificate_templates(
    current: str, target: str, applies: bool
) -> None:
    plan = build_plan(full_answers(current_version=current, target_version=target))
    step = plan.step("merge_config", "certificate_templates")
    assert step is not None and step.manual
    # Recommended in the 1.3.3 CHANGELOG, not required: it must never block its phase.
    assert step.recommended
    assert step.applies is applies
    assert step.reason
    if applies:
        assert "Recommended by 1.3.3, not required" in step.reason
    assert plan.phase("merge_config").status is Applicability.APPLIES


MOSIP_OIDP = (
    "TOKENSEEDER_MOSIP_AUTH__PARTNER_MISP_LK",
    "TOKENSEEDER_MOSIP_AUTH__PARTNER_APIKEY",
    "TOKENSEEDER_CRYPTO_SIGNATURE__SIGN_P12_FILE_PASSWORD",
    "NATIONAL_ID_OIDP_CLIENT_ID",
    "NATIONAL_ID_OIDP_BASE_URL",
    "NATIONAL_ID_OIDP_REST_URL",
    "NATIONAL_ID_OIDP_ESSENTIAL_CLAIMS",
    "NATIONAL_ID_OIDP_VOLUNTARY_CLAIMS",
    "NATIONAL_ID_OIDP_CLIENT_PRIVATE_KEY",
    "NATIONAL_ID_OIDP_JWT_AUD_CLAIM",
)


def test_1_3_4_mentions_its_real_optional_env_vars() -> None:
    assert releases.bundled_catalogue().by_version["1.3.4"].optional_env == MOSIP_OIDP
    assert releases.bundled_catalogue().by_version["1.3.5"].removed_env == MOSIP_OIDP
    plan = build_plan(full_answers(current_version="1.3.3", target_version="1.3.4"))
    step = plan.step("release", "optional_env")
    assert step is not None and step.applies
    assert all(name in step.title for name in MOSIP_OIDP)
    assert "MOSIP_API_KEY" not in step.title
    # Going on to 1.3.5 removes them again: nothing to set, and the reason says so.
    plan = build_plan(full_answers(current_version="1.3.3", target_version="1.3.5"))
    step = plan.step("release", "optional_env")
    assert not step.applies and "removed again in 1.3.5" in step.reason
    # From 1.3.4 to 1.3.5 they are to be removed.
    plan = build_plan(full_answers(current_version="1.3.4", target_version="1.3.5"))
    assert plan.step_applies("release", "removed_env")
    assert "NATIONAL_ID_OIDP_CLIENT_ID" in plan.step("release", "removed_env").title


def test_1_3_4_merges_the_release_branch_and_warns_about_staff_keys() -> None:
    plan = build_plan(full_answers(current_version="1.3.3", target_version="1.3.4"))
    assert plan.step("merge_config", "merge_upstream").title.startswith("Merge release-v1.3.4")
    assert "Farajaland" in plan.step("merge_config", "merge_upstream").reason
    assert "staff_authorized_keys" in [w.code for w in plan.warnings]
    # Only when the upgrade stops at 1.3.4: 1.3.5's authorized_keys is empty again.
    onwards = build_plan(full_answers(current_version="1.3.3", target_version="1.3.5"))
    assert "staff_authorized_keys" not in [w.code for w in onwards.warnings]


@pytest.mark.parametrize("customised", [False, True, None])
def test_core_and_config_take_the_release_never_master(customised: bool | None) -> None:
    plan = build_plan(full_answers(current_version="1.3.2", core_customised=customised))
    core = {s.id: s for s in plan.phase("update_core").steps}
    # The notes' step ids are kept; what they do is the release tag.
    assert list(core) == ["fetch", "checkout_master", "pull", "merge_core_fork", "yarn_install"]
    assert core["checkout_master"].title == "Check out v1.3.5"
    assert core["merge_core_fork"].title == "Merge v1.3.5 into your core branch"
    assert core["checkout_master"].applies is (customised is False)
    assert core["merge_core_fork"].applies is (customised is not False)
    assert not core["pull"].applies and "does not move" in core["pull"].reason
    config = {s.id: s for s in plan.phase("merge_config").steps}
    assert config["merge_upstream"].title == "Merge v1.3.5 into the upgrade branch"
    # "master" is named only to explain the notes, never as what is checked out or merged.
    for step in (*core.values(), *config.values()):
        assert "master" not in step.title
        if "master" in step.reason:
            assert "in 2023 master was the 1.3 release" in step.reason or "pull master" in (
                step.reason
            )
    assert "in 2023 master was the 1.3 release" in config["merge_upstream"].reason


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
    warning = next(w for w in plan.warnings if w.code == "single_server_production")
    assert "very risky" in warning.message
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


NEW_RELEASE = """
[[release]]
version = "1.3.6"
date = 2024-07-01
summary = "A test release."
new_required_env = ["NEW_REQUIRED_VAR"]

[release.ansible]
required = true
what = "the playbooks install something new"

[[release.migration]]
service = "hearth"
name = "20240601000000-test-migration"
what = "tests the catalogue"
scope = "every test record"
source = "a test"

[[release.manual_step]]
id = "new_manual_step"
phase = "deploy_qa"
title = "Do the new thing"
why = "the test says so"
source = "a test"

[release.sources]
date = "a test"
new_required_env = "a test"
ansible = "a test"
"""


def test_rules_are_data_driven_a_new_release_is_one_entry(tmp_path: Path) -> None:
    shipped = resources.files("assets").joinpath("releases.toml").read_text(encoding="utf-8")
    path = tmp_path / "releases.toml"
    path.write_text(shipped + NEW_RELEASE, encoding="utf-8")
    catalogue = releases.load_catalogue(path)
    assert catalogue.latest.version == "1.3.6"

    answers = full_answers(current_version="1.3.5", target_version="1.3.6")
    plan = build_plan(answers, catalogue)
    assert plan.proceeds and plan.crossed == ("1.3.6",)
    assert plan.step_applies("deploy_qa", "ansible_playbook")
    assert (
        "the playbooks install something new" in plan.step("deploy_qa", "ansible_playbook").reason
    )
    assert plan.step_applies("deploy_qa", "data_migration")
    assert "hearth 20240601000000-test-migration" in plan.step("deploy_qa", "data_migration").reason
    assert plan.step_applies("release", "env_new_required_var")
    assert plan.step_applies("deploy_qa", "new_manual_step")
    assert not plan.step_applies("release", "env_content_security_policy_wildcard")
    assert "NEW_REQUIRED_VAR" in catalogue.deploy_required_env("1.3.6")
    # The shipped catalogue does not know it: the same answers are refused there.
    assert build_plan(answers).kind == "unknown_target"


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
