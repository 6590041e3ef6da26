"""``crvs-migrate report`` as a real subprocess: Markdown and HTML of a finished session, never
textual, never the session's lock, never a change to the session or anything beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tasks.session import locations
from tasks.session.lock import LockHolder, SessionLock
from tests.support.finished import CHANGE, INSTALLATION, SECRET, finished_session

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "tui", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)


def _snapshot(directory: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under ``directory``: mode, mtime (ns) and bytes."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[str(path.relative_to(directory))] = (st.st_mode, st.st_mtime_ns, path.read_bytes())
    return out


async def test_writes_markdown_and_html_without_touching_the_session(tmp_path: Path) -> None:
    f = await finished_session(tmp_path)
    state = f.workspace.state_path
    # Another crvs-migrate has the session open: the report neither waits for it nor fails.
    lock = SessionLock(locations.lock_path(state))
    lock.acquire()
    try:
        before = _snapshot(state.parent)
        md_out, html_out = tmp_path / "out" / "change.md", tmp_path / "out" / "change.html"
        md_out.parent.mkdir()
        done = _cli("report", "--state", str(state), "-o", str(md_out))
        assert done.returncode == 0, done.stderr
        done = _cli("report", "--state", str(state), "-o", str(html_out))  # format from the name
        assert done.returncode == 0, done.stderr
        to_stdout = _cli("report", "--state", str(state), "--format", "html")
        assert to_stdout.returncode == 0, to_stdout.stderr
        after = _snapshot(state.parent)
        holder = LockHolder.parse(locations.lock_path(state).read_bytes())
    finally:
        lock.release()
    # Nothing beside the session changed: not the session, journal, logs or the lock record.
    assert after == before
    assert holder is not None and holder.pid == os.getpid()

    md, page = md_out.read_text(), html_out.read_text()
    assert oct(md_out.stat().st_mode & 0o777) == "0o600"
    assert md.startswith(f"# Change record: OpenCRVS upgrade 1.3.0 to 1.3.5, {INSTALLATION}\n")
    assert page.startswith("<!DOCTYPE html>")
    assert to_stdout.stdout.startswith("<!DOCTYPE html>") and "Approvals and sign-off" in page
    for heading in (
        "### Summary",
        "### Approvals and sign-off",
        "### Versions running at the end",
        "### Rollback plan",
        "### Incidents",
        "### 9. Deploy to production",
        "### Evidence of the steps done by hand",
        "### Commands run",
    ):
        assert heading in md
    assert f"Change {CHANGE}" in md and f"Change {CHANGE}" in page
    for text in (md, page):
        assert SECRET not in text


def test_never_imports_textual_or_the_screens(tmp_path: Path) -> None:
    state = tmp_path / "session.toml"
    state.write_text('schema_version = 1\nsession_id = "abc123"\ninstallation = "Ruritania"\n')
    code = (
        "import json, sys\n"
        "from tui.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'screens') "
        "or m == 'tui.app')\n"
        "print(json.dumps({'rc': rc, 'bad': bad}), file=sys.stderr)\n"
    )
    done = _cli("report", "--state", str(state), "-o", str(tmp_path / "r.md"), code=code)
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert result == {"rc": 0, "bad": []}
    # No lock file was made beside the session, and the session is as it was.
    assert not locations.lock_path(state).exists()
    assert "Not named yet" not in (tmp_path / "r.md").read_text()
    assert "Ruritania" in (tmp_path / "r.md").read_text()


def test_bad_input_exits_3_and_changes_nothing(tmp_path: Path) -> None:
    missing = _cli("report", "--state", str(tmp_path / "none.toml"))
    assert missing.returncode == 3 and "there is no session at" in missing.stderr
    assert not (tmp_path / "none.toml").exists()

    damaged = tmp_path / "damaged.toml"
    damaged.write_text("schema_version = 1\nphases = 3\n")
    before = damaged.read_bytes()
    done = _cli("report", "--state", str(damaged))
    assert done.returncode == 3 and "damaged.toml" in done.stderr and done.stdout == ""
    assert damaged.read_bytes() == before

    ok = tmp_path / "ok.toml"
    ok.write_text("schema_version = 1\n")
    for own in (ok, locations.journal_path(ok)):
        done = _cli("report", "--state", str(ok), "-o", str(own))
        assert done.returncode == 3 and "one of the session's own files" in done.stderr
    assert ok.read_text() == "schema_version = 1\n"
    assert not locations.journal_path(ok).exists()
    done = _cli("report", "--state", str(ok), "-o", str(tmp_path / "no" / "such" / "dir.md"))
    assert done.returncode == 3 and "cannot write" in done.stderr
