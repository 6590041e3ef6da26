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


def _python(code: str) -> str:
    """What ``code`` prints, run by a fresh interpreter in the project's root."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return out.stdout.strip()


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
    assert _python(code) == "[]"


def test_starting_the_app_imports_neither_asyncssh_gitpython_nor_help():
    """What the first screen does not need: SSH, git, and help (its widgets and Markdown)."""
    code = (
        "import sys, tempfile, pathlib\n"
        "import tui.cli, tui.app\n"
        "from tasks.session.workspace import Workspace\n"
        "tui.app.CrvsMigrateApp(Workspace(pathlib.Path(tempfile.mkdtemp()) / 's.toml'))\n"
        "print([m for m in ('asyncssh', 'git', 'screens.help', 'textual.widgets._text_area', "
        "'textual.widgets._data_table', 'rich.markdown') if m in sys.modules])\n"
    )
    assert _python(code) == "[]"


def test_once_the_first_screen_is_drawn_help_and_every_screen_are_imported_ahead():
    """Off the app's loop, after the first paint: the first ``?`` and each first visit
    of a phase or view find their modules loaded (and nothing fails on the way)."""
    code = (
        "import asyncio, sys, tempfile, pathlib\n"
        "from tests.support.app import make_app\n"
        "async def main():\n"
        "    app = make_app(pathlib.Path(tempfile.mkdtemp()) / 's.toml')\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        while not [w for w in app.workers if w.group == 'import-ahead']:\n"
        "            await pilot.pause(0.01)\n"
        "        ahead = [w for w in app.workers if w.group == 'import-ahead']\n"
        "        await app.workers.wait_for_complete(ahead)\n"
        "        print(ahead[0].state.name)\n"
        "        print(sorted(m for m in sys.modules if m.startswith('screens.')))\n"
        "asyncio.run(main())\n"
    )
    state, modules = _python(code).splitlines()[-2:]
    assert state == "SUCCESS"
    from tasks.session.phases import PHASES, VIEWS

    for view_id in [p.id for p in PHASES] + [v.id for v in VIEWS] + ["help"]:
        assert f"'screens.{view_id}'" in modules, view_id


def _import_cycles() -> list[list[str]]:
    """Cycles among the project's modules, counting imports inside functions and
    under TYPE_CHECKING (grimp sees every import statement). Tarjan's SCC, iterative."""
    import grimp

    graph = grimp.build_graph("tasks", "screens", "tui")
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def test_no_import_cycle_among_the_project_modules():
    assert _import_cycles() == []


def test_import_linter_contracts_hold():
    out = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout[-3000:]


def _python_files(*packages: str) -> list[Path]:
    return [p for package in packages for p in (ROOT / package).rglob("*.py")]


def test_only_the_records_change_a_status():
    """Phase and step statuses change through PhaseRecord/StepRecord methods, nowhere else."""
    owner = ROOT / "tasks" / "session" / "state.py"
    offenders = []
    for path in _python_files("tasks", "screens", "tui"):
        if path == owner:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                # ``x.status = ...`` and ``x.status, y = ...`` (not ``d[x.status] = ...``).
                items = target.elts if isinstance(target, ast.Tuple) else [target]
                for item in items:
                    # An object's own attributes (``self.status``) are its business.
                    if (
                        isinstance(item, ast.Attribute)
                        and item.attr in ("status", "reason")
                        and not (isinstance(item.value, ast.Name) and item.value.id == "self")
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_sections_are_read_through_their_owners():
    """Raw section tables are the loader's business: everyone else uses the typed records."""
    allowed = {ROOT / "tasks" / "session" / "state.py"}
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_files("tasks", "screens", "tui")
        if path not in allowed and "raw_sections" in path.read_text()
    ]
    assert offenders == []


def test_every_phase_and_view_has_its_screen():
    from screens.base import PhaseScreen
    from screens.registry import screen_class
    from tasks.session.phases import PHASE_IDS, VIEWS

    for view_id in (*PHASE_IDS, *(v.id for v in VIEWS)):
        assert issubclass(screen_class(view_id), PhaseScreen), view_id


def test_architecture_lists_every_module() -> None:
    """ARCHITECTURE.md matches the tree: every module of tasks/, screens/ and tui/ is named
    there (by its file name, in its package's table or text)."""
    import re

    doc = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"[a-z_]+\.py", doc))
    missing = [
        str(path.relative_to(ROOT))
        for package in ("tasks", "screens", "tui")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name not in ("__init__.py", "__main__.py") and path.name not in named
    ]
    assert not missing, f"not in ARCHITECTURE.md: {missing}"
