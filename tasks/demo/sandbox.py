"""The demo sandbox: real git repositories laid out like an operator's machine.

Built with real git in a fresh directory, with no network, shaped like today's real
repositories (``tasks.demo.countryconfig``):
  upstream/opencrvs-countryconfig.git   upstream country config: tags v1.3.0 ... v1.3.5,
                                        branches release-v1.3.2 ... release-v1.3.5, and
                                        master/develop far past 1.3 (package.json 1.9.10)
  remotes/opencrvs-farajaland.git       the operator's fork on "GitHub" (master = v1.3.0
                                        plus the country's customisations, tag v1.3.0)
  opencrvs-farajaland/                  the operator's checkout of the fork, on master,
                                        upstream as remote ``countryconfig`` (not fetched
                                        yet); merging v1.3.5 (or release-v1.3.5) conflicts in
                                        exactly one file (src/config.ts); it ships upstream's
                                        .github/workflows/publish-release.yml, approvers edited
  remotes/opencrvs-core.git             core's origin: tags v1.3.0 ... v1.3.5, master at 2.0.0
  opencrvs-core/                        the operator's checkout of core, cloned at v1.3.0
                                        (master and origin/master there, no later tags)
  state/session.toml                    the demo session, separate from real sessions

``infrastructure/deploy.sh`` has the real 1.3 structure (arguments, ``-z`` checks,
``Info: Missing optional`` checks); after its checks it deploys nothing and says so.
"""

from __future__ import annotations

from pathlib import Path

from tasks.demo import countryconfig as cc
from tasks.lean import dataclass

DEMO_START_VERSION = "1.3.0"
CONFLICTING_FILE = "src/config.ts"
MARKER = ".crvs-demo-sandbox"
DEMO_OPS = ("Farajaland Ops", "ops@farajaland.invalid")
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
    def cluster_dir(self) -> Path:
        """Keys, known_hosts, ssh config and inventories of the demo cluster."""
        return self.root / "cluster"

    @property
    def built(self) -> bool:
        """Whether its repositories are all there (the marker is written last)."""
        return (self.root / MARKER).exists()


def deploy_sh(version: str) -> str:
    """infrastructure/deploy.sh of the demo's country config at ``version`` (1.3.x)."""
    return cc.deploy_sh(version, cc.DEMO_DEPLOY_BODY)


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
    return (
        '<svg xmlns="http://www.w3.org/2000/svg"><text>{{childFirstName}} born in '
        f"{place}</text></svg>\n"
    )


def _demo_script(name: str, usage: str) -> str:
    return (
        f"{cc.LICENSE_SH}set -e\n"
        f"# crvs-migrate demo: a stand-in for {name} (the real one runs on the server).\n"
        f"echo 'Usage: {usage}'\n"
        "echo 'crvs-migrate demo stand-in: nothing was done.'\n"
    )


def _demo_files(version: str, variant: str) -> dict[str, str]:
    key = cc.vkey(version)
    extra = ""
    if key >= (1, 3, 1):
        extra = "export const CONTENT_SECURITY_POLICY_WILDCARD = process.env.CONTENT_SECURITY_POLICY_WILDCARD\n"
    if key >= (1, 4, 0):
        extra += "export const SENTRY_DSN = process.env.SENTRY_DSN\n"
    files = {
        CONFLICTING_FILE: _config_ts("Farajaland CRVS", extra),
        "src/templates/certificates/birth-certificate.svg": _certificate(helper=key >= (1, 3, 3)),
    }
    if key < (1, 4, 0):
        files["infrastructure/emergency-backup-metadata.sh"] = _demo_script(
            "emergency-backup-metadata.sh",
            "./emergency-backup-metadata.sh --ssh_user=XXX --ssh_host=XXX --ssh_port=XXX "
            "--production_ip=XXX --remote_dir=XXX --replicas=XXX --label=XXX",
        )
        files["infrastructure/emergency-restore-metadata.sh"] = _demo_script(
            "emergency-restore-metadata.sh",
            "./emergency-restore-metadata.sh --label=XXX --replicas=XXX",
        )
    return files


DEMO_FLAVOUR = cc.Flavour(files=_demo_files)


def _build_fork(root: Path, sandbox: DemoSandbox) -> None:
    """The fork: cloned from upstream when v1.3.0 was current, then customised."""
    start = f"v{DEMO_START_VERSION}"
    work = root / "work"
    cc.run_git(work, "clone", "-q", "--bare", "--no-tags", str(sandbox.upstream_path), "fork.git")
    fork_bare = work / "fork.git"
    start_commit = cc.run_git(sandbox.upstream_path, "rev-parse", f"{start}^{{commit}}")
    cc.run_git(fork_bare, "update-ref", "refs/heads/master", start_commit)
    cc.run_git(fork_bare, "tag", start, start_commit)
    for ref in cc.run_git(fork_bare, "for-each-ref", "--format=%(refname)", "refs/heads").split():
        if ref != "refs/heads/master":
            cc.run_git(fork_bare, "update-ref", "-d", ref)
    fork_bare.rename(sandbox.fork_remote_path)
    cc.run_git(root, "clone", "-q", str(sandbox.fork_remote_path), sandbox.config_path.name)
    cfg = sandbox.config_path
    cc.run_git(cfg, "remote", "add", "countryconfig", str(sandbox.upstream_path))
    cc.run_git(cfg, "config", "user.name", DEMO_OPS[0])
    cc.run_git(cfg, "config", "user.email", DEMO_OPS[1])
    (cfg / CONFLICTING_FILE).write_text(
        _config_ts("Farajaland Civil Registry", "export const SMS_PROVIDER = 'farajaland-sms'\n"),
        encoding="utf-8",
    )
    custom = cfg / "src" / "custom" / "farajaland-sms.ts"
    custom.parent.mkdir(parents=True, exist_ok=True)
    custom.write_text(
        "// Local customisation: national SMS gateway\n"
        "export const SMS_GATEWAY = 'https://sms.farajaland.invalid'\n",
        encoding="utf-8",
    )
    # A fork must name its own approvers (upstream's workflow names OpenCRVS staff).
    (cfg / ".github" / "workflows" / "publish-release.yml").write_text(
        cc.publish_release_yml(("farajaland-ops",)), encoding="utf-8"
    )
    cc.run_git(cfg, "add", "-A")
    cc.run_git(
        cfg,
        "commit",
        "-q",
        "-m",
        "Farajaland: national SMS gateway, app name and release approvers",
        date="2023-10-20",
        who=DEMO_OPS,
    )
    cc.run_git(cfg, "push", "-q", "origin", "master")


def _build_core(root: Path, sandbox: DemoSandbox) -> None:
    """Core's origin today, and the operator's checkout as cloned when v1.3.0 was current."""
    cc.build_core_origin(sandbox.core_origin_path)
    cc.run_git(
        root, "clone", "-q", "--no-tags", str(sandbox.core_origin_path), sandbox.core_path.name
    )
    core = sandbox.core_path
    start = cc.run_git(sandbox.core_origin_path, "rev-parse", f"v{DEMO_START_VERSION}^{{commit}}")
    cc.run_git(core, "reset", "-q", "--hard", start)
    for ref in cc.run_git(core, "for-each-ref", "--format=%(refname)", "refs/remotes").split():
        if ref not in ("refs/remotes/origin/master", "refs/remotes/origin/HEAD"):
            cc.run_git(core, "update-ref", "-d", ref)
    cc.run_git(core, "update-ref", "refs/remotes/origin/master", start)
    # The tags a clone made in October 2023 had.
    for version in ("1.2.1", DEMO_START_VERSION):
        commit = cc.run_git(sandbox.core_origin_path, "rev-parse", f"v{version}^{{commit}}")
        cc.run_git(core, "tag", f"v{version}", commit)


def demo_sandbox_at(root: Path) -> DemoSandbox:
    """The sandbox to build (or reuse) in ``root``, without building it; cheap.

    Raises ``FileExistsError`` for a directory that is neither a sandbox nor empty. Only
    ``state/`` and the demo lock may already be there: the CLI locks the sandbox first,
    and the app writes its session and journal into ``state/`` while the sandbox is built
    (after the first paint).
    """
    root = Path(root).absolute()
    if not (root / MARKER).exists() and root.is_dir():
        if any(entry.name not in ("state", LOCK_FILE) for entry in root.iterdir()):
            raise FileExistsError(f"{root} is not empty and is not a crvs-migrate demo sandbox")
    return DemoSandbox(root)


def build_demo_sandbox(root: Path) -> DemoSandbox:
    """Build the sandbox in ``root`` (absent, empty, or holding only ``state/``); reuse
    one built before."""
    sandbox = demo_sandbox_at(root)
    root = sandbox.root
    if sandbox.built:
        return sandbox
    root.mkdir(parents=True, exist_ok=True)
    for d in ("upstream", "remotes", "state", "work"):
        (root / d).mkdir(exist_ok=True)
    cc.build_countryconfig_upstream(sandbox.upstream_path, DEMO_FLAVOUR)
    _build_fork(root, sandbox)
    _build_core(root, sandbox)
    (root / MARKER).write_text("crvs-migrate demo sandbox\n", encoding="utf-8")
    return sandbox
