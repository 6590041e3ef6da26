"""The process runner: chunked reading, line splitting, sanitising, logs, journal, cancel."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.local.process import Command, LineSplitter, ProcessRun, RunningSteps
from tasks.session.journal import Journal
from tasks.text import strip_control
from tests.support.sandbox import group_gone, group_members

PY = sys.executable


def test_splitter_joins_lines_across_chunks_and_decodes_split_utf8() -> None:
    data = (
        "première ligne\nzweite Zeile ü\n\x1b[31mrot\x1b[0m\n[bold]not markup[/bold]\nlast".encode()
    )
    splitter = LineSplitter()
    lines: list[str] = []
    for i in range(len(data)):  # one byte at a time: every boundary, inside UTF-8 too
        lines += splitter.feed(data[i : i + 1])
    lines += splitter.flush()
    assert lines == [
        "première ligne",
        "zweite Zeile ü",
        "rot",
        "[bold]not markup[/bold]",
        "last",
    ]


def test_splitter_keeps_last_progress_drawing_and_replaces_bad_bytes() -> None:
    splitter = LineSplitter()
    out = splitter.feed(b"[1/4] Resolving packages...\n")
    out += splitter.feed(b"\r[##--] 50/100")
    out += splitter.feed(b"\r[####] 100/100\r\n")
    out += splitter.feed(b"bad \xff\xfe bytes\n")
    assert out == ["[1/4] Resolving packages...", "[####] 100/100", "bad \ufffd\ufffd bytes"]


async def test_run_streams_batches_long_lines_log_and_journal(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        # One big write: the pipe hands it over in chunks, whatever the buffering mode.
        "sys.stdout.write(''.join(f'line {i}\\n' for i in range(20000))); sys.stdout.flush()\n"
        "print('x' * 200000)\n"  # far over asyncio's 64 KiB readline limit
        "print('to stderr', file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    batches: list[list[str]] = []
    journal = Journal(tmp_path / "journal.jsonl")
    run = ProcessRun(
        Command((PY, "-c", script), tmp_path),
        log_file=tmp_path / "logs" / "step.log",
        journal=journal,
        phase="update_core",
        step="demo",
        on_lines=batches.append,
    )
    result = await run.run()
    lines = [line for batch in batches for line in batch]
    assert result.exit_code == 3 and not result.ok and not result.cancelled
    assert lines[:2] == ["line 0", "line 1"] and lines[19999] == "line 19999"
    assert lines[20000] == "x" * 200000
    assert lines[-1] == "to stderr"
    assert len(batches) < 100, "lines must arrive in batches, not one by one"
    log = (tmp_path / "logs" / "step.log").read_text()
    assert "line 19999\n" in log and "to stderr" in log and "exit code 3" in log
    assert (tmp_path / "logs" / "step.log").stat().st_mode & 0o777 == 0o600
    (entry,) = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert entry["kind"] == "command" and entry["exit_code"] == 3 and entry["step"] == "demo"
    assert entry["argv"][0] == PY and entry["duration_s"] >= 0


async def test_child_cannot_read_terminal_and_git_never_prompts(tmp_path: Path) -> None:
    script = (
        "import os,sys; print(repr(sys.stdin.read())); print(os.environ['GIT_TERMINAL_PROMPT'])"
    )
    lines: list[str] = []
    result = await ProcessRun(Command((PY, "-c", script), tmp_path), on_lines=lines.extend).run()
    assert result.ok and lines == ["''", "0"]


def _tree_script(marker: Path) -> str:
    # A parent that starts a grandchild ignoring SIGTERM, then waits forever.
    return (
        "import subprocess, sys, time, signal, pathlib\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)'])\n"
        f"pathlib.Path({str(marker)!r}).write_text(str(child.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(300)\n"
    )


async def test_cancel_ends_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    started = asyncio.Event()
    run = ProcessRun(
        Command((PY, "-c", _tree_script(marker)), tmp_path),
        on_lines=lambda lines: started.set(),
        terminate_grace_s=0.5,
    )
    task = asyncio.create_task(run.run())
    await asyncio.wait_for(started.wait(), 10)
    pgid = run.pid
    assert pgid is not None and len(group_members(pgid)) == 2
    run.cancel()
    result = await asyncio.wait_for(task, 10)
    assert result.cancelled and result.exit_code is not None
    assert group_gone(pgid)


async def test_a_cancelled_follower_leaves_the_step_running_and_it_can_be_reattached(
    tmp_path: Path,
) -> None:
    """The app quitting (or dying) stops following a step, never the step itself."""
    marker = tmp_path / "child.pid"
    started = asyncio.Event()
    journal = Journal(tmp_path / "j.jsonl")
    log = tmp_path / "logs" / "step.log"
    run = ProcessRun(
        Command((PY, "-c", _tree_script(marker)), tmp_path),
        log_file=log,
        journal=journal,
        on_lines=lambda lines: started.set(),
        terminate_grace_s=0.5,
    )
    task = asyncio.create_task(run.run())
    await asyncio.wait_for(started.wait(), 10)
    pgid = run.pid
    assert pgid is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    try:
        assert len(group_members(pgid)) == 2 and run.result is None
        assert list(journal.entries()) == []
        again = ProcessRun.attach(log, journal=journal, phase="p", step="s")
        assert again is not None and again.pid == pgid and again.alive()
        seen: list[str] = []
        again.subscribe(seen.extend)
        follower = asyncio.create_task(again.follow())
        while "started" not in seen:
            await asyncio.sleep(0.02)
        again.cancel()
        result = await asyncio.wait_for(follower, 10)
    finally:
        for pid in group_members(pgid):
            os.kill(pid, signal.SIGKILL)
    assert result.cancelled and result.exit_code == -signal.SIGTERM
    assert group_gone(pgid)
    (entry,) = list(journal.entries())
    assert entry["step"] == "s" and entry["exit_code"] == -signal.SIGTERM
    assert "cancelled" in log.read_text()


async def test_running_steps_registry_waits_until_idle(tmp_path: Path) -> None:
    registry = RunningSteps()
    run = ProcessRun(Command((PY, "-c", "import time; time.sleep(30)"), tmp_path))
    registry.add("update_core", "fetch", run)
    task = asyncio.create_task(run.run())
    while run.pid is None:
        await asyncio.sleep(0.01)
    assert registry.any() and "update_core / fetch" in registry.describe()[0]
    registry.cancel_all()
    await asyncio.wait_for(task, 10)
    registry.remove("update_core", "fetch")
    assert not registry.any() and await registry.wait_idle(1)


async def test_missing_program_and_directory_are_clear_errors(tmp_path: Path) -> None:
    from tasks.errors import CrvsError

    with pytest.raises(CrvsError, match="not found"):
        await ProcessRun(Command(("no-such-program-crvs",), tmp_path)).run()
    with pytest.raises(CrvsError, match="does not exist"):
        await ProcessRun(Command(("true",), tmp_path / "nope")).run()


ALPHABET = "ab é[];m0123\x1b\r\t\n\x07\x9b\x00"


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=ALPHABET, max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_splitter_matches_strip_control_line_by_line(text: str, cuts: list[int]) -> None:
    data = text.encode()
    splitter = LineSplitter()
    out: list[str] = []
    last = 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        out += splitter.feed(data[last:cut])
        last = cut
    out += splitter.feed(data[last:])
    out += splitter.flush()
    expected = [strip_control(line) for line in text.split("\n")]
    if text.endswith("\n") or not text:
        expected = expected[:-1]  # no partial last line
    if expected and not text.endswith("\n") and not text.split("\n")[-1]:
        expected = expected[:-1]
    assert out == expected
