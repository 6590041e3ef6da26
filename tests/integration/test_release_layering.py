"""The release-phase task modules never import textual (they run headless and in tests)."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "tasks.release.env_check",
    "tasks.release.publish",
    "tasks.release.deploy",
    "tasks.release.backup",
    "tasks.release.gate",
    "tasks.servers.runner",
    "tasks.servers.environments",
    "tasks.local.start",
    "tasks.report.document",
]


def test_no_textual_and_no_eager_asyncssh() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in MODULES)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'asyncssh', 'git')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
