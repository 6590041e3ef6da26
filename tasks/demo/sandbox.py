"""The demo sandbox: real git repositories laid out like an operator's machine.

Built with real git in a fresh directory, with no network:
  upstream/opencrvs-countryconfig.git   upstream country config, tags v1.3.0 ... v1.3.5
  remotes/opencrvs-farajaland.git       the operator's fork on "GitHub"
  opencrvs-farajaland/                  the operator's checkout of the fork, on v1.3.0,
                                        upstream as remote ``countryconfig``, with local
                                        customisations that conflict with upstream master
                                        in exactly one file (src/config.ts)
  remotes/opencrvs-core.git             core's origin, a few commits ahead of ...
  opencrvs-core/                        ... the operator's checkout of core
  state/session.toml                    the demo session, separate from real sessions
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tasks.upgrade.catalogue import DEPLOY_REQUIRED_ENV_1_3_0, RELEASES

DEMO_START_VERSION = "1.3.0"
CONFLICTING_FILE = "src/config.ts"
MARKER = ".crvs-demo-sandbox"
# One instance per sandbox (its demo cluster's ports and keys live here): see
# tasks.session.lock. Taken before the sandbox is built, so it may be the only file.
LOCK_FILE = ".crvs-demo.lock"


@dataclass(frozen=True)
class DemoSandbox:
    root: Path

    @property
    def upstream_path(self) -> Path:
        return self.root / "upstream" / "opencrvs-countryconfig.git"

    @property
    def fork_remote_path(self) -> Path:
        return self.root / "remotes" / "opencrvs-farajaland.git"

    @property
    def config_path(self) -> Path:
        return self.root / "opencrvs-farajaland"

    @property
    def core_origin_path(self) -> Path:
        return self.root / "remotes" / "opencrvs-core.git"

    @property
    def core_path(self) -> Path:
        return self.root / "opencrvs-core"

    @property
    def state_path(self) -> Path:
        return self.root / "state" / "session.toml"

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_FILE

    @property
    def built(self) -> bool:
        return (self.root / MARKER).exists()

    @property
    def cluster_dir(self) -> Path:
        """Keys, known_hosts, ssh config and inventories of the demo cluster."""
        return self.root / "cluster"


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="OpenCRVS Demo",
        GIT_AUTHOR_EMAIL="demo@opencrvs.invalid",
        GIT_COMMITTER_NAME="OpenCRVS Demo",
        GIT_COMMITTER_EMAIL="demo@opencrvs.invalid",
    )
    return env


def _git(cwd: Path, *args: str, date: str | None = None, who: str | None = None) -> str:
    env = _git_env()
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{date}T12:00:00+00:00"
    if who:
        env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = who
    result = subprocess.run(
        ["git", "-c", "init.defaultBranch=master", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _package_json(name: str, version: str) -> str:
    # No dependencies: `yarn --force` runs offline in well under a second.
    data = {
        "name": name,
        "version": version,
        "description": "OpenCRVS country configuration (crvs-migrate demo)",
        "license": "MPL-2.0",
        "private": True,
        "scripts": {
            "start": "echo 'Starting OpenCRVS country config (demo)'; echo 'Migrations run automatically'",
            "deploy": "bash infrastructure/deploy.sh",
        },
        "engines": {"node": "16.20.0"},
    }
    return json.dumps(data, indent=2) + "\n"


def deploy_sh(version: str) -> str:
    """An excerpt of infrastructure/deploy.sh as shipped with ``version``."""
    required = list(DEPLOY_REQUIRED_ENV_1_3_0)
    if tuple(int(x) for x in version.split(".")) >= (1, 3, 1):  # the "incompatible" hotfix
        required.append("CONTENT_SECURITY_POLICY_WILDCARD")
    checks = "\n".join(
        f"if [ -z \"${var}\" ] ; then\n    echo 'Error: Missing environment variable {var}.'\n"
        f"    print_usage_and_exit\nfi\n"
        for var in required
    )
    return f"""#!/usr/bin/env bash
# OpenCRVS country config {version}: deploy to a Docker Swarm cluster (demo excerpt).
set -e

print_usage_and_exit () {{
    echo 'Usage: ./deploy.sh --clear_data=yes|no --host --environment --version --country_config_version --replicas'
    exit 1
}}

for i in "$@"; do
  case $i in
    --clear_data=*) CLEAR_DATA="${{i#*=}}"; shift ;;
    --host=*) HOST="${{i#*=}}"; shift ;;
    --environment=*) ENV="${{i#*=}}"; shift ;;
    --version=*) VERSION="${{i#*=}}"; shift ;;
    --country_config_version=*) COUNTRY_CONFIG_VERSION="${{i#*=}}"; shift ;;
    --replicas=*) REPLICAS="${{i#*=}}"; shift ;;
    *) ;;
  esac
done

{checks}
echo "Deploying VERSION $VERSION to $HOST (demo: nothing is deployed)"
"""


_INVENTORY_3 = """[docker-manager-first]
manager1 ansible_host="203.0.113.10"

[docker-workers]
worker1 ansible_host="203.0.113.11"
worker2 ansible_host="203.0.113.12"

[all:vars]
data1_hostname=manager1
data2_hostname=worker1
data3_hostname=worker2
"""


def _config_ts(app_name: str, extra: str = "") -> str:
    return (
        "// Country configuration settings\n"
        f"export const APPLICATION_NAME = '{app_name}'\n"
        "export const COUNTRY_LOGO_URL = '/images/logo.png'\n"
        "export const DEFAULT_TIMEOUT = 600000\n"
        f"{extra}"
    )


def _certificate(helper: bool) -> str:
    place = "{{location placeOfBirthDistrictId 'name'}}" if helper else "{{placeOfBirthDistrict}}"
    return f'<svg xmlns="http://www.w3.org/2000/svg"><text>{{{{childFirstName}}}} born in {place}</text></svg>\n'


def _build_upstream(work: Path) -> None:
    """Upstream history: one commit per release, each tagged v1.3.x."""
    _git(work.parent, "init", "-q", work.name)
    _write(work / "README.md", "# OpenCRVS Farajaland country configuration\n")
    _write(work / "infrastructure/server-setup/example-3.ini", _INVENTORY_3)
    _write(work / "CHANGELOG.md", "# Changelog\n")
    for release in RELEASES:
        v = release.version
        _write(work / "package.json", _package_json("@opencrvs/countryconfig", v))
        _write(work / "infrastructure/deploy.sh", deploy_sh(v))
        extra = ""
        if release.key >= (1, 3, 1):
            extra = "export const CONTENT_SECURITY_POLICY_WILDCARD = process.env.CONTENT_SECURITY_POLICY_WILDCARD\n"
        _write(work / CONFLICTING_FILE, _config_ts("Farajaland CRVS", extra))
        _write(
            work / "src/templates/certificates/birth-certificate.svg",
            _certificate(helper=release.key >= (1, 3, 3)),
        )
        changelog = (work / "CHANGELOG.md").read_text()
        _write(work / "CHANGELOG.md", changelog + f"\n## v{v}\n\n{release.summary}\n")
        _git(work, "add", "-A")
        _git(
            work, "commit", "-q", "-m", f"Release v{v}", date=release.date, who="OpenCRVS Core Team"
        )
        _git(work, "tag", "-a", f"v{v}", "-m", f"OpenCRVS country config v{v}", date=release.date)


def build_demo_sandbox(root: Path) -> DemoSandbox:
    """Build the sandbox in ``root`` (must be empty or absent); reuse one built before."""
    root = Path(root).absolute()
    sandbox = DemoSandbox(root)
    if (root / MARKER).exists():
        return sandbox
    if root.exists() and any(p.name != LOCK_FILE for p in root.iterdir()):
        raise FileExistsError(f"{root} is not empty and is not a crvs-migrate demo sandbox")
    root.mkdir(parents=True, exist_ok=True)
    for d in ("upstream", "remotes", "state", "work"):
        (root / d).mkdir(exist_ok=True)
    work = root / "work" / "countryconfig"
    _build_upstream(work)
    _git(root / "upstream", "clone", "-q", "--bare", str(work), sandbox.upstream_path.name)

    # The operator's fork: cloned when v1.3.0 was current, then customised.
    start_tag = f"v{DEMO_START_VERSION}"
    _git(
        root / "work", "clone", "-q", "--bare", "--no-tags", str(sandbox.upstream_path), "fork.git"
    )
    fork_bare = root / "work" / "fork.git"
    start_commit = _git(sandbox.upstream_path, "rev-parse", f"{start_tag}^{{commit}}").strip()
    _git(fork_bare, "update-ref", "refs/heads/master", start_commit)
    _git(fork_bare, "tag", start_tag, start_commit)
    for ref in _git(fork_bare, "for-each-ref", "--format=%(refname)", "refs/heads").split():
        if ref != "refs/heads/master":
            _git(fork_bare, "update-ref", "-d", ref)
    (root / "work" / "fork.git").rename(sandbox.fork_remote_path)
    _git(root, "clone", "-q", str(sandbox.fork_remote_path), sandbox.config_path.name)
    cfg = sandbox.config_path
    _git(cfg, "remote", "add", "countryconfig", str(sandbox.upstream_path))
    _git(cfg, "config", "user.name", "Farajaland Ops")
    _git(cfg, "config", "user.email", "ops@farajaland.invalid")
    _write(
        cfg / CONFLICTING_FILE,
        _config_ts("Farajaland Civil Registry", "export const SMS_PROVIDER = 'farajaland-sms'\n"),
    )
    _write(
        cfg / "src/custom/farajaland-sms.ts",
        "// Local customisation: national SMS gateway\nexport const SMS_GATEWAY = 'https://sms.farajaland.invalid'\n",
    )
    _git(cfg, "add", "-A")
    _git(
        cfg,
        "commit",
        "-q",
        "-m",
        "Farajaland: national SMS gateway and app name",
        date="2023-10-20",
        who="Farajaland Ops",
    )
    _git(cfg, "push", "-q", "origin", "master")

    # opencrvs-core: the operator's checkout is a few commits behind origin.
    core_work = root / "work" / "core"
    _git(root / "work", "init", "-q", "core")
    _write(core_work / "package.json", _package_json("@opencrvs/core", "1.3.0"))
    _write(core_work / "README.md", "# OpenCRVS core\n")
    _git(core_work, "add", "-A")
    _git(
        core_work,
        "commit",
        "-q",
        "-m",
        "Release v1.3.0",
        date="2023-10-03",
        who="OpenCRVS Core Team",
    )
    _git(root / "remotes", "clone", "-q", "--bare", str(core_work), sandbox.core_origin_path.name)
    _git(root, "clone", "-q", str(sandbox.core_origin_path), sandbox.core_path.name)
    for release in RELEASES[1:4]:
        _write(core_work / "package.json", _package_json("@opencrvs/core", release.version))
        _git(
            core_work,
            "commit",
            "-q",
            "-am",
            f"Release v{release.version}",
            date=release.date,
            who="OpenCRVS Core Team",
        )
    _git(core_work, "push", "-q", str(sandbox.core_origin_path), "master")

    (root / MARKER).write_text("crvs-migrate demo sandbox\n", encoding="utf-8")
    return sandbox
