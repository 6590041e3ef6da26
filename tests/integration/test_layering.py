"""Imports flow tui -> screens -> tasks; tasks never imports textual; heavy libraries load lazily."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_tasks_never_import_textual_or_ui_packages():
    offenders = {f: n & {"textual", "screens", "tui"} for f, n in _imports("tasks").items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_screens_never_import_tui():
    offenders = {f: n & {"tui"} for f, n in _imports("screens").items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_importing_every_tasks_module_loads_no_textual():
    import tasks

    modules = [m.name for m in pkgutil.walk_packages(tasks.__path__, "tasks.")]
    assert "tasks.session.state" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(k for k in sys.modules if k == 'textual' or k.startswith('textual.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_starting_the_app_does_not_import_asyncssh_or_gitpython():
    code = (
        "import sys, tempfile, pathlib\n"
        "import tui.cli, tui.app\n"
        "from tasks.session.workspace import Workspace\n"
        "tui.app.CrvsMigrateApp(Workspace(pathlib.Path(tempfile.mkdtemp()) / 's.toml'))\n"
        "print([m for m in ('asyncssh', 'git') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
