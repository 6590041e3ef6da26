"""yarn and node: real yarn 1.x, the demo stand-in, and the error when yarn is missing."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tasks.errors import ToolMissing
from tasks.local.process import Command, ProcessRun
from tasks.local.yarn import (
    EXPECTED_NODE_MAJOR,
    STANDIN_ARGV,
    find_tools,
    node_major,
    yarn_force_argv,
)


def _package(tmp_path: Path) -> Path:
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "crvs-test", "version": "1.0.0", "license": "MIT", "private": True})
    )
    return tmp_path


def _path_without_yarn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, node: bool) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("git", "node") if node else ("git",):
        found = shutil.which(tool)
        assert found, f"{tool} is needed on this machine"
        (bindir / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bindir))


@pytest.mark.skipif(shutil.which("yarn") is None, reason="guard only: CI installs yarn 1.x")
async def test_real_yarn_force_on_package_without_dependencies(tmp_path: Path) -> None:
    tools = await find_tools(demo=False, cwd=tmp_path)
    assert tools.yarn_version and tools.yarn_version.startswith("1.") and not tools.standin
    if node_major(tools.node_version) != EXPECTED_NODE_MAJOR:
        assert any("not node 16" in w for w in tools.warnings)
    lines: list[str] = []
    run = ProcessRun(
        Command(tuple(yarn_force_argv(tools)), _package(tmp_path)),
        log_file=tmp_path / "yarn.log",
        on_lines=lines.extend,
    )
    result = await run.run()
    assert result.ok, lines
    assert "[1/4] Resolving packages..." in lines
    assert any(line.startswith("Done in") for line in lines)
    assert (tmp_path / "yarn.lock").exists()


async def test_missing_yarn_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    _path_without_yarn(tmp_path, monkeypatch, node=True)
    with pytest.raises(ToolMissing) as err:
        await find_tools(demo=False, cwd=tmp_path)
    assert "npm install -g yarn@1" in err.value.message


async def test_demo_without_yarn_uses_the_stand_in(tmp_path: Path, monkeypatch) -> None:
    _path_without_yarn(tmp_path, monkeypatch, node=False)
    tools = await find_tools(demo=True, cwd=tmp_path)
    assert tools.standin and tools.yarn == STANDIN_ARGV and "stand-in" in tools.warnings[0]
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    lines: list[str] = []
    result = await ProcessRun(
        Command(tuple(yarn_force_argv(tools)), _package(tmp_path)), on_lines=lines.extend
    ).run()
    assert result.ok
    assert "stand-in" in lines[0]
    assert "[1/4] Resolving packages..." in lines and "[4/4] Rebuilding all packages..." in lines
    # The \r-drawn progress bar arrives as its final drawing only.
    assert "[##########] 100/100" in lines
    assert not any("\r" in line for line in lines)


def test_node_major() -> None:
    assert node_major("v16.20.0") == 16 and node_major("v20.1.0") == 20
    assert node_major(None) is None and node_major("garbage") is None


def test_stand_in_is_this_python() -> None:
    assert STANDIN_ARGV[0] == sys.executable and os.path.exists(STANDIN_ARGV[0])
