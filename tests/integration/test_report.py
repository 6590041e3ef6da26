"""The report: every journalled command, the backup evidence, no secret from the env file."""

from __future__ import annotations

import html
import re
import shlex
from pathlib import Path

from tasks.release.env_check import check_env_files
from tasks.release.gate import acknowledge_drafts, open_gate
from tasks.release.publish import record_env_check
from tasks.report.export import export_report
from tasks.servers.health import Health, HealthSnapshot, NodeHealth, save_snapshot
from tasks.servers.inventory import Node, Role
from tasks.session.state import Session
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers
from tasks.upgrade.plan import update_plan

SECRET = "Tr0ub4dor&3-horse"
SMTP_SECRET = "smtp|pa<ss>word"


def test_report_has_every_command_and_no_secret(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "state" / "session.toml")
    session = Session(installation="Farajaland production")
    answers = Answers.of(session)
    answers.current_version, answers.target_version = "1.3.0", "1.3.5"
    # A secret typed where it does not belong (an answer) must not reach the report either.
    answers.integrations_list = f"DHIS2 (password {SECRET})"
    update_plan(session)
    env = tmp_path / "prod.env"
    env.write_text(
        f"SUPER_USER_PASSWORD={SECRET}\nSMTP_PASSWORD='{SMTP_SECRET}'\nSMTP_HOST=smtp.example.org\n"
    )
    record_env_check(session, check_env_files([env], None, "1.3.5"))
    commands = [
        (["git", "fetch", "--all"], 0, 1.25),
        (["yarn", "--force"], 1, 12.5),
        (
            ["git", "tag", "-a", "-m", "OpenCRVS | v1.3.5 <release>", "--", "v1.3.5", "abc123"],
            0,
            0.1,
        ),
        # A secret in an argument: the journal masks it on the way in.
        (["deploy", f"--password={SECRET}", "--host=prod"], 0, 600.0),
    ]
    for argv, code, dur in commands:
        ws.journal.command(
            argv,
            tmp_path,
            "2024-05-02T10:00:00+00:00",
            "2024-05-02T10:00:01+00:00",
            code,
            duration_s=dur,
            phase="release",
        )
    # A careless event that quotes the env file's secret value verbatim.
    ws.journal.event(f"operator pasted {SMTP_SECRET} by mistake")
    open_gate(session, ws.journal)
    acknowledge_drafts(session, ws.journal)
    manager = Node("manager1", "203.0.113.10", Role.MANAGER, user="root")
    save_snapshot(
        session,
        HealthSnapshot(
            "qa",
            "2024-05-02T09:00:00+00:00",
            [NodeHealth(manager, Health.FAIL, reason="disk /data 91% used <script>x</script>")],
        ),
    )

    out = export_report(ws, session)
    assert out.markdown.parent == ws.reports_dir and out.html.parent == ws.reports_dir
    assert oct(out.html.stat().st_mode & 0o777) == "0o600"
    md = out.markdown.read_text()
    page = out.html.read_text()
    for text in (md, page):
        assert SECRET not in text
        assert SMTP_SECRET not in text
        assert "smtp|pa&lt;ss&gt;word" not in text and "smtp\\|pa<ss>word" not in text
        assert "Staff were told to submit their drafts" in text
        assert "LOCKED" in text
        assert "Crossing 1.3.1" in text
        assert "manager1" in text and "root@203.0.113.10" in text
    # Neither renders the remote's HTML: a Markdown viewer would, so it is escaped too.
    for text in (md, page):
        assert "disk /data 91% used <script>" not in text
        assert "disk /data 91% used &lt;script&gt;" in text
    for argv, _code, _dur in commands[:3]:
        joined = shlex.join(argv)
        md_form = joined.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert md_form.replace("|", "\\|") in md
        assert (
            joined.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("'", "&#x27;")
            in page
        )
    assert "deploy '--password=********' --host=prod" in md
    assert "| 1 | 12 s |" in md  # exit code and duration of the failed yarn
    # Self-contained: no external asset of any kind.
    assert not re.search(r"<(link|script|img|iframe)\b", page, re.I)
    assert "http://" not in page and "https://" not in page and "url(" not in page
    assert "Missing" not in md or "CONTENT_SECURITY_POLICY_WILDCARD" in md


def test_report_shows_the_plan_with_reasons(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "session.toml")
    session = Session()
    answers = Answers.of(session)
    answers.current_version, answers.target_version = "1.3.0", "1.3.5"
    plan, _ = update_plan(session)
    out = export_report(ws, session)
    md = out.markdown.read_text()
    assert plan.summary in md
    step = next(st for ph in plan.phases for st in ph.steps if st.reason)
    assert step.reason.replace("|", "\\\\|") in md


async def test_a_finished_session_holds_every_part_with_true_figures(tmp_path: Path) -> None:
    from tasks.report.export import read_input, render
    from tasks.session.phases import PHASES
    from tasks.upgrade.plan import current_plan
    from tests.support.finished import CHANGE, INSTALLATION, TAG, finished_session

    f = await finished_session(tmp_path)
    md = render(read_input(f.session, f.workspace.journal, f.workspace.state_path), "md")
    part = {n: md.split(f"## Part {n}.")[1].split("## Part")[0] for n in (1, 2, 3, 4)}

    assert f"- **Installation**: {INSTALLATION}" in part[1]
    assert f"- **Change or ticket number**: {CHANGE}" in part[1]
    assert "**Outcome: Completed with incidents. OpenCRVS 1.3.0 to 1.3.5 was completed on QA " in md
    assert "| Amina Okafor | Change board chair | ✓ " in part[1]
    assert "2 of 2 approvers signed off" in part[1]
    # Planned against actual, and the version row as read from the manager.
    assert f"| Country config release tag | v1.3.5 | {TAG} | differs |" in part[1]
    assert (
        f"| Production | v1.3.5 | {TAG} | opencrvs/ocrvs-gateway:v1.3.5, "
        f"ruritania/ocrvs-ruritania:{TAG} (7 core services) |"
    ) in part[1]
    # The same service count wherever it appears (the one-shot migration is not counted).
    assert part[1].count("9 of 9 services at full replicas") == 2
    assert "services_total" not in md and not re.search(r"\b\d+/\d+ services\b", md)
    # Incidents: each kind the session met, with its evidence.
    incidents = part[1].split("### Incidents")[1]
    for kind, what in (
        ("Crash", "crvs-migrate stopped unexpectedly: RuntimeError: worker died"),
        ("Interrupted step", "It was running when crvs-migrate stopped"),
        ("Command failed", "`false` exited with code 1 after 0 s; the step succeeded afterwards"),
        ("Override", "yarn was run ignoring the node version the packages ask for"),
        ("Done by hand", "Recorded as done by "),
    ):
        assert re.search(rf"\| {kind} \| [^|]+ \| {re.escape(what)}", incidents), kind
    assert f.crash_report.name in incidents
    assert "Sign-off missing" not in md and "Evidence without its journal record" not in md
    # Every phase, and every step the plan lists, in the steps part.
    plan = current_plan(f.session)
    for phase in PHASES:
        assert f"### {phase.number}. {phase.title}" in part[2]
        for step in plan.phase(phase.id).steps:
            assert f"| {html.escape(step.title, quote=False)}" in part[2], step.title
    # Each by-hand step's evidence names its journal record and what it said.
    evidence = part[2].split("### Evidence of the steps done by hand")[1]
    assert re.search(
        r"\| Verify locally › Start OpenCRVS locally \| [^|]+ \| [^|]+ \| journal record \d+: "
        r"“OpenCRVS started locally and its migrations finished” \|",
        evidence,
    )
    assert "verified on 203.0.113.50" in evidence and "12 parts" in evidence
    # The operator's words: answers as asked, no stored keys, no dumps.
    assert "| 7. Registering real citizens | In production |" in part[3]
    for raw in ("real_citizens", "core_customised", "ram_total_bytes", "gate_open", "True"):
        assert raw not in md, raw
    assert "### Commands run" in part[4] and "### Confirmations" in part[4]


def test_an_unnamed_installation_says_where_to_name_it(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "session.toml")
    out = export_report(ws, Session())
    md = out.markdown.read_text()
    assert "- **Installation**: Not named yet: name the installation in Prepare (phase 1)" in md
    assert "**Installation not named · No change number**" in md
    assert "Not entered: enter it in the Report screen (Change record)" in md
