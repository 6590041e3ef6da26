"""The real ``crvs-migrate --demo`` in a real terminal (tmux, 80x24): the whole upgrade with
keys only (and the mouse where a button has no key: clicks sent as the terminal sends them),
from Prepare to the exported report."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tmux import TmuxSession
from tests.support.walk import CONFLICT, PHASE_TITLES, assert_report_done, merge_the_pull_request

CLI = str(Path(sys.executable).parent / "crvs-migrate")
TAG = "v1.3.5-farajaland.1"
SIDEBAR = 22  # columns of the sidebar at 80 columns: labels are looked for right of it


def _resolve(config: Path) -> list[str]:
    """The operator's shell and editor: git's list of conflicted files, each conflict keeps
    both sides, then git add."""
    listed = subprocess.run(
        ["git", "diff", "--name-only", "--diff-filter=U"], cwd=config, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    files = listed.stdout.split()
    for name in files:
        path = config / name
        path.write_text(CONFLICT.sub(lambda m: m.group(1) + m.group(2), path.read_text()))
    subprocess.run(["git", "add", "--", *files], cwd=config, check=True)
    return files


def _wait_all(term: TmuxSession, *texts: str, timeout: float = 30.0) -> str:
    """Until every one of ``texts`` shows at once."""
    deadline = time.monotonic() + timeout
    while True:
        screen = "\n".join(term.visible())
        if all(t in screen for t in texts):
            return screen
        if time.monotonic() > deadline:
            raise AssertionError(f"{texts} not all shown within {timeout}s:\n{screen}")
        time.sleep(0.1)


def _first_field(term: TmuxSession, value: str) -> None:
    """Tab into the first field. Keys typed while the app is still starting are lost (its
    first screen is not taking keys yet): Tab again until the terminal's cursor shows the
    field has the focus (the cursor moves into it)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        term.send("Tab")
        for _ in range(20):
            x, y = (int(n) for n in term.pane("#{cursor_x},#{cursor_y}").split(","))
            line = term.visible()[y]
            if value in line:
                return
            time.sleep(0.1)
    raise AssertionError("the first field never took the focus:\n" + "\n".join(term.visible()))


@pytest.fixture
def short_root() -> Iterator[Path]:
    """A short path: the checkouts' paths show whole in Prepare's fields at 80 columns."""
    root = Path(tempfile.mkdtemp(prefix="crvs-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.tmux
@pytest.mark.slow
def test_the_demo_upgrade_in_tmux_at_80x24(short_root: Path) -> None:
    demo = short_root / "demo"
    config = demo / "opencrvs-farajaland"
    term = TmuxSession(
        [CLI, "--demo", "--demo-dir", str(demo)], width=80, height=24,
        env={"TERM": "xterm-256color"},
    )  # fmt: skip
    try:
        # 1. Prepare, by keyboard (the demo answers the checkouts).
        term.wait_for("Phase 1 of 9")
        # The demo's sandbox and cluster are ready once its inventories are published.
        inventory = config / "infrastructure" / "server-setup" / "production.ini"
        deadline = time.monotonic() + 60
        while not inventory.exists():
            assert time.monotonic() < deadline, "the demo cluster never started"
            time.sleep(0.1)
        _first_field(term, str(config))
        term.press("Enter", "Enter")
        term.wait_for("detected: 1.3.0", 30)
        term.press("Enter", "Enter")  # the detected version, the latest target
        term.press("Down", "Enter", "Down", "Enter")  # no customised core, no integrations
        term.press("Enter", "Enter", "Down", "Down", "Enter")  # configured, registrars, citizens
        term.press("Enter", "Enter", "Tab", "Enter", "Tab", "Enter", "Tab")  # deployed, QA+prod
        for value in ("16", "8", "320", "1"):
            term.type(value)
            term.press("Enter")
        term.press("Enter", "Enter")  # free disk (optional), the suggested inventory
        for value in ("32", "8", "500", "3"):
            term.type(value)
            term.press("Enter")
        term.press("Enter", "Enter", "Enter", "Enter")  # and backup server, automated backups
        term.wait_for("What do you call this installation?")
        term.type("Farajaland CRVS")  # it titles the report
        term.press("Enter")
        term.wait_for("All answered")
        term.press("Enter")
        # 2. Plan.
        term.wait_for("Phase 2 of 9")
        term.press("a")
        term.wait_for("Plan accepted")
        # 3. Update opencrvs-core: Tab to the steps, Enter runs each in turn.
        term.press("3")
        term.wait_for("$ git fetch --all --tags")
        term.press("Tab", "Enter")
        _wait_all(term, "$ git fetch --all --tags", "✓ exit code 0")
        term.press("Enter")
        _wait_all(term, "HEAD is now at", "✓ exit code 0")
        term.press("Enter")
        term.wait_for("is not node 16")
        term.click("Run with --ignore", button=True)
        term.wait_for("✓ done", 60)
        # 4. Merge the country config: the conflict resolved in the editor, then c and m.
        term.press("4")
        term.wait_for("$ git fetch --all --tags")
        term.press("Tab", "Enter")
        term.wait_for("✓ 1. Fetch all remotes")
        term.press("Enter")
        term.wait_for("✓ 2. Create the upgrade branch")
        term.press("Enter")
        term.wait_for("to resolve in your editor")
        assert _resolve(config) == ["src/config.ts"]
        term.press("c")
        term.wait_for("No conflicts or markers left")
        term.press("m")
        term.wait_for("✓ 3. Merge v1.3.5  succeeded")
        term.press("Down", "Enter")
        term.wait_for("is not node 16")
        term.click("Run with --ignore", button=True)
        term.wait_for("✓ 4. Install dependencies  succeeded")
        term.press("Tab", "Tab", "Down", "Enter")  # the by-hand list: the templates
        term.wait_for("Confirm a step done by hand")
        term.type("templates checked")
        term.press("Enter")
        term.wait_for("✓ done")
        # 5. Verify locally: start it here, tick what came up, confirm.
        term.press("5")
        term.wait_for("Phase 5 of 9")
        term.click("Start it here", skip_columns=SIDEBAR, button=True)
        term.wait_for("is not node 16")
        term.click("Run with --ignore", button=True)
        term.wait_for("Done in")
        for box in ("The local stack came up", "Migrations finished"):
            term.click(box, skip_columns=SIDEBAR)
            term.wait_for(f"[X] {box}")
        term.click("Confirm", skip_columns=SIDEBAR, button=True)
        term.wait_for("✓ done")
        # 6. Release: the PR merged in the operator's shell; tag, push, image, env check.
        merge_the_pull_request(config)
        term.press("6")
        term.wait_for("Phase 6 of 9")
        term.click("Check it is merged", skip_columns=SIDEBAR, button=True)
        term.wait_for("v1.3.5 merged into")
        # The tag field holds a free proposal (never upstream's v1.3.5): replaced by ours.
        term.click("▊  v1.3.5-", skip_columns=SIDEBAR)
        term.press("End", "C-u")
        term.type(TAG)
        term.settle()
        term.click("Create annotated tag", skip_columns=SIDEBAR, button=True)
        term.wait_for(f"Create tag {TAG}?")
        term.press("BTab", "Enter")
        term.seek(f"✓ tag {TAG}", skip_columns=SIDEBAR)
        term.click("Push the tag…", skip_columns=SIDEBAR, button=True)
        term.wait_for("Push the tag?")
        term.press("BTab", "Enter")
        term.seek("✓ pushed to origin", skip_columns=SIDEBAR)
        term.click("image tag published", skip_columns=SIDEBAR)
        term.type(TAG)
        term.settle()
        term.click("Record image tag", skip_columns=SIDEBAR, button=True)
        term.settle()
        term.click("DOMAIN (optional)", skip_columns=SIDEBAR)  # beside the suggested env file
        term.press("Tab", "Enter")  # Check
        term.seek("✓ present", skip_columns=SIDEBAR)
        term.click("Release is done", skip_columns=SIDEBAR, button=True)
        term.wait_for("✓ done")
        # 7. Deploy to QA: the by-hand playbook, then Run deploy.
        term.press("7")
        term.wait_for("Phase 7 of 9")
        term.press("Tab", "Tab", "Enter")  # the by-hand list
        term.wait_for("Confirm a step done by hand")
        term.type("playbook run")
        term.press("Enter")
        term.click("Run deploy", skip_columns=SIDEBAR, button=True)
        term.wait_for("Deploy to qa?")
        term.press("BTab", "Enter")
        term.wait_for("✓ 7 Deploy to QA", 90)  # deployed and checked: the phase is done
        # 8. Back up production: the gate, condition by condition.
        term.press("8")
        term.wait_for("Phase 8 of 9")
        term.click("Open the gate", skip_columns=SIDEBAR, button=True)
        term.click("Run the backup", skip_columns=SIDEBAR, button=True)
        term.wait_for("Run the emergency backup on production?")
        term.press("BTab", "Enter")
        term.wait_for("Unknown host key", 60)
        term.press("Tab", "Enter")  # Fingerprints match: trust
        term.seek("finished on manager1", timeout=60, skip_columns=SIDEBAR)
        term.seek("✓ 2. Stored off the production server", timeout=30, skip_columns=SIDEBAR)
        term.click("Copy to QA", skip_columns=SIDEBAR, button=True)
        term.wait_for("Copy the backup to QA and restore it?")
        term.type("demo-qa1")
        term.press("Enter")
        term.seek("restored on QA", timeout=60, skip_columns=SIDEBAR)
        term.click("Check QA health", skip_columns=SIDEBAR, button=True)
        term.seek("QA healthy", timeout=60, skip_columns=SIDEBAR)
        term.click("Restored records", skip_columns=SIDEBAR, button=True)
        term.seek("✓ 3. Restored on QA and QA healthy", timeout=45, skip_columns=SIDEBAR)
        term.click("Staff were told", skip_columns=SIDEBAR, button=True)
        term.seek("✓ Staff were told to submit their drafts", skip_columns=SIDEBAR)
        term.click("Upgrade production", skip_columns=SIDEBAR)
        term.click("I understand", skip_columns=SIDEBAR, button=True)
        term.seek("✓ Risk acknowledged", skip_columns=SIDEBAR)
        term.seek("✓ OPEN: production may be deployed", timeout=30, skip_columns=SIDEBAR)
        panel = "\n".join(term.visible())
        for n in range(1, 6):
            assert f"✓ {n}. " in panel, panel
        term.click("Go to Deploy", skip_columns=SIDEBAR, button=True)
        # 9. Deploy to production: two by-hand steps, then typed "production".
        term.wait_for("Phase 9 of 9")
        term.press("Tab", "Tab", "Enter")
        term.wait_for("Confirm a step done by hand")
        term.type("staff told")
        term.press("Enter", "Down", "Enter")
        term.wait_for("Confirm a step done by hand")
        term.type("playbook run")
        term.press("Enter")
        term.click("Run deploy", skip_columns=SIDEBAR, button=True)
        term.wait_for("Deploy to production?")
        term.type("production")
        term.press("Enter")
        term.wait_for("✓ 9 Deploy prod", 90)
        # The report, exported from the palette.
        term.press("R")
        term.wait_for("change-management record")
        term.press("C-p")
        term.type("Export report")
        term.settle()
        term.press("Enter")
        term.wait_for("Report written")
        term.press("C-q")
        assert term.wait_exit() == 0
    finally:
        print("\n".join(term.visible()))
        term.close()
    reports = sorted((demo / "state" / "session.reports").glob("*.md"))
    assert len(reports) == 1, reports
    text = reports[0].read_text()
    assert_report_done(text)
    assert "OpenCRVS 1.3.0 to 1.3.5 was completed on QA and production" in text
    assert all(f"### {title}" in text for title in PHASE_TITLES)
