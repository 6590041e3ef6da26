"""The rehearsal world: a whole OpenCRVS 1.3.0 installation built from real parts, no demo flag.

What a test gets (``rehearsal_world`` fixture, a ``World``)::

  <tmp>/github.com/opencrvs/opencrvs-countryconfig.git   upstream (…/opencrvs-farajaland.git when
                                                          the fork calls it ``farajaland``): tags
                                                          v1.2.1, v1.3.0 … v1.3.5, release-v1.3.2 …
                                                          release-v1.3.5, master/develop at 1.9.10
  <tmp>/github.com/opencrvs/opencrvs-core.git            core: v1.3.x tags, master at 2.0.0
  <tmp>/github.com/<country>/opencrvs-<country>.git      the country's fork (master, develop, tags
                                                          v1.2.1, v1.3.0, v1.3.0-<country>.1)
  <tmp>/operator/opencrvs-<country>/    the operator's checkout: master = v1.3.0 + the country's
                                        edits (4 files upstream changed by 1.3.5, a file of its
                                        own, its publish-release.yml approvers, its inventories
                                        infrastructure/server-setup/{qa,production}.ini and
                                        group_vars/all.yml); remote ``options.upstream_remote``
                                        fetched in 2023 (remote-tracking refs at v1.3.0)
  <tmp>/operator/opencrvs-core/         master at v1.3.0, tags of October 2023 only
  <tmp>/operator/secrets/{qa,production}.env   deploy variables as of ``options.env_version``
  <tmp>/operator/state/session.toml     where a test may keep its session

and the session's servers (``tests/support/world/servers.py``): real OpenSSH sshd nodes
qa1 (127.0.0.41, QA), manager1/worker1/worker2 (127.0.0.42-44, production) and backup
(127.0.0.45), each with a stand-in ``docker`` answering from the node's state, 1.3.0
deployed, data under ``ROOT_PATH`` and the emergency scripts under ``OPENCRVS_DIR``
(``options.installed_scripts``). The fork's ``infrastructure/deploy.sh`` is the real 1.3
script up to its checks, then deploys over ssh (``world.local_env()`` puts the world's ssh
first on PATH); the emergency scripts have the real flags and prompts and really move the
backup to ``world.backup_remote_dir/<label>`` and back to QA.

Example::

    async def test_backup_reaches_the_backup_server(rehearsal_world):
        world = rehearsal_world
        m, b = world.production.manager, world.backup
        argv = ["bash", m.backup_script, f"--ssh_user={b.user}", f"--ssh_host={b.address}",
                f"--ssh_port={b.port}", f"--production_ip={m.address}",
                f"--remote_dir={world.backup_remote_dir}", "--replicas=3", "--label=before-v1.3.5"]
        async with ssh_runner(m.address, None, m.user, world.ssh_options()) as run:
            assert (await run(argv)).exit_status == 0
        assert "mongo/hearth-dev-before-v1.3.5.gz" in world.backup_listing("before-v1.3.5")

Options (``make_rehearsal_world(WorldOptions(...))``): the upstream remote's name, where
``ansible_user`` is set, the env files' version, the emergency scripts' version on the servers,
whether one-shot services show 0/1, how many looks a deploy takes to converge, and whether the
stand-in restore fetches from the backup server. Facts behind the world:
/work/notes/real-repos-world.md (not in the repository).
"""

from tests.support.world.servers import NODES, ServerNode
from tests.support.world.world import Environment, World, WorldOptions, WorldTemplate

__all__ = ["NODES", "Environment", "ServerNode", "World", "WorldOptions", "WorldTemplate"]
