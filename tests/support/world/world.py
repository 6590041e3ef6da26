"""The rehearsal world's handle: build once per session, then a fresh copy for each test.

``WorldTemplate.build(...)`` (session) starts the servers and writes the repositories;
``template.instance(dest, options)`` (per test, fast) copies the repositories, resets every
node and returns a ``World``: the typed handle tests use (paths, environments, nodes,
ssh options, readers, and the operator's own actions such as resolving conflicts).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from tasks.demo import countryconfig as cc
from tasks.servers.ssh import SshOptions
from tests.support.world import repos
from tests.support.world.servers import (
    NODES,
    ServerNode,
    Servers,
    give_to_user,
    reset_dir,
    start_servers,
)

RemoteName = Literal["countryconfig", "farajaland", "upstream"]
DEPLOYED_AGO_S = 40 * 86400
DATABASES = (
    "hearth-dev",
    "openhim-dev",
    "user-mgnt",
    "application-config",
    "metrics",
    "webhooks",
    "performance",
)


@dataclass(frozen=True)
class WorldOptions:
    """What a test may vary. Repository options pick a template; the rest apply per test."""

    country: str = "ruritania"
    # The fork's name for upstream: the notes say countryconfig, the fork guide farajaland.
    upstream_remote: RemoteName = "countryconfig"
    # inventory: ansible_user on every host line (read by today's product); group_vars: only
    # in group_vars/all.yml, as Ansible also reads it.
    ansible_user_in: Literal["inventory", "group_vars"] = "inventory"
    # The env files as the operator has them: "1.3.0" lacks CONTENT_SECURITY_POLICY_WILDCARD.
    env_version: str = "1.3.0"
    # Country config version whose emergency scripts are on the servers (1.3.0's lose parts).
    installed_scripts: str = "1.3.5"
    # "complete": migration and mongo-on-update show 0/1 after their run, as on a real 1.3
    # stack. "lenient": the migration as a replicated-job and mongo-on-update 1/1, which is
    # what today's product (health, the post-deploy wait) and the demo accept.
    one_shot_services: Literal["complete", "lenient"] = "complete"
    # `docker service ls` looks after a deploy before every service is n/n.
    converge_after: int = 0
    # The stand-in restore copies <remote_dir>/<label> from the backup server when QA lacks it.
    restore_fetches: bool = True

    @property
    def repo_key(self) -> tuple[str, str, str]:
        return (self.country, self.upstream_remote, self.ansible_user_in)


@dataclass(frozen=True)
class Environment:
    name: str  # qa | production
    domain: str  # what deploy.sh gets as --host (ssh reaches the manager by it)
    inventory: Path
    env_file: Path
    nodes: tuple[ServerNode, ...]
    replicas: int

    @property
    def manager(self) -> ServerNode:
        return self.nodes[0]


@dataclass(frozen=True)
class World:
    """A rehearsal installation: repositories on the operator's machine and its servers."""

    root: Path
    options: WorldOptions
    user: str
    upstream: Path  # bare, "github.com/opencrvs/opencrvs-countryconfig.git"
    fork_origin: Path  # bare, the country's fork on "GitHub"
    core_origin: Path  # bare
    config: Path  # the operator's checkout of the fork (on master, v1.3.0 + customisations)
    core: Path  # the operator's checkout of core (master at v1.3.0)
    qa: Environment
    production: Environment
    backup: ServerNode
    backup_remote_dir: str  # external_backup_server_remote_directory
    ssh_config: Path
    known_hosts: Path
    client_key: Path
    local_bin: Path  # ssh/scp wrappers applying ssh_config: first on PATH for deploy.sh
    state_path: Path  # a place for the test's session file
    customisations: repos.Customisations = field(repr=False, default=repos.Customisations("x"))

    @property
    def upstream_remote(self) -> str:
        return self.options.upstream_remote

    @property
    def country_tag(self) -> str:
        """The fork's release tag deployed today (and the country config image tag)."""
        return f"v1.3.0-{self.options.country}.1"

    @property
    def dockerhub(self) -> tuple[str, str]:
        return (self.options.country, f"ocrvs-{self.options.country}")

    def environment(self, name: str) -> Environment:
        return {"qa": self.qa, "production": self.production}[name]

    def ssh_options(self, **overrides: Any) -> SshOptions:
        """SshOptions trusting exactly the world's servers, logging in with the world's key."""
        kwargs: dict[str, Any] = dict(
            known_hosts=self.known_hosts,
            config_files=(self.ssh_config,),
            client_keys=(self.client_key,),
            agent_path="",
            connect_timeout=5,
            login_timeout=5,
            command_timeout=15,
        )
        kwargs.update(overrides)
        return SshOptions(**kwargs)

    def local_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for running deploy.sh here: the world's ssh first on PATH."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.local_bin}:{env.get('PATH', '/usr/bin:/bin')}"
        return env

    def env_values(self, environment: str) -> dict[str, str]:
        from dotenv import dotenv_values

        return {
            k: v or "" for k, v in dotenv_values(self.environment(environment).env_file).items()
        }

    def set_env_var(self, environment: str, name: str, value: str) -> None:
        """The operator edits an env file (e.g. adds CONTENT_SECURITY_POLICY_WILDCARD)."""
        path = self.environment(environment).env_file
        lines = [ln for ln in path.read_text().splitlines() if not ln.startswith(f"{name}=")]
        path.write_text("\n".join([*lines, f"{name}={value}"]) + "\n")

    def conflicted(self) -> list[str]:
        out = cc.run_git(self.config, "diff", "--name-only", "--diff-filter=U")
        return [p for p in out.splitlines() if p]

    def resolve_conflicts(self) -> list[str]:
        """Resolve a merge of a 1.3.x release as the operator would, stage it; the files."""
        merging = json.loads(cc.run_git(self.config, "show", "MERGE_HEAD:package.json"))
        files = self.conflicted()
        for path in files:
            if path not in repos.CONFLICTS:
                raise AssertionError(f"{path} conflicts: not a conflict of a 1.3.x merge")
            text = self.customisations.resolve(path, merging["version"])
            (self.config / path).write_text(text, encoding="utf-8")
            cc.run_git(self.config, "add", "--", path)
        return files

    def backup_listing(self, label: str) -> list[str]:
        """Files under <remote_dir>/<label> on the backup server (relative, sorted)."""
        base = Path(self.backup_remote_dir) / label
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


# -- building -----------------------------------------------------------------------------


def _domains(country: str) -> dict[str, str]:
    return {"qa1": f"qa.crvs.{country}.invalid", "manager1": f"crvs.{country}.invalid"}


@dataclass
class WorldTemplate:
    """The session's servers plus repositories built once per repository option set."""

    root: Path
    servers: Servers
    country: str
    _repos: dict[tuple[str, str, str], Path] = field(default_factory=dict)

    @classmethod
    def build(
        cls, root: Path, user: str, client_key: Any, start_sshd: Any, country: str = "ruritania"
    ) -> WorldTemplate:
        servers = start_servers(root / "servers", user, client_key, start_sshd, _domains(country))
        return cls(root, servers, country)

    @property
    def backup_remote_dir(self) -> str:
        return str(self.servers.nodes["backup"].dir / "srv" / "backups" / "opencrvs")

    def repos_for(self, options: WorldOptions) -> Path:
        if options.country != self.country:
            raise ValueError(f"this session's servers are named for {self.country}")
        key = options.repo_key
        if key not in self._repos:
            dest = self.root / "repos" / "-".join(key)
            build_repos(dest, options, self)
            self._repos[key] = dest
        return self._repos[key]

    def instance(self, dest: Path, options: WorldOptions = WorldOptions()) -> World:
        """A private world in ``dest``: copied repositories, every node reset."""
        template = self.repos_for(options)
        shutil.copytree(template, dest, symlinks=True)
        world = _world(dest, options, self)
        for repo, remotes in (
            (world.config, {"origin": world.fork_origin, options.upstream_remote: world.upstream}),
            (world.core, {"origin": world.core_origin}),
        ):
            for name, url in remotes.items():
                cc.run_git(repo, "remote", "set-url", name, str(url))
        reset_nodes(world, self)
        return world


def _world(root: Path, options: WorldOptions, template: WorldTemplate) -> World:
    c = options.country
    upstream_name = (
        "opencrvs-farajaland"
        if options.upstream_remote == "farajaland"
        else "opencrvs-countryconfig"
    )
    nodes = template.servers.nodes
    inventories = root / "operator" / f"opencrvs-{c}" / "infrastructure" / "server-setup"
    secrets = root / "operator" / "secrets"
    domains = _domains(c)
    s = template.servers
    return World(
        root=root,
        options=options,
        user=s.user,
        upstream=root / "github.com" / "opencrvs" / f"{upstream_name}.git",
        fork_origin=root / "github.com" / c / f"opencrvs-{c}.git",
        core_origin=root / "github.com" / "opencrvs" / "opencrvs-core.git",
        config=root / "operator" / f"opencrvs-{c}",
        core=root / "operator" / "opencrvs-core",
        qa=Environment(
            "qa", domains["qa1"], inventories / "qa.ini", secrets / "qa.env", (nodes["qa1"],), 1
        ),
        production=Environment(
            "production",
            domains["manager1"],
            inventories / "production.ini",
            secrets / "production.env",
            (nodes["manager1"], nodes["worker1"], nodes["worker2"]),
            3,
        ),
        backup=nodes["backup"],
        backup_remote_dir=template.backup_remote_dir,
        ssh_config=s.ssh_config,
        known_hosts=s.known_hosts,
        client_key=s.client_key.private,
        local_bin=s.local_bin,
        state_path=root / "operator" / "state" / "session.toml",
        customisations=repos.Customisations(c),
    )


def inventory(world: World, environment: str) -> str:
    """The operator's inventory: example-{1,3}.ini filled in, backup variables for production."""
    env = world.environment(environment)
    in_line = world.options.ansible_user_in == "inventory"
    user = f" ansible_user={world.user}" if in_line else ""
    lines = [f"; {world.customisations.title} {environment}: {len(env.nodes)} server(s)"]
    manager, *workers = env.nodes
    lines += [
        "[docker-manager-first]",
        f'{manager.name} ansible_host="{manager.address}"{user}',
        "",
    ]
    if workers:
        lines.append("[docker-workers]")
        lines += [f'{w.name} ansible_host="{w.address}"{user}' for w in workers]
        lines.append("")
    lines.append("[all:vars]")
    lines += [f"data{i}_hostname={n.name}" for i, n in enumerate(env.nodes, 1)]
    if environment == "production":
        b = world.backup
        lines += [
            f"external_backup_server_ip={b.address}",
            f"external_backup_server_user={b.user}",
            f"external_backup_server_ssh_port={b.port}",
            f"external_backup_server_remote_directory={world.backup_remote_dir}",
            f"manager_production_server_ip={manager.address}",
        ]
    return "\n".join(lines) + "\n"


def env_file_text(world: World, environment: str) -> str:
    """Every variable deploy.sh of ``env_version`` requires, plus SSH_USER; no real secret."""
    env = world.environment(environment)
    account, repo = world.dockerhub
    values: dict[str, str] = {"DOMAIN": env.domain, "REPLICAS": str(env.replicas)}
    for name in cc.deploy_required(world.options.env_version):
        values[name] = f"rehearsal-{name.lower().replace('_', '-')}"
    values.update(
        SMTP_PORT="587",
        ALERT_EMAIL=f"ops@{world.options.country}.invalid",
        DOCKERHUB_ACCOUNT=account,
        DOCKERHUB_REPO=repo,
        SSH_USER=world.user,
    )
    if "CONTENT_SECURITY_POLICY_WILDCARD" in values:
        values["CONTENT_SECURITY_POLICY_WILDCARD"] = f"*.{env.domain}"
    return "".join(f"{k}={v}\n" for k, v in values.items())


def build_repos(dest: Path, options: WorldOptions, template: WorldTemplate) -> None:
    """Upstream, core, the fork (bare, as on GitHub) and the operator's two checkouts."""
    world = _world(dest, options, template)
    cc.build_countryconfig_upstream(world.upstream, repos.WORLD_FLAVOUR)
    cc.build_core_origin(world.core_origin)
    operator = dest / "operator"
    operator.mkdir(parents=True, exist_ok=True)
    _build_fork(world)
    _build_core_checkout(world)
    secrets = operator / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    for env in ("qa", "production"):
        (secrets / f"{env}.env").write_text(env_file_text(world, env))
        (secrets / f"{env}.env").chmod(0o600)
    (operator / "state").mkdir(exist_ok=True)


def _build_fork(world: World) -> None:
    c, title = world.options.country, world.customisations.title
    who = (f"{title} Ops", f"ops@{c}.invalid")
    # The fork as GitHub made it when v1.3.0 was current: master, develop and the tags of then.
    world.fork_origin.parent.mkdir(parents=True, exist_ok=True)
    cc.run_git(world.fork_origin.parent, "init", "-q", "--bare", world.fork_origin.name)
    start = {
        t: cc.run_git(world.upstream, "rev-parse", f"{t}^{{commit}}") for t in ("v1.2.1", "v1.3.0")
    }
    cc.run_git(
        world.upstream,
        "push",
        "-q",
        str(world.fork_origin),
        *(f"{sha}:refs/tags/{t}" for t, sha in start.items()),
    )
    for branch in ("master", "develop"):
        cc.run_git(
            world.upstream,
            "push",
            "-q",
            str(world.fork_origin),
            f"{start['v1.3.0']}:refs/heads/{branch}",
        )
    cc.run_git(world.config.parent, "clone", "-q", str(world.fork_origin), world.config.name)
    cfg = world.config
    cc.run_git(cfg, "config", "user.name", who[0])
    cc.run_git(cfg, "config", "user.email", who[1])
    cc.run_git(cfg, "remote", "add", world.upstream_remote, str(world.upstream))
    # Fetched once, in 2023: the remote-tracking branches still point at v1.3.0.
    for branch in ("master", "develop"):
        cc.run_git(
            cfg, "update-ref", f"refs/remotes/{world.upstream_remote}/{branch}", start["v1.3.0"]
        )

    def commit(message: str, files: dict[str, str], date: str) -> None:
        for rel, text in files.items():
            path = cfg / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        cc.run_git(cfg, "add", "-A")
        cc.run_git(cfg, "commit", "-q", "-m", message, date=date, who=who)

    custom = world.customisations
    base = repos.upstream_files("1.3.0", "")
    commit(
        f"{title}: application name, currency, SMS gateway and translations",
        {p: custom.apply(p, base[p]) for p in (repos.APP_CONFIG, repos.CLIENT_JSON)},
        "2023-10-16",
    )
    commit(
        f"{title}: national ID and required place of birth on the birth form",
        {
            repos.BIRTH_FORM: custom.apply(repos.BIRTH_FORM, base[repos.BIRTH_FORM]),
            **custom.added_files(),
        },
        "2023-10-18",
    )
    commit(
        f"{title}: certificate of the Republic",
        {repos.CERTIFICATE: custom.apply(repos.CERTIFICATE, base[repos.CERTIFICATE])},
        "2023-10-19",
    )
    commit(
        f"{title}: our own release approvers",
        {".github/workflows/publish-release.yml": cc.publish_release_yml((f"{c}-ops",))},
        "2023-10-20",
    )
    setup = "infrastructure/server-setup"
    commit(
        f"{title}: QA and production inventories",
        {
            f"{setup}/qa.ini": inventory(world, "qa"),
            f"{setup}/production.ini": inventory(world, "production"),
            f"{setup}/group_vars/all.yml": cc.group_vars_all(world.user),
        },
        "2023-10-24",
    )
    cc.run_git(cfg, "tag", world.country_tag)
    cc.run_git(cfg, "push", "-q", "origin", "master", world.country_tag)


def _build_core_checkout(world: World) -> None:
    """Core as cloned in October 2023: master at v1.3.0, no later tags or branches."""
    cc.run_git(
        world.core.parent, "clone", "-q", "--no-tags", str(world.core_origin), world.core.name
    )
    start = cc.run_git(world.core_origin, "rev-parse", "v1.3.0^{commit}")
    cc.run_git(world.core, "reset", "-q", "--hard", start)
    cc.run_git(world.core, "update-ref", "refs/remotes/origin/master", start)
    for ref in cc.run_git(
        world.core, "for-each-ref", "--format=%(refname)", "refs/remotes"
    ).split():
        if ref not in ("refs/remotes/origin/master", "refs/remotes/origin/HEAD"):
            cc.run_git(world.core, "update-ref", "-d", ref)
    for tag in ("v1.2.1", "v1.3.0"):
        cc.run_git(
            world.core, "tag", tag, cc.run_git(world.core_origin, "rev-parse", f"{tag}^{{commit}}")
        )


# -- the servers' state, per test ------------------------------------------------------------


def reset_nodes(world: World, template: WorldTemplate) -> None:
    """Every node as the operator's installation is today: 1.3.0 deployed, data, scripts."""
    now = time.time()
    o = world.options
    account, repo = world.dockerhub
    scripts = {
        name: cc.run_git(world.upstream, "show", f"v{o.installed_scripts}:infrastructure/{name}")
        + "\n"
        for name in repos.SCRIPTS
    }
    from tests.support.world.standins.docker import migrations_of

    for spec in NODES:
        node = template.servers.nodes[spec.name]
        reset_dir(node.dir)
        state: dict[str, Any] = {
            "node": spec.name,
            "role": spec.role,
            "environment": spec.environment,
            "address": spec.address,
        }
        if spec.role == "manager":
            env = world.environment(spec.environment)
            state.update(
                swarm=list(spec.swarm),
                swarm_addresses={n.name: n.address for n in env.nodes},
                converge_after=o.converge_after,
                one_shot_services=o.one_shot_services,
                stack={
                    "version": "v1.3.0",
                    "country_config_version": world.country_tag,
                    "country_image": f"{account}/{repo}:{world.country_tag}",
                    "environment": spec.environment,
                    "replicas": env.replicas,
                    "created": now - 90 * 86400,
                    "deployed_at": now - DEPLOYED_AGO_S,
                    "looks": o.converge_after,
                },
                deploys=[],
                migration_runs=[
                    {
                        "at": now - DEPLOYED_AGO_S,
                        "version": "v1.3.0",
                        "applied": migrations_of("v1.3.0"),
                        "reason": "deploy",
                    }
                ],
                images=[f"opencrvs/ocrvs-{s}:v1.3.0" for s in ("auth", "gateway", "migration")]
                + [f"{account}/{repo}:{world.country_tag}"],
                records={
                    db: (48213 if spec.environment == "production" else 512) * (i + 1)
                    for i, db in enumerate(DATABASES)
                },
                data_from={"node": spec.name, "label": "own"},
            )
            if spec.environment == "qa":
                b = world.backup
                state.update(
                    restore_fetches=o.restore_fetches,
                    backup_user=b.user,
                    backup_host=b.address,
                    backup_port=b.port,
                    backup_remote_dir=world.backup_remote_dir,
                )
            _data(node, spec.environment)
            for name, text in scripts.items():
                path = node.infrastructure_dir / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                path.chmod(0o755)
        elif spec.role == "worker":
            state.update(swarm=[])
            # Workers have their encrypted /data too (mongo2/mongo3, elasticsearch data).
            (node.data_dir / "mongo").mkdir(parents=True)
        else:
            _nightly_backup(Path(world.backup_remote_dir), now - 86400 + 60)
        (node.dir / "log").mkdir(exist_ok=True)
        (node.dir / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
        give_to_user(node.dir, node.user)
        for p in (node.dir / "bin").iterdir():
            p.chmod(0o755)


def _data(node: ServerNode, environment: str) -> None:
    d = node.data_dir
    files = {
        "minio/ocrvs/birth-declaration-attachment-1.png": f"attachment on {node.name}\n",
        "minio/ocrvs/birth-declaration-attachment-2.png": f"attachment 2 on {node.name}\n",
        "metabase/metabase.db.mv.db": f"metabase h2 database on {node.name}\n",
        "vsexport/birth-2023.csv": f"vital statistics export of {environment}\n",
        "secrets/opencrvs.secrets": "MONGODB_ADMIN_USER=rehearsal-admin\nMONGODB_ADMIN_PASSWORD=rehearsal-not-a-secret\n"
        "ELASTICSEARCH_ADMIN_USER=elastic\nELASTICSEARCH_ADMIN_PASSWORD=rehearsal-not-a-secret\n",
    }
    for rel, text in files.items():
        path = d / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (d / "backups").mkdir(exist_ok=True)


def _nightly_backup(remote_dir: Path, when: float) -> None:
    """Last night's cron backup (label = its date), so the directory is not empty."""
    label = time.strftime("%Y-%m-%d", time.gmtime(when))
    base = remote_dir / label
    files = {f"mongo/{db}-{label}.gz": "nightly\n" for db in DATABASES}
    files.update(
        {
            "elasticsearch/index-0": json.dumps({"snapshots": [{"name": f"snapshot_{label}"}]}),
            f"influxdb/{label}/nightly.meta": "nightly\n",
            f"minio/ocrvs-{label}.tar.gz": "nightly\n",
            f"metabase/ocrvs-{label}.tar.gz": "nightly\n",
            f"vsexport/ocrvs-{label}.tar.gz": "nightly\n",
        }
    )
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (when, when))


__all__ = ["World", "WorldOptions", "WorldTemplate", "Environment", "ServerNode", "replace"]
