"""Phases 3 and 4 against the rehearsal world (repositories shaped like today's OpenCRVS):
the upstream remote found by name or by URL, the release merged (never master, and for
1.3.4 upstream's clean branch, not the tag carrying OpenCRVS staff SSH keys), core moved
to its release tag."""

from __future__ import annotations

import pytest

from tasks.local.checkout import inspect_repo
from tasks.local.process import Command, ProcessRun
from tasks.local.upgrade_steps import FETCH_ARGV, config_steps, core_steps, release_ref
from tasks.upgrade.detect import read_package_version
from tests.support.gitutil import git
from tests.support.world import WorldOptions

pytestmark = pytest.mark.sshd  # the world's nodes are started once per test session


async def test_an_upstream_named_upstream_or_found_by_its_url(make_rehearsal_world) -> None:
    world = make_rehearsal_world(WorldOptions(upstream_remote="upstream"))
    cfg = world.config
    assert (await inspect_repo(cfg)).upstream_remote == "upstream"
    # Any name: the URL is OpenCRVS's own country config repository.
    git(cfg, "remote", "rename", "upstream", "opencrvs-releases")
    state = await inspect_repo(cfg)
    assert state.upstream_remote == "opencrvs-releases"
    assert state.remote_urls["opencrvs-releases"].endswith("opencrvs/opencrvs-countryconfig.git")
    assert (await ProcessRun(Command(FETCH_ARGV, cfg)).run()).ok
    ref = release_ref(cfg, "1.3.4", state.upstream_remote)
    assert ref.found and ref.name == "opencrvs-releases/release-v1.3.4"
    keys = git(cfg, "show", f"{ref.name}:infrastructure/authorized_keys")
    assert keys.strip() == ""  # the tag v1.3.4 would have brought staff keys
    assert git(cfg, "show", "v1.3.4:infrastructure/authorized_keys").strip()
    ref = release_ref(cfg, "1.3.5", state.upstream_remote)
    assert ref.found and ref.name == "v1.3.5"


async def test_the_release_is_merged_never_master(rehearsal_world) -> None:
    world = rehearsal_world
    cfg = world.config
    remote = (await inspect_repo(cfg)).upstream_remote
    assert (await ProcessRun(Command(FETCH_ARGV, cfg)).run()).ok
    ref = release_ref(cfg, "1.3.5", remote)
    steps = {s.id: s for s in config_steps(cfg, "1.3.5", ref.name)}
    assert steps["merge_upstream"].argv == ("git", "merge", "--no-edit", "v1.3.5")
    git(cfg, "checkout", "-q", "-b", "upgrade-countryconfig-v1.3.5")
    result = await ProcessRun(Command(steps["merge_upstream"].argv, cfg)).run()
    if not result.ok:  # the fork's customisations conflict, as a real fork's do
        world.resolve_conflicts()
        git(cfg, "commit", "-q", "--no-edit")
    assert read_package_version(cfg) == "1.3.5"  # master would have said 1.9.x


async def test_core_is_moved_to_its_release_tag(rehearsal_world) -> None:
    core = rehearsal_world.core
    steps = {s.id: s for s in core_steps(core, "1.3.5")}
    for step_id in ("fetch", "checkout_master"):
        assert (await ProcessRun(Command(steps[step_id].argv, core)).run()).ok, step_id
    assert read_package_version(core) == "1.3.5"
    assert git(core, "rev-parse", "HEAD") == git(core, "rev-parse", "v1.3.5^{commit}")
    state = await inspect_repo(core)
    assert state.detached and not state.dirty
