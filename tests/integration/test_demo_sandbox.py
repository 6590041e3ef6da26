"""The demo sandbox is real git, laid out like an operator's machine and shaped like the real
repositories today (upstream master far past 1.3, release branches, v1.3.5 off master)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tasks.demo.countryconfig import CORE_MASTER_VERSION, COUNTRYCONFIG_MASTER_VERSION
from tasks.demo.sandbox import CONFLICTING_FILE, build_demo_sandbox
from tasks.release.publish import read_publish_workflow
from tasks.upgrade.catalogue import bundled_catalogue


def git(cwd, *args):
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def is_ancestor(repo, a, b) -> bool:
    return subprocess.run(["git", "merge-base", "--is-ancestor", a, b], cwd=repo).returncode == 0


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    return build_demo_sandbox(tmp_path_factory.mktemp("demo") / "sandbox")


def test_upstream_has_every_release_tag_with_matching_package_version(sandbox):
    tags = git(sandbox.upstream_path, "tag", "--list", "v1.3.*").split()
    assert tags == [f"v{r.version}" for r in bundled_catalogue().releases]
    for r in bundled_catalogue().releases:
        package = json.loads(git(sandbox.upstream_path, "show", f"v{r.version}:package.json"))
        assert package["version"] == r.version
    kinds = git(sandbox.upstream_path, "for-each-ref", "--format=%(objecttype)", "refs/tags/v1.3.*")
    assert kinds.split() == ["commit"] * 5 + ["tag"]  # only v1.3.5 is annotated, as upstream


def test_upstream_master_is_far_past_1_3_and_release_branches_exist(sandbox):
    up = sandbox.upstream_path
    master = json.loads(git(up, "show", "master:package.json"))
    assert master["version"] == COUNTRYCONFIG_MASTER_VERSION
    branches = git(up, "branch", "--list", "release-*", "--format=%(refname:short)").split()
    assert branches == ["release-v1.3.2", "release-v1.3.3", "release-v1.3.4", "release-v1.3.5"]
    assert git(up, "rev-parse", "release-v1.3.5") == git(up, "rev-parse", "v1.3.5^{commit}")
    assert not is_ancestor(up, "v1.3.5", "master")
    assert not is_ancestor(up, "v1.3.1", "v1.3.3")  # upstream's own topology
    assert "infrastructure/deploy.sh" not in git(up, "ls-tree", "-r", "--name-only", "master")


def test_fork_has_countryconfig_remote_and_local_customisations(sandbox):
    remotes = git(sandbox.config_path, "remote").split()
    assert sorted(remotes) == ["countryconfig", "origin"]
    assert json.loads((sandbox.config_path / "package.json").read_text())["version"] == "1.3.0"
    assert git(sandbox.config_path, "status", "--porcelain") == ""
    assert "Farajaland" in git(sandbox.config_path, "log", "-1", "--format=%s")
    # The fork ships upstream's publish-release.yml with its own approvers.
    workflow = read_publish_workflow(sandbox.config_path)
    assert workflow.found and workflow.approvers == ("farajaland-ops",)


def test_deploy_sh_has_the_real_structure(sandbox):
    text = (sandbox.config_path / "infrastructure" / "deploy.sh").read_text()
    assert '    --country_config_version=*)\n        COUNTRY_CONFIG_VERSION="${i#*=}"' in text
    assert "Error: Argument --replicas is required in position 8." in text
    assert "Error: Missing environment variable DOCKERHUB_REPO." in text
    assert "Info: Missing optional environment variable EMAIL_API_KEY." in text
    assert "CONTENT_SECURITY_POLICY_WILDCARD" not in text  # 1.3.0 did not ask for it
    later = git(sandbox.upstream_path, "show", "v1.3.5:infrastructure/deploy.sh")
    assert "Error: Missing environment variable CONTENT_SECURITY_POLICY_WILDCARD." in later


def _clone(tmp_path, sandbox):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(sandbox.config_path), str(clone)], check=True)
    git(clone, "remote", "add", "countryconfig", str(sandbox.upstream_path))
    git(clone, "fetch", "-q", "countryconfig")
    return clone


def _merge(clone, rev):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "merge", rev],
        cwd=clone,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("rev", ["v1.3.5", "countryconfig/release-v1.3.5"])
def test_merging_the_target_release_conflicts_in_exactly_one_file(tmp_path, sandbox, rev):
    clone = _clone(tmp_path, sandbox)
    assert _merge(clone, rev).returncode != 0
    assert git(clone, "diff", "--name-only", "--diff-filter=U").split() == [CONFLICTING_FILE]
    assert json.loads((clone / "package.json").read_text())["version"] == "1.3.5"


def test_merging_upstream_master_is_visibly_wrong(tmp_path, sandbox):
    clone = _clone(tmp_path, sandbox)
    _merge(clone, "countryconfig/master")
    assert (
        json.loads((clone / "package.json").read_text())["version"] == COUNTRYCONFIG_MASTER_VERSION
    )
    assert not (clone / "infrastructure" / "deploy.sh").exists()


def test_core_origin_is_far_past_1_3_with_release_tags(sandbox):
    core = sandbox.core_path
    assert git(core, "tag").split() == ["v1.2.1", "v1.3.0"]  # cloned in October 2023
    git(core, "fetch", "-q", "--tags")
    assert (
        json.loads(git(core, "show", "origin/master:package.json"))["version"]
        == CORE_MASTER_VERSION
    )
    assert json.loads(git(core, "show", "v1.3.5:package.json"))["version"] == "1.3.5"
    assert is_ancestor(core, "v1.3.4", "origin/master")
    assert not is_ancestor(core, "v1.3.5", "origin/master")
    assert int(git(core, "rev-list", "--count", "master..origin/master")) > 5


def test_building_again_reuses_the_sandbox_and_refuses_foreign_dirs(tmp_path, sandbox):
    again = build_demo_sandbox(sandbox.root)
    assert again == sandbox
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("do not touch")
    with pytest.raises(FileExistsError):
        build_demo_sandbox(foreign)
    assert (foreign / "precious.txt").read_text() == "do not touch"
