"""The demo sandbox is real git, laid out like an operator's machine."""

from __future__ import annotations

import json
import subprocess

import pytest

from tasks.demo.sandbox import CONFLICTING_FILE, build_demo_sandbox
from tasks.upgrade.catalogue import RELEASES


def git(cwd, *args):
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    return build_demo_sandbox(tmp_path_factory.mktemp("demo") / "sandbox")


def test_upstream_has_every_release_tag_with_matching_package_version(sandbox):
    tags = git(sandbox.upstream_path, "tag", "--list", "v1.3.*").split()
    assert tags == [f"v{r.version}" for r in RELEASES]
    for r in RELEASES:
        package = json.loads(git(sandbox.upstream_path, "show", f"v{r.version}:package.json"))
        assert package["version"] == r.version


def test_fork_has_countryconfig_remote_and_local_customisations(sandbox):
    remotes = git(sandbox.config_path, "remote").split()
    assert sorted(remotes) == ["countryconfig", "origin"]
    assert json.loads((sandbox.config_path / "package.json").read_text())["version"] == "1.3.0"
    assert git(sandbox.config_path, "status", "--porcelain") == ""
    assert "Farajaland" in git(sandbox.config_path, "log", "-1", "--format=%s")


def test_merging_upstream_master_conflicts_in_exactly_one_file(tmp_path, sandbox):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(sandbox.config_path), str(clone)], check=True)
    git(clone, "remote", "add", "countryconfig", str(sandbox.upstream_path))
    git(clone, "fetch", "-q", "countryconfig")
    merge = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "merge", "countryconfig/master"],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert merge.returncode != 0
    assert git(clone, "diff", "--name-only", "--diff-filter=U").split() == [CONFLICTING_FILE]


def test_core_origin_is_ahead_by_a_few_commits(sandbox):
    git(sandbox.core_path, "fetch", "-q")
    behind = git(sandbox.core_path, "rev-list", "--count", "master..origin/master").strip()
    assert int(behind) == 3


def test_building_again_reuses_the_sandbox_and_refuses_foreign_dirs(tmp_path, sandbox):
    again = build_demo_sandbox(sandbox.root)
    assert again == sandbox
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("do not touch")
    with pytest.raises(FileExistsError):
        build_demo_sandbox(foreign)
    assert (foreign / "precious.txt").read_text() == "do not touch"
