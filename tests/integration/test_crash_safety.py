"""kill -9 while saving in a loop: the file on disk is always the old or the new state."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

from tasks.session.state import load_session

ROOT = Path(__file__).resolve().parents[2]

SAVER = r"""
import sys
from pathlib import Path
from tasks.session.state import Session, save_session, load_session
path = Path(sys.argv[1])
s = load_session(path) or Session()
start = int(s.installation.split()[-1]) if s.installation else 0
# A payload large enough that a torn write would be visible.
s.raw_sections["answers"] = {"notes": "x" * 200_000}
n = start
while True:
    n += 1
    s.installation = f"generation {n}"
    save_session(path, s)
    print(n, flush=True)
"""


def test_state_survives_kill_9_during_saves(tmp_path):
    path = tmp_path / "session.toml"
    rng = random.Random(1234)
    last_seen = 0
    for _round in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        wanted = rng.randint(1, 25)
        confirmed = last_seen
        for _ in range(wanted):
            line = proc.stdout.readline()
            assert line, "the saver stopped early"
            confirmed = int(line)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        session = load_session(path)
        assert session is not None
        generation = int(session.installation.split()[-1])
        # Old or new: at least what was confirmed saved, at most one save further.
        assert confirmed <= generation <= confirmed + 1
        assert session.raw_sections["answers"]["notes"] == "x" * 200_000
        last_seen = generation
    assert last_seen >= 12
