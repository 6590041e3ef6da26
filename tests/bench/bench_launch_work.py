"""The work to the first screen, counted in machine instructions: crvs-migrate beside a bare
Textual app, under valgrind.

Run with ``./dev.sh bench -k work``. ``bench_terminal.py`` times the launch in a real
terminal; on a shared machine its figures drift with the load (the bare app's own launch
varied by a tenth from one run to the next). An instruction count does not: the same
program counts the same to within a few tenths of a percent, whatever else runs, so a change
of a few milliseconds shows. What the terminal figure adds (writing to the terminal,
waiting on the disk) is not counted here.

Each program runs in its own pseudo-terminal of 120x40 (``TERM=xterm-256color``) under
``valgrind --tool=lackey --basic-counts=yes`` and ends at its first write that holds its
first screen's marker (``first_screen.py``), before any work done after the first paint:

  bare          ``bare_app.py word``: one word on screen
  resume        a real session's resume (``bench_terminal.resume_session``: phase 5)
  demo          ``--demo`` with a fresh sandbox (Prepare, phase 1)

The three run side by side (a count does not depend on it). Figures are printed, not
asserted; the test fails only if a program does not reach its first screen.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
from pathlib import Path

import pytest

from tests.bench.bench_terminal import (
    GOALS,
    HEIGHT,
    NOTES,
    WIDTH,
    compile_bytecode,
    resume_session,
)

FIRST_SCREEN = str(Path(__file__).with_name("first_screen.py"))
COUNTED = re.compile(r"guest instrs:\s+([\d,]+)")


def counted(work: Path, name: str, marker: str, program: list[str], env: dict[str, str]) -> int:
    """Instructions ``program`` runs until its first write holding ``marker``."""
    log = work / f"{name}.valgrind"
    argv = [
        "valgrind", "--tool=lackey", "--basic-counts=yes", f"--log-file={log}",
        sys.executable, FIRST_SCREEN, marker, *program,
    ]  # fmt: skip
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))

    def drain() -> None:  # the screen is not read; a full pty would stop the program
        try:
            while os.read(main, 65536):
                pass
        except OSError:
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    try:
        done = subprocess.run(
            argv, stdin=child, stdout=child, stderr=child, env=env, timeout=900, check=False
        )
    finally:
        os.close(child)
        reader.join(timeout=5)
        os.close(main)
    text = log.read_text(errors="replace")
    found = COUNTED.findall(text)
    assert done.returncode == 0 and found, f"{name}: exit {done.returncode}\n{text[-2000:]}"
    return int(found[-1].replace(",", ""))


@pytest.mark.timeout(1800)
def test_bench_launch_work() -> None:
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed (./dev.sh bench installs it)")
    compile_bytecode()  # compiling is not the launch
    work = Path(tempfile.mkdtemp(prefix="crvs-bench-work-"))
    try:
        state = work / "session.toml"
        shutil.copy(resume_session(work), state)
        (work / "tmp").mkdir()
        # The same hash seed for every program: sets and dicts iterate alike run to run.
        env = {**os.environ, "TERM": "xterm-256color", "PYTHONHASHSEED": "0"}
        runs = {
            "bare": ("Ready", ["bare", "word", "Phase 1 of 9", "--", str(NOTES)], env),
            "resume": ("Phase 5 of 9", ["crvs-migrate", "--state", str(state)], env),
            "demo": ("Phase 1 of 9", ["crvs-migrate", "--demo"], {**env, "TMPDIR": str(work / "tmp")}),
        }  # fmt: skip
        results: dict[str, int] = {}
        errors: list[BaseException] = []

        def run(name: str) -> None:
            marker, program, run_env = runs[name]
            try:
                results[name] = counted(work, name, marker, program, run_env)
            except BaseException as exc:  # noqa: BLE001 - reported below, in the test
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(name,)) for name in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        bare = results["bare"]
        goal = GOALS["launch"]
        print(
            "\n"
            + textwrap.dedent(
                f"""\
                Work to the first screen (valgrind, machine instructions; {WIDTH}x{HEIGHT}):
                  bare Textual app   {bare / 1e6:8.1f} M
                  resume (phase 5)   {results["resume"] / 1e6:8.1f} M   {results["resume"] / bare:.2f}x the bare app (goal for the launch: {goal}x)
                  --demo (phase 1)   {results["demo"] / 1e6:8.1f} M   {results["demo"] / bare:.2f}x"""
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
