"""Operating the app's phases as an operator does, for the acceptance walks (Pilot helpers).

Keys and clicks only: nothing here calls a ``tasks`` function to make evidence or edits the
session. What the helpers read to know when to go on is what the screen shows (step lines,
headings, panels); the workers' own flags are read only to wait for them to settle.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from textual import events
from textual.app import App
from textual.widgets import Input, OptionList

from tests.support.pilot import click, errors, heading, rendered, sidebar_line, until

CONFLICT = re.compile(r"<<<<<<< [^\n]*\n(.*?)=======\n(.*?)>>>>>>> [^\n]*\n", re.S)


def focused_id(app: App) -> str | None:
    return app.focused.id if app.focused is not None else None


def step_lines(screen) -> list[str]:
    """The step list of a step phase as shown: glyph, number, title, status."""
    steps = screen.query_one("#steps", OptionList)
    return [str(steps.get_option_at_index(i).prompt) for i in range(steps.option_count)]


def manual_lines(app: App) -> list[str]:
    """The phase's by-hand steps as shown (empty when the phase has none)."""
    found = app.screen.query("#manual-steps")
    if not found or not found.first().display:
        return []
    manual = found.first(OptionList)
    return [str(manual.get_option_at_index(i).prompt) for i in range(manual.option_count)]


def phase_done(app: App) -> bool:
    return "✓ done" in heading(app).splitlines()[1]


async def go_to(pilot, key: str, view_class: str) -> None:
    """A number key from the sidebar (or R, h): the phase opens."""
    app = pilot.app
    if focused_id(app) != "sidebar":
        await click(pilot, "#sidebar")
    await pilot.press(key)
    await until(pilot, lambda: type(app.screen).__name__ == view_class, 20)
    await pilot.pause()


async def run_steps(pilot, *, node_choice: str = "#choice-ignore", timeout: float = 90) -> None:
    """Run the phase's steps with Enter, one after the other (the screen highlights the
    next after a success), until none is left to run or one fails. A node other than 16
    asks first: the operator runs with the choice given (this machine's node is not 16)."""
    app = pilot.app
    screen = app.screen
    await screen.wait_checks()
    await pilot.pause()
    if focused_id(app) != "steps":
        await pilot.press("tab")
    assert focused_id(app) == "steps", focused_id(app)
    steps = screen.query_one("#steps", OptionList)
    for _ in range(len(step_lines(screen)) + 1):
        todo = [i for i, shown in enumerate(step_lines(screen)) if shown[0] in "○✗"]
        if not todo:
            return
        index = todo[0]
        while steps.highlighted != index:  # the arrows, to the first step still to run
            await pilot.press("down" if (steps.highlighted or 0) < index else "up")
        line = step_lines(screen)[index]
        await pilot.press("enter")
        answered: set[int] = set()

        def settled(answered=answered, index=index, line=line) -> bool:
            if app.screen is not screen:
                return id(app.screen) not in answered
            return (
                screen.current_step is None
                and screen.current_run is None
                and step_lines(screen)[index] != line
            )

        while True:
            await until(pilot, settled, timeout)
            if app.screen is screen:
                break
            answered.add(id(app.screen))
            assert not errors(app), errors(app)
            await click(pilot, node_choice)
        await pilot.pause()
        if step_lines(screen)[index].startswith("✗"):
            return
        await screen.wait_checks()
        await pilot.pause()


async def answer_prompt(pilot, text: str) -> None:
    """Type into the open dialog's field, as the operator does, and confirm it."""
    app = pilot.app
    await until(pilot, lambda: bool(app.screen.query("#answer")), 20)
    await click(pilot, "#answer")
    await pilot.press(*text)
    modal = app.screen
    await click(pilot, "#confirm")
    await until(pilot, lambda: app.screen is not modal, 20)
    await pilot.pause()


async def confirm_by_hand(pilot, note: str) -> list[str]:
    """Confirm every by-hand step still to do, each with a note (Tab to the list, Enter).
    Returns the lines as shown afterwards."""
    app = pilot.app
    for _ in range(len(manual_lines(app))):
        todo = [i for i, line in enumerate(manual_lines(app)) if line.startswith("○")]
        if not todo:
            break
        for _tab in range(30):
            if focused_id(app) == "manual-steps":
                break
            await pilot.press("tab")
        assert focused_id(app) == "manual-steps", focused_id(app)
        manual = app.screen.query_one("#manual-steps", OptionList)
        while manual.highlighted != todo[0]:
            await pilot.press("down" if (manual.highlighted or 0) < todo[0] else "up")
        await pilot.press("enter")
        await answer_prompt(pilot, note)
        assert manual_lines(app)[todo[0]].startswith("✓"), manual_lines(app)
    return manual_lines(app)


def resolve_keeping_both(repo: Path, paths: list[str]) -> None:
    """The operator's editor: each conflict keeps both sides' lines, then ``git add``."""
    for name in paths:
        path = repo / name
        path.write_text(CONFLICT.sub(lambda m: m.group(1) + m.group(2), path.read_text()))
    subprocess.run(["git", "add", "--", *paths], cwd=repo, check=True, capture_output=True)


def conflicted_files(app: App) -> list[str]:
    """The files the conflicts panel lists (``✗ <path>: …``)."""
    text = rendered(app, "#conflicts-text")
    return [m.group(1) for m in re.finditer(r"✗ (\S+?): ", text)]


async def wait_text(pilot, selector: str, needle: str, timeout: float = 60) -> str:
    """Wait until ``selector`` shows ``needle`` (or an error modal opens); its text."""
    app = pilot.app

    def shown() -> bool:
        return bool(errors(app)) or (
            bool(app.screen.query(selector)) and needle in rendered(app, selector)
        )

    try:
        await until(pilot, shown, timeout)
    except TimeoutError:
        seen = rendered(app, selector) if app.screen.query(selector) else "(not shown)"
        raise AssertionError(f"{selector} never showed {needle!r}: {seen}") from None
    assert not errors(app), errors(app)
    return rendered(app, selector)


# -- the phases, one after the other ------------------------------------------------------


def assert_phase_done(app: App, view_id: str, number: int) -> None:
    """What the operator sees once a phase is done: its heading (when it is the phase on
    screen) and its sidebar line."""
    if getattr(app.screen, "view_id", None) == view_id:
        assert phase_done(app), heading(app)
    line = sidebar_line(app, view_id)
    assert line.startswith(f"✓ {number} "), line


async def type_into(pilot, selector: str, text: str, *, paste: bool = False) -> None:
    """Empty a field (``selector``, clicked unless it has the focus) with ctrl+u, then type
    ``text`` key by key, or paste it as the terminal delivers a paste (one event)."""
    app = pilot.app
    field = app.screen.query_one(selector, Input)
    if app.focused is not field:
        await click(pilot, selector)
    await pilot.press("end", "ctrl+u")
    if paste:
        app.post_message(events.Paste(text))
        await pilot.pause()
    else:
        await pilot.press(*text)
    assert field.value == text, (selector, field.value)


async def answer_prepare(
    pilot,
    *,
    config: str | None = None,
    core: str | None = None,
    inventories: tuple[str, str] | None = None,
    paste: bool = False,
    installation: str = "Farajaland CRVS",
) -> None:
    """Prepare by keyboard, as in the developers' pilot test: the checkouts (typed when
    given, else kept), the detected version and the latest target kept, no core
    customisation, no integrations, configured with real registrars and citizens,
    deployed on dedicated QA (1 server) and production (3) servers with their inventories
    (typed when given, else the suggested ones kept), a backup server and automated backups.
    ``paste``: the paths are pasted (one terminal paste each), not typed key by key.
    Then "Done, make the plan" (Enter on it)."""
    app = pilot.app
    await pilot.press("tab")
    assert focused_id(app) == "config_path"
    if config is not None:
        await type_into(pilot, "#config_path", config, paste=paste)
    await pilot.press("enter")
    assert focused_id(app) == "core_path"
    if core is not None:
        await type_into(pilot, "#core_path", core, paste=paste)
    await pilot.press("enter")
    detecting = [w for w in app.workers if w.group == "detect"]
    if detecting:
        await app.workers.wait_for_complete(detecting)
    await pilot.pause()
    assert focused_id(app) == "current_version"
    assert app.screen.query_one("#current_version", Input).value == "1.3.0"
    assert "✓ detected: 1.3.0" in rendered(app, "#current_version-detected")
    await pilot.press("enter")  # the detected version
    await pilot.press("enter")  # the latest target, 1.3.5
    assert focused_id(app) == "core_customised"
    await pilot.press("down", "enter")  # no customised core
    await pilot.press("down", "enter")  # no integrations
    assert focused_id(app) == "fully_configured"
    await pilot.press("enter", "enter")  # configured; real registrars
    await pilot.press("down", "down", "enter")  # real citizens, in production
    assert focused_id(app) == "deployed"
    await pilot.press("enter", "enter")  # deployed; dedicated servers
    assert focused_id(app) == "has-staging"
    await pilot.press("tab", "enter", "tab", "enter", "tab")  # QA and production
    for env, sizes in (("qa", ("16", "8", "320", "1")), ("production", ("32", "8", "500", "3"))):
        assert focused_id(app) == f"env-{env}-ram_gb", focused_id(app)
        for value in sizes:
            await pilot.press(*value, "enter")
        await pilot.press("enter")  # free disk / RAM: optional
        assert focused_id(app) == f"env-{env}-inventory_path"
        if inventories is not None:
            await type_into(
                pilot, f"#env-{env}-inventory_path", inventories[env == "production"], paste=paste
            )
        else:
            shown = app.screen.query_one(f"#env-{env}-inventory_path", Input).value
            assert shown.endswith(f"infrastructure/server-setup/{env}.ini"), shown
        await pilot.press("enter")
    assert focused_id(app) == "backup_server"
    await pilot.press("enter", "enter")  # a backup server; automated backups
    assert focused_id(app) == "installation"  # it titles the report
    await type_into(pilot, "#installation", installation, paste=paste)
    await pilot.press("enter")
    assert "✓ All answered." in rendered(app, "#form-summary"), rendered(app, "#form-summary")
    assert focused_id(app) == "done"
    await pilot.press("enter")
    await until(pilot, lambda: type(app.screen).__name__ == "PlanScreen", 20)
    await pilot.pause()
    assert_phase_done(app, "prepare", 1)


async def accept_plan(pilot) -> None:
    app = pilot.app
    assert "Upgrade 1.3.0 → 1.3.5" in rendered(app, "#plan-text")
    await pilot.press("a")
    await pilot.pause()
    assert re.search(r"✓\s+Plan accepted\.", rendered(app, "#plan-text")), rendered(
        app, "#plan-text"
    )
    assert_phase_done(app, "plan", 2)


async def update_core(pilot, note: str = "checked by hand") -> None:
    app = pilot.app
    await go_to(pilot, "3", "UpdateCoreScreen")
    await run_steps(pilot)
    await confirm_by_hand(pilot, note)
    lines = step_lines(app.screen)
    assert all(line[0] in "✓»" for line in lines), lines
    assert "✓ HEAD is at the release tag v1.3.5" in rendered(app, "#step-checks-text")
    assert_phase_done(app, "update_core", 3)


async def merge_config(pilot, resolve, note: str = "templates checked in my editor") -> list[str]:
    """Phase 4; ``resolve(files)`` is the operator's editor and shell on the conflicts the
    screen lists (edit, ``git add``). Returns the files that conflicted."""
    app = pilot.app
    await go_to(pilot, "4", "MergeConfigScreen")
    await run_steps(pilot)
    screen = app.screen
    files: list[str] = []
    if screen.query_one("#conflicts").display:
        files = conflicted_files(app)
        assert files, rendered(app, "#conflicts-text")
        assert step_lines(screen)[2].startswith("✗ 3. Merge v1.3.5"), step_lines(screen)
        resolve(files)
        await pilot.press("c")  # re-check, as the panel says
        await wait_text(pilot, "#conflicts-text", "✓ No conflicts or markers left.", 30)
        await pilot.press("m")  # commit the merge
        await until(pilot, lambda: step_lines(screen)[2].startswith("✓"), 30)
        await screen.wait_checks()
        await run_steps(pilot)
    await confirm_by_hand(pilot, note)
    lines = step_lines(screen)
    assert all(line.startswith("✓") for line in lines), lines
    assert_phase_done(app, "merge_config", 4)
    return files


async def verify_local(pilot, note: str = "checked by hand") -> None:
    app = pilot.app
    await go_to(pilot, "5", "VerifyLocalScreen")
    screen = app.screen
    assert "$ yarn dev" in rendered(app, "#start-command")
    await click(pilot, "#local-start")
    await until(
        pilot, lambda: app.screen is not screen or not screen.query_one("#local-stop").disabled
    )
    if app.screen is not screen:  # this machine's node is not 16
        await click(pilot, "#choice-ignore")
    await until(pilot, lambda: screen.query_one("#local-stop").disabled, 60)
    for box in ("#local-up", "#local-migrated"):
        await click(pilot, box)
    await click(pilot, "#local-confirm")
    await confirm_by_hand(pilot, note)
    assert_phase_done(app, "verify_local", 5)


async def release(pilot, tag: str, env_files: str, fix_env=None) -> None:
    """Phase 6 (values pasted into their fields): the PR is merged (the operator did it: the
    app checks), the tag created and pushed, the image tag recorded, the env files checked (``fix_env(missing)`` is the
    operator's editor when the check finds names missing), the release done."""
    app = pilot.app
    await go_to(pilot, "6", "ReleaseScreen")
    await click(pilot, "#merge-check")
    await wait_text(
        pilot, "#merge-result", "✓ upgrade-countryconfig-v1.3.5 merged into origin/master"
    )
    await type_into(pilot, "#tag-name", tag, paste=True)
    for button in ("#tag-create", "#tag-push"):
        screen = app.screen
        await click(pilot, button)
        await until(pilot, lambda s=screen: app.screen is not s, 20)
        await click(pilot, "#confirm")
        await until(pilot, lambda s=screen: app.screen is s or bool(errors(app)), 30)
        assert not errors(app), errors(app)
    shown = rendered(app, "#tag-result")
    assert f"✓ tag {tag} on " in shown and "✓ pushed to origin" in shown, shown
    await type_into(pilot, "#image-tag", tag, paste=True)
    await click(pilot, "#image-record")
    await type_into(pilot, "#env-files", env_files, paste=True)
    await click(pilot, "#env-check")
    shown = await wait_text(pilot, "#env-result", "present")
    missing = re.findall(r"✗ missing\s+(\S+)", shown)
    if missing:
        assert fix_env is not None, shown
        fix_env(missing)
        # The check runs again: its new result replaces the one that named them missing.
        # (A click can land before the button takes it; the operator clicks again.)
        for attempt in range(3):
            await click(pilot, "#env-check")
            try:
                await until(pilot, lambda: "✗" not in rendered(app, "#env-result"), 15)
                break
            except TimeoutError:
                if attempt == 2:
                    raise AssertionError(rendered(app, "#env-result")) from None
        shown = await wait_text(pilot, "#env-result", "present")
    await confirm_by_hand(pilot, "done outside the app")
    assert "Everything is recorded." in rendered(app, "#release-missing")
    await click(pilot, "#release-done")
    assert_phase_done(app, "release", 6)


async def deploy(pilot, environment: str, fields: dict[str, str], typed: str | None = None,
                 untick: tuple[str, ...] = (), timeout: float = 120) -> str:  # fmt: skip
    """Phase 7 or 9: the by-hand steps, the fields the operator changes (pasted), Run deploy, its
    confirmation (typed for production), then the wait and the checks. The status line."""
    app = pilot.app
    await confirm_by_hand(pilot, f"playbook run on the {environment} servers")
    for selector, value in fields.items():
        await type_into(pilot, selector, value, paste=True)
    for box in untick:
        await click(pilot, box)
    screen = app.screen
    await click(pilot, "#deploy-run")
    if typed is None:
        try:
            await until(pilot, lambda: app.screen is not screen, 60)
        except TimeoutError:  # what the app said instead, if anything
            raise AssertionError([n.message for n in app._notifications]) from None
        await click(pilot, "#confirm")
    else:
        await answer_prompt(pilot, typed)
    shown = await wait_text(
        pilot, "#settle-status", f"✓ {environment} deployed and checked", timeout
    )
    return shown


GATE_STEPS = (
    ("1. Emergency backup taken", "2. Stored off the production server"),
    ("3. Restored on QA and QA healthy",),
    ("4. Staff told to submit drafts",),
    ("5. Migration-duration risk",),
)


def gate_marks(app: App) -> dict[str, str]:
    """Each condition of the gate panel and its glyph, as shown."""
    marks = {}
    for line in rendered(app, "#gate-panel").splitlines():
        m = re.match(r"\s*([✓✗]) (\d\. [^:(]+?)(?: \(|:|$)", line)
        if m:
            marks[m.group(2).strip()] = m.group(1)
    return marks


def assert_gate(app: App, met: int) -> None:
    """The first ``met`` groups of conditions show ✓, the others ✗."""
    marks = gate_marks(app)
    for n, titles in enumerate(GATE_STEPS):
        for title in titles:
            assert marks.get(title) == ("✓" if n < met else "✗"), (title, marks)


async def back_up_production(pilot, qa_host: str, fields: dict[str, str] | None = None,
                             trust_backup_key: bool = False) -> None:  # fmt: skip
    """Phase 8 from its screen: open the gate, run the backup (it is verified on the backup
    server by itself; ``fields`` pasted first), copy it to QA and restore it (QA's host typed),
    check QA's health,
    the records, the drafts, the strategy. Each condition turns ✓ in turn."""
    app = pilot.app
    await go_to(pilot, "8", "BackupProductionScreen")
    assert "🔒 LOCKED" in rendered(app, "#gate-panel")
    assert set(gate_marks(app).values()) == {"✗"}, gate_marks(app)
    await click(pilot, "#gate-open")
    for selector, value in (fields or {}).items():
        await type_into(pilot, selector, value, paste=True)
    screen = app.screen
    await click(pilot, "#backup-run")
    await until(pilot, lambda: app.screen is not screen, 20)
    await click(pilot, "#confirm")
    if trust_backup_key:  # the backup server's key is not in known_hosts: shown, then trusted
        await until(pilot, lambda: bool(app.screen.query("#trust-yes")) or bool(errors(app)), 90)
        assert not errors(app), errors(app)
        assert "Unknown host key" in rendered(app, "Static")
        await click(pilot, "#trust-yes")
    await wait_text(pilot, "#gate-panel", "✓ 2. Stored off the production server", 90)
    assert_gate(app, 1)
    await click(pilot, "#restore-run")
    await answer_prompt(pilot, qa_host)
    await wait_text(pilot, "#restore-result", "restored on QA", 90)
    await click(pilot, "#qa-health")
    await wait_text(pilot, "#qa-health-result", "✓ QA healthy", 90)
    await click(pilot, "#records-ok")
    await wait_text(pilot, "#gate-panel", "✓ 3. Restored on QA and QA healthy", 20)
    assert_gate(app, 2)
    await click(pilot, "#drafts-ack")
    await wait_text(pilot, "#gate-panel", "✓ 4. Staff told to submit drafts", 20)
    assert_gate(app, 3)
    await click(pilot, "#strategy RadioButton")
    await click(pilot, "#risk-ack")
    await wait_text(pilot, "#gate-panel", "✓ OPEN: production may be deployed", 20)
    assert_gate(app, 4)
    assert_phase_done(app, "backup_production", 8)


async def export_report(pilot) -> Path:
    """The Report view (R), Export report: the Markdown file it names."""
    await go_to(pilot, "R", "ReportScreen")
    await click(pilot, "#report-export")
    shown = await wait_text(pilot, "#report-paths", "✓ Report written:")
    (markdown,) = [line.strip() for line in shown.splitlines() if line.strip().endswith(".md")]
    return Path(markdown)


PHASE_TITLES = (
    "1. Prepare",
    "2. Plan",
    "3. Update opencrvs-core",
    "4. Merge the country config",
    "5. Verify locally",
    "6. Release",
    "7. Deploy to QA",
    "8. Back up production",
    "9. Deploy to production",
)


def report_phases(markdown: str) -> dict[str, str]:
    """Each phase section of the report (Part 2): its title and its text."""
    parts = re.split(r"^### (\d\. [^\n]+)\n", markdown, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def assert_report_done(markdown: str) -> dict[str, str]:
    """Every phase of the exported report is done, and says with what evidence."""
    phases = report_phases(markdown)
    for title in PHASE_TITLES:
        assert title in phases, (title, list(phases))
        body = phases[title]
        assert body.lstrip().startswith("✓ done"), (title, body[:300])
        assert "| Step | Status |" in body, (title, body[:300])
    return phases


def merge_the_pull_request(repo: Path, branch: str = "upgrade-countryconfig-v1.3.5") -> None:
    """The upgrade's pull request merged on the fork (as GitHub does it: the merge commit
    pushed to the fork's master), from the operator's shell; the app checks it on the
    fork after fetching."""
    for argv in (
        ["git", "checkout", "-q", "master"],
        ["git", "merge", "-q", "--no-ff", "--no-edit", branch],
        ["git", "push", "-q", "origin", "master", branch],
    ):
        subprocess.run(argv, cwd=repo, check=True, capture_output=True)


PHASE_IDS = (
    "prepare",
    "plan",
    "update_core",
    "merge_config",
    "verify_local",
    "release",
    "deploy_qa",
    "backup_production",
    "deploy_production",
)
