"""Offline install: build the wheelhouse archive, install it with no network, run the CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _base_python() -> str:
    # The test venv may be a uv venv without pip; the scripts need a Python with venv+ensurepip.
    return shutil.which("python3.11") or getattr(sys, "_base_executable", sys.executable)


def _no_network_prefix() -> list[str]:
    """Run in an empty network namespace when the machine allows it: proof that nothing is fetched."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def test_wheelhouse_installs_offline_and_runs(tmp_path: Path) -> None:
    t0 = time.monotonic()
    built = subprocess.run(
        [str(ROOT / "dev.sh"), "wheelhouse", "--out", str(tmp_path / "dist")],
        env={**os.environ, "PYTHON": _base_python()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    build_s = time.monotonic() - t0
    assert built.returncode == 0, built.stderr
    archive = Path(built.stdout.strip().splitlines()[-1])
    assert archive.is_file() and archive.name.endswith(".tar.gz")

    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "carried", filter="data")
    (unpacked,) = (tmp_path / "carried").iterdir()
    wheels = sorted(p.name for p in (unpacked / "wheels").iterdir())
    assert all(name.endswith(".whl") for name in wheels)
    assert any(name.startswith("crvs_migrate-") for name in wheels)
    assert any(name.startswith("textual-8.2.8-") for name in wheels)

    # The offline host: no index, no pip config, no uv, and (where possible) no network at all.
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "PIP_NO_INDEX": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "PYTHON": _base_python(),
    }
    venv = tmp_path / "jumphost-venv"
    net = _no_network_prefix()
    t1 = time.monotonic()
    installed = subprocess.run(
        [*net, str(unpacked / "install-offline.sh"), str(venv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    install_s = time.monotonic() - t1
    assert installed.returncode == 0, installed.stderr
    assert f"installed in {venv}" in installed.stdout
    assert not (venv / "bin" / "uv").exists()

    exe = str(venv / "bin" / "crvs-migrate")
    version = subprocess.run(
        [*net, exe, "--version"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == "crvs-migrate 0.1.0"
    # The installed copy is the wheel, not this source tree.
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import tui; print(tui.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(venv)), where.stdout

    top_help = subprocess.run(
        [*net, exe, "--help"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert top_help.returncode == 0 and "--demo" in top_help.stdout
    has_health = re.search(r"^\s+health\s", top_help.stdout, re.M) is not None
    if has_health:
        health = subprocess.run(
            [*net, exe, "health", "--help"], env=env, capture_output=True, text=True, cwd=tmp_path
        )
        assert health.returncode == 0, health.stderr
        assert "--inventory" in health.stdout

    size_mb = archive.stat().st_size / 1e6
    print(
        f"\nwheelhouse: {len(wheels)} wheels, {size_mb:.1f} MB; build {build_s:.1f} s; "
        f"offline install {install_s:.1f} s; network namespace: {'yes' if net else 'no'}; "
        f"health --help checked: {'yes' if has_health else 'no (not on this branch)'}"
    )


def test_installer_refuses_a_damaged_archive(tmp_path: Path) -> None:
    carried = tmp_path / "carried"
    (carried / "wheels").mkdir(parents=True)
    shutil.copy(ROOT / "offline" / "install-offline.sh", carried)
    (carried / "wheels" / "x-1-py3-none-any.whl").write_bytes(b"original")
    (carried / "PYTHON_VERSION").write_text("3.11\n")
    subprocess.run(
        ["sha256sum", "wheels/x-1-py3-none-any.whl", "PYTHON_VERSION"],
        cwd=carried,
        stdout=(carried / "SHA256SUMS").open("w"),
        check=True,
    )
    (carried / "wheels" / "x-1-py3-none-any.whl").write_bytes(b"truncated on the USB stick")
    result = subprocess.run(
        [str(carried / "install-offline.sh"), str(tmp_path / "venv")],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "damaged" in result.stderr
    assert not (tmp_path / "venv").exists()
