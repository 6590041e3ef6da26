"""What the report works out from the records: downtime and the window, the versions running,
planned against actual, the way back, the outcome; incident sources by name; the renderers'
escaping."""

from __future__ import annotations

import re

import pytest

from tasks.release.deploy import (
    DeployRecord,
    EnvironmentDeploy,
    HealthSeen,
    StackRecord,
    image_tag,
    parse_service_images,
)
from tasks.release.publish import ReleaseRecord, TagRecord
from tasks.report.change import ChangeRecord
from tasks.report.document import build_report
from tasks.report.facts import (
    outcome,
    planned_actual,
    production_downtime,
    rollback_plan,
    running_versions,
)
from tasks.report.incidents import INCIDENT_SOURCES, Incident, collect_incidents, incident_source
from tasks.report.inputs import Entry, ReportInput
from tasks.report.render import css_string, render_html, render_markdown
from tasks.session.state import Session
from tasks.upgrade.answers import Answers
from tasks.upgrade.plan import update_plan
from tests.support.plan import full_answers

T0 = "2024-05-04T19:05:10+00:00"
T1 = "2024-05-04T19:17:40+00:00"


def _session() -> Session:
    session = Session(installation="Ruritania CRVS")
    session.replace_section(full_answers())
    update_plan(session)
    return session


def _production(session: Session, **changes: object) -> EnvironmentDeploy:
    rec = EnvironmentDeploy(
        argv=["yarn", "deploy"], host="ruritania.example", version="v1.3.5",
        country_config_version="v1.3.5-1", replicas=3, clear_data=False,
        how="run in crvs-migrate", at="2024-05-04T19:15:00+00:00", exit_code=0,
        duration_s=590.0,
        stack=StackRecord("2024-05-04T19:16:30+00:00", True, "", 24, 24, migration="finished",
                          images={"opencrvs_gateway": "opencrvs/ocrvs-gateway:v1.3.5",
                                  "opencrvs_auth": "opencrvs/ocrvs-auth:v1.3.5",
                                  "opencrvs_countryconfig": "ruritania/ocrvs-ruritania:v1.3.5-1"}),
        health=HealthSeen(T1, "pass"),
    )  # fmt: skip
    for name, value in changes.items():
        setattr(rec, name, value)
    DeployRecord.of(session).production = rec
    return rec


def _started(session: Session, at: str = T0) -> None:
    step = session.phase("deploy_production").step("deploy")
    step.start(at=at)
    step.succeed(exit_code=0, duration_s=590.0, at="2024-05-04T19:15:00+00:00")


def test_downtime_runs_from_the_deploy_start_to_its_checks_passing() -> None:
    session = _session()
    _production(session)
    _started(session)
    session.phase("deploy_production").finish(at=T1)
    down = production_downtime(ReportInput(session))
    assert down.seconds == 750
    assert down.text() == (
        "12 min 30 s, from 2024-05-04 19:05:10 UTC (the deploy command started in crvs-migrate) "
        "to 2024-05-04 19:17:40 UTC (every service up and health passed after the deploy)"
    )


def test_downtime_not_measured_says_why() -> None:
    session = _session()
    assert "production was not deployed" in production_downtime(ReportInput(session)).text()
    _production(session, how="GitHub deploy workflow (operator)")
    assert "ran outside crvs-migrate" in production_downtime(ReportInput(session)).text()
    _production(session, stack=StackRecord(T1, False, "20/24 services n/n", 24, 20))
    _started(session)
    why = production_downtime(ReportInput(session)).text()
    assert why.startswith("Not measured: the stack was not up at the last look")


def test_the_window_and_sign_offs_become_incidents() -> None:
    session = _session()
    _production(session)
    _started(session)
    session.phase("deploy_production").finish(at=T1)
    change = ChangeRecord.of(session)
    # The window opened after the deploy started and closed before its checks passed.
    change.window_start, change.window_end = (
        "2024-05-04T19:10:00+00:00",
        "2024-05-04T19:15:00+00:00",
    )
    found = {(i.kind, i.what) for i in collect_incidents(ReportInput(session))}
    assert ("Outside the window", "The production deploy started 4 min 50 s before the "
            "planned maintenance window") in found  # fmt: skip
    assert ("Outside the window", "Production's checks passed 2 min 40 s after the planned "
            "maintenance window ended") in found  # fmt: skip
    assert ("No sign-off", "Production was deployed with no approver recorded in the change "
            "record") in found  # fmt: skip


def test_versions_read_from_the_manager_and_their_mismatch() -> None:
    session = _session()
    _production(session)
    (prod,) = running_versions(session)
    assert (prod.core_running, prod.config_running, prod.core_services) == ("v1.3.5", "v1.3.5-1", 2)
    assert prod.mismatches == [] and prod.stray == ()
    images = dict(prod.deploy.stack.images)  # type: ignore[union-attr]
    images["opencrvs_auth"] = "opencrvs/ocrvs-auth:v1.3.4"
    images["opencrvs_countryconfig"] = "ruritania/ocrvs-ruritania:v1.3.0-ruritania.1"
    _production(session, stack=StackRecord(T1, True, "", 24, 24, images=images))
    kinds = [i.what for i in collect_incidents(ReportInput(session)) if i.source == "versions"]
    assert kinds == [
        "On Production, the country config runs v1.3.0-ruritania.1, deployed v1.3.5-1",
        "On Production, core services on another tag than v1.3.5: opencrvs_auth v1.3.4",
    ]


def test_service_images_are_read_strictly() -> None:
    text = (
        "opencrvs_gateway\topencrvs/ocrvs-gateway:v1.3.5\n"
        "opencrvs_gateway\treplicated\t3/3\n"  # another format: not guessed at
        "weird\tname with space:1\n"
        "opencrvs_countryconfig\tregistry.example:5000/rur/cc:v1.3.5-1@sha256:abc\n"
    )
    images = parse_service_images(text)
    assert images == {
        "opencrvs_gateway": "opencrvs/ocrvs-gateway:v1.3.5",
        "opencrvs_countryconfig": "registry.example:5000/rur/cc:v1.3.5-1@sha256:abc",
    }
    assert image_tag(images["opencrvs_countryconfig"]) == "v1.3.5-1"
    assert image_tag("registry.example:5000/rur/cc") == ""


def test_planned_against_actual() -> None:
    session = _session()
    ReleaseRecord.of(session).tag = TagRecord("v1.3.5-1", "abc", T0)
    _production(session)
    rows = {r.what: r for r in planned_actual(session)}
    assert rows["Country config release tag"].differs
    assert (rows["Country config release tag"].planned, rows["Country config release tag"].actual) == (
        "v1.3.5", "v1.3.5-1",
    )  # fmt: skip
    assert not rows["Core deployed to Production"].differs


def test_no_verified_backup_is_no_way_back_for_the_data() -> None:
    session = _session()
    plan = rollback_plan(session)
    assert not plan.ready and plan.summary.startswith("NOT ready")
    rows = dict(plan.rows)
    assert rows["Verified backup"].startswith("none")
    assert "automatic data migrations" in rows["Data"]
    assert "2. Restore the backup on production" not in rows  # nothing to restore from


@pytest.mark.parametrize(
    ("setup", "verdict"),
    [
        ("nothing", "Not started"),
        ("failed", "Failed"),
        ("done", "Completed"),
    ],
)
def test_outcome(setup: str, verdict: str) -> None:
    session = _session()
    if setup == "failed":
        _production(session, exit_code=1)
    if setup == "done":
        _production(session)
        _started(session)
        for p in session.phases.values():
            p.finish(at=T1)
    inp = ReportInput(session)
    result = outcome(inp, 0, production_downtime(inp))
    assert result.verdict == verdict, result.statement


def test_incident_sources_are_added_by_name_and_a_broken_one_is_reported() -> None:
    session = _session()

    @incident_source("test_sealed_evidence")
    def _sealed(inp: ReportInput) -> list[Incident]:
        return [Incident("test_sealed_evidence", "Edited outside crvs-migrate", T0, "Back up "
                         "production", "the backup's verification does not match its seal")]  # fmt: skip

    @incident_source("test_broken")
    def _broken(inp: ReportInput) -> list[Incident]:
        raise KeyError("boom")

    try:
        found = collect_incidents(ReportInput(session))
    finally:
        del INCIDENT_SOURCES["test_sealed_evidence"], INCIDENT_SOURCES["test_broken"]
    assert [(i.source, i.kind) for i in found] == [
        ("test_sealed_evidence", "Edited outside crvs-migrate"),
        ("test_broken", "Not checked"),
    ]
    assert found[1].what == "the report could not check for test broken (KeyError)"


def test_a_damaged_journal_record_is_an_incident() -> None:
    session = _session()
    entries = (
        Entry(1, "event", at=T0, what="journal record at line 2 found cut short (12 bytes)"),
        Entry(2, "damaged", line=2),
    )
    (found,) = [
        i for i in collect_incidents(ReportInput(session, entries)) if i.source == "damaged_journal"
    ]
    assert found.what.startswith("Journal line 2 is not a whole record")
    assert found.at == T0


def test_renderers_escape_what_they_are_given() -> None:
    session = _session()
    session.installation = 'Ruri</style><script>x()</script> "CRVS" | \\'
    Answers.of(session).integrations_list = "<b>DHIS2</b> | OpenHIM"
    Answers.of(session).integrations = True
    update_plan(session)
    report = build_report(ReportInput(session))
    md, page = render_markdown(report), render_html(report)
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "<script>" not in page and "</style><script>" not in page
    assert not re.search(r"<(script|link|img|iframe)\b", page, re.I)
    # The page header's CSS string cannot be ended by what it quotes.
    assert css_string('a"b\\c</style>') == '"a\\000022b\\00005cc\\00003c\\00002fstyle\\00003e"'
    assert "You integrated: &lt;b&gt;DHIS2&lt;/b&gt; \\| OpenHIM" in md


def test_a_backup_and_restore_run_in_the_app_are_evidenced_by_their_commands() -> None:
    """Runs in crvs-migrate are journalled as commands, not confirmations: the report found
    no confirmation at their end time and called them edited outside crvs-migrate."""
    from tasks.release.gate import HOW_APP, HOW_OUTSIDE, BackupRecord, BackupTaken, RestoreRecord

    session = _session()
    b = BackupRecord.of(session)
    b.taken = BackupTaken("before", ["bash"], T0, "ops@jump", HOW_APP, journal_id="run-1")
    b.restore = RestoreRecord("before", T0, "ops@jump", HOW_APP, journal_id="run-2")
    entries = tuple(
        Entry(n, "command", at=T0, id=f"run-{n}", phase="backup_production", exit_code=0)
        for n in (1, 2)
    )

    def unjournalled(given: tuple[Entry, ...]) -> list[str]:
        found = collect_incidents(ReportInput(session, given))
        return [i.what for i in found if i.source == "unjournalled"]

    assert unjournalled(entries) == []
    # Without their commands in the journal they are what the report says.
    gone = unjournalled(entries[:1])
    assert len(gone) == 1 and gone[0].startswith("The backup was restored on QA in crvs-migrate")
    # The operator's word is still checked against its confirmation.
    b.taken = BackupTaken("before", ["bash"], T0, "ops@jump", HOW_OUTSIDE, journal_id="c-1")
    assert any(w.startswith("The emergency backup ran:") for w in unjournalled(entries))


def test_the_report_says_a_backup_run_in_the_app_was_run_in_the_app() -> None:
    """It said "the operator's word" of every backup and restore, even those run by
    crvs-migrate over SSH."""
    from tasks.release.gate import HOW_APP, HOW_OUTSIDE, BackupRecord, BackupTaken, RestoreRecord
    from tasks.report.steps import phase_rows

    session = _session()
    b = BackupRecord.of(session)
    b.taken = BackupTaken("before", ["bash"], T0, "ops@jump", HOW_APP)
    b.restore = RestoreRecord("before", T1, "ops@jump", HOW_OUTSIDE)

    def how() -> dict[str, str]:
        (gate,) = [p for p in phase_rows(ReportInput(session)) if p.id == "backup_production"]
        return {r.step: r.how for r in gate.steps if r.how}

    shown = how()
    assert shown["emergency_backup"] == "run in crvs-migrate (ops@jump)"
    assert shown["restore_on_qa"].startswith("the operator's word (ops@jump)")
