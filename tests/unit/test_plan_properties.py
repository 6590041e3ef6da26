"""Property tests over version pairs and answers: the plan's safety guarantees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.upgrade.answers import CitizenRegistration, EnvironmentId
from tasks.upgrade.catalogue import bundled_catalogue
from tasks.upgrade.plan import Applicability, build_plan
from tasks.upgrade.versions import parse_version
from tests.support.plan import env, full_answers

versions = st.builds(
    lambda major, minor, patch: f"{major}.{minor}.{patch}",
    st.integers(0, 2),
    st.integers(0, 5),
    st.integers(0, 8),
)
citizens = st.sampled_from([None, *CitizenRegistration])
maybe_bool = st.sampled_from([None, True, False])


@st.composite
def answer_sets(draw: st.DrawFn):
    answers = full_answers(
        current_version=draw(versions),
        target_version=draw(versions),
        real_citizens=draw(citizens),
        real_registrars=draw(maybe_bool),
        deployed=draw(maybe_bool),
        backup_server=draw(maybe_bool),
        core_customised=draw(maybe_bool),
        integrations=draw(maybe_bool),
    )
    answers.environments = {
        e: env(draw(st.sampled_from([1, 3, 5])), ram=draw(st.integers(1, 64)))
        for e in EnvironmentId
        if draw(st.booleans())
    }
    return answers


@settings(max_examples=200, deadline=None)
@given(answer_sets())
def test_never_a_skipped_minor_path(answers) -> None:
    plan = build_plan(answers)
    current = parse_version(answers.current_version)
    target = parse_version(answers.target_version)
    upgrading = [p for p in plan.phases[2:] if p.status is Applicability.APPLIES]
    if upgrading:
        # Anything that goes ahead stays within one minor line, forwards.
        assert plan.proceeds
        assert (current.major, current.minor) == (target.major, target.minor)
        assert current < target
        assert all(parse_version(v) > current for v in plan.crossed)
    if (current.major, current.minor) != (target.major, target.minor):
        assert not upgrading


@settings(max_examples=200, deadline=None)
@given(answer_sets())
def test_never_production_without_the_gate_with_real_citizens(answers) -> None:
    plan = build_plan(answers)
    real = answers.real_citizens in (CitizenRegistration.TESTING, CitizenRegistration.PRODUCTION)
    if real and plan.phase("deploy_production").status is Applicability.APPLIES:
        assert plan.backup_gate_mandatory
        assert plan.step_applies("deploy_production", "backup_gate")
        assert plan.phase("backup_production").status is Applicability.APPLIES
        assert not plan.phase("backup_production").optional


@settings(max_examples=200, deadline=None)
@given(answer_sets())
def test_deterministic(answers) -> None:
    first = build_plan(answers)
    again = build_plan(answers)
    assert first == again
    assert first.digest == again.digest
    assert first.to_state() == again.to_state()
    from tasks.upgrade.plan import Plan

    assert Plan.from_state(first.to_state()) == first


@settings(max_examples=200, deadline=None)
@given(answer_sets())
def test_migration_steps_follow_the_catalogue(answers) -> None:
    plan = build_plan(answers)
    if not plan.proceeds:
        return
    crossed = [r for r in bundled_catalogue().releases if r.version in plan.crossed]
    names = [m.label for r in crossed for m in r.migrations]
    for pid in ("deploy_qa", "deploy_production"):
        step = plan.step(pid, "data_migration")
        assert step is not None and step.applies is bool(names)
        assert all(name in step.reason for name in names)
    # A recommended step never blocks: its phase's status does not depend on it.
    step = plan.step("merge_config", "certificate_templates")
    assert step is not None and step.recommended


@settings(max_examples=200, deadline=None)
@given(answer_sets())
def test_no_step_checks_out_or_merges_master(answers) -> None:
    plan = build_plan(answers)
    for pid in ("update_core", "merge_config"):
        for step in plan.phase(pid).steps:
            assert "master" not in step.title
