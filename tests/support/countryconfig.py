"""An upstream country config and a country's fork, shaped like opencrvs-countryconfig today.

Upstream: one commit per 1.3 release, tags v1.3.0 … v1.3.4 lightweight and v1.3.5 annotated
(as upstream's are); the tag v1.3.4 carries the optional MOSIP checks, the branch
release-v1.3.4 merges it and takes them out again (as upstream's did); branches release-v1.3.2 … release-v1.3.5; ``master`` far past 1.3
(package.json 1.9.10, a deploy.sh with a check 1.3 never had). The fork: cloned at v1.3.0,
with upstream as the remote ``countryconfig`` and its own required and optional checks in
deploy.sh. Nothing is fetched until the test says so (``fetch_upstream``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tests.support.deploy_sh import real_deploy_sh
from tests.support.gitutil import git

FORK_REQUIRED = "RURITANIA_SMS_TOKEN"
FORK_OPTIONAL = "RURITANIA_SMS_SENDER"
MASTER_ONLY = "ONLY_ON_UPSTREAM_MASTER_1_9"


@dataclass(frozen=True)
class CountryConfig:
    upstream: Path
    fork: Path


def _package(version: str) -> str:
    return json.dumps({"name": "@opencrvs/countryconfig", "version": version}, indent=2) + "\n"


def _release_commit(repo: Path, version: str, deploy: str) -> None:
    (repo / "infrastructure").mkdir(exist_ok=True)
    (repo / "package.json").write_text(_package(version))
    (repo / "infrastructure" / "deploy.sh").write_text(deploy)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"Release v{version}")


def build_upstream(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    for version in ("1.3.0", "1.3.1", "1.3.2", "1.3.3"):
        _release_commit(path, version, real_deploy_sh(version))
        git(path, "tag", f"v{version}")
        if version != "1.3.0" and version != "1.3.1":
            git(path, "branch", f"release-v{version}")
    # The tag v1.3.4 is a Farajaland-flavoured commit; release-v1.3.4 the clean one.
    git(path, "checkout", "-q", "-b", "farajaland-1.3.4")
    _release_commit(path, "1.3.4", real_deploy_sh("1.3.4", mosip=True))
    git(path, "tag", "v1.3.4")
    git(path, "checkout", "-q", "master")
    # As upstream did: release-v1.3.4 merges that commit, then takes the Farajaland parts out.
    git(path, "checkout", "-q", "-b", "release-v1.3.4")
    git(path, "merge", "-q", "--no-ff", "--no-edit", "farajaland-1.3.4")
    _release_commit(path, "1.3.4", real_deploy_sh("1.3.4"))
    git(path, "checkout", "-q", "-b", "release-v1.3.5")
    _release_commit(path, "1.3.5", real_deploy_sh("1.3.5"))
    git(path, "tag", "-a", "v1.3.5", "-m", "v1.3.5")
    git(path, "checkout", "-q", "master")
    git(path, "merge", "-q", "--no-edit", "release-v1.3.5")
    _release_commit(path, "1.9.10", real_deploy_sh("1.3.5", extra_required=[MASTER_ONLY]))
    git(path, "branch", "-D", "-q", "farajaland-1.3.4")
    return path


def build_fork(root: Path, upstream: Path, *, own_checks: bool = True) -> Path:
    """A fork at v1.3.0 with its own deploy.sh checks; upstream is ``countryconfig``, unfetched."""
    origin = root / "fork.git"
    git(root, "clone", "-q", "--bare", "--no-tags", "--single-branch", str(upstream), str(origin))
    git(origin, "update-ref", "refs/heads/master", git(upstream, "rev-parse", "v1.3.0").strip())
    fork = root / "fork"
    git(root, "clone", "-q", "--no-tags", str(origin), str(fork))
    git(fork, "remote", "add", "countryconfig", str(upstream))
    if own_checks:
        deploy = real_deploy_sh(
            "1.3.0", extra_required=[FORK_REQUIRED], extra_optional=[FORK_OPTIONAL]
        )
        (fork / "infrastructure" / "deploy.sh").write_text(deploy)
        git(fork, "commit", "-q", "-am", "Ruritania: national SMS gateway")
    return fork


def build(root: Path, **kwargs: bool) -> CountryConfig:
    upstream = build_upstream(root / "upstream")
    return CountryConfig(upstream, build_fork(root, upstream, **kwargs))


def fetch_upstream(fork: Path) -> None:
    git(fork, "fetch", "-q", "--all", "--tags")
