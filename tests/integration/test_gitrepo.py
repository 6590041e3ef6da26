"""Git checks on real repositories (the demo sandbox: upstream, fork, core behind origin)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.demo.sandbox import CONFLICTING_FILE
from tasks.errors import InvalidName
from tasks.local.checkout import (
    NotARepository,
    add_remote_argv,
    check_branch_name,
    incoming_commits,
    inspect_repo,
    merged_commits,
    scan_conflicts,
    stash_argv,
    target_version,
    upgrade_branch,
)
from tasks.local.process import Command, ProcessRun
from tasks.local.upgrade_steps import (
    blockers,
    config_steps,
    core_steps,
    merge_blocker,
    release_ref,
)
from tasks.session.state import Session
from tasks.upgrade.answers import Answers
from tasks.upgrade.catalogue import latest_version
from tests.support.sandbox import git


async def test_core_behind_origin_after_fetch(sandbox) -> None:
    state = await inspect_repo(sandbox.core_path)
    assert state.branch == "master" and not state.detached and not state.dirty
    assert (state.ahead, state.behind) == (0, 0)  # origin not fetched yet
    git(sandbox.core_path, "fetch", "-q")
    behind = int(git(sandbox.core_path, "rev-list", "--count", "master..origin/master"))
    assert behind > 5  # upstream master is far past 1.3
    state = await inspect_repo(sandbox.core_path)
    assert (state.ahead, state.behind) == (0, behind)
    assert f"{behind} behind" in state.summary()


async def test_detached_head_reported(sandbox) -> None:
    git(sandbox.core_path, "checkout", "-q", "--detach", "HEAD")
    state = await inspect_repo(sandbox.core_path)
    assert state.detached and "detached HEAD" in state.summary()
    (step,) = [s for s in core_steps(sandbox.core_path, "1.3.5") if s.id == "merge_core_fork"]
    problems = blockers(step, state)
    assert any("detached HEAD" in p for p in problems)
    assert any("v1.3.5 is not in this checkout yet" in p for p in problems)


async def test_dirty_tree_lists_changes_and_untracked_files_a_checkout_would_overwrite(
    sandbox,
) -> None:
    core = sandbox.core_path
    git(core, "fetch", "-q")
    (core / "README.md").write_text("local edit\n")
    (core / "notes.txt").write_text("harmless untracked file\n")
    state = await inspect_repo(core, "origin/master")
    assert state.dirty and state.changed == ["README.md"]
    assert state.overwritten == [] and "notes.txt" in state.untracked

    # An untracked file the target release has (CHANGELOG.md starts at 1.3.3): a merge
    # would overwrite it.
    cfg = sandbox.config_path
    git(cfg, "fetch", "-q", "countryconfig")
    assert not (cfg / "CHANGELOG.md").exists()
    (cfg / "CHANGELOG.md").write_text("mine\n")
    state = await inspect_repo(cfg, "v1.3.5")
    assert state.overwritten == ["CHANGELOG.md"] and state.dirty
    assert "CHANGELOG.md (untracked, would be overwritten)" in state.dirty_files

    # The stash offered to the operator makes the tree clean.
    result = await ProcessRun(Command(tuple(stash_argv("crvs-migrate test")), cfg)).run()
    assert result.ok
    assert not (await inspect_repo(cfg, "v1.3.5")).dirty
    assert "crvs-migrate test" in git(cfg, "stash", "list")


async def test_upstream_remote_detection(sandbox) -> None:
    cfg = sandbox.config_path
    assert (await inspect_repo(cfg)).upstream_remote == "countryconfig"
    git(cfg, "remote", "rename", "countryconfig", "farajaland")
    state = await inspect_repo(cfg)
    assert state.upstream_remote == "farajaland"
    git(cfg, "fetch", "-q", "farajaland")
    ref = release_ref(cfg, "1.3.4", state.upstream_remote)
    assert ref.found and ref.name == "farajaland/release-v1.3.4"
    steps = config_steps(cfg, "1.3.4", ref.name)
    assert steps[2].argv == ("git", "merge", "--no-edit", "farajaland/release-v1.3.4")
    # Many forks call it upstream.
    git(cfg, "remote", "rename", "farajaland", "upstream")
    assert (await inspect_repo(cfg)).upstream_remote == "upstream"
    # Any name, when its URL is OpenCRVS's own country config repository.
    git(cfg, "remote", "rename", "upstream", "opencrvs")
    assert (await inspect_repo(cfg)).upstream_remote is None  # a local path: no URL to go by
    git(cfg, "remote", "set-url", "opencrvs", "git@github.com:opencrvs/opencrvs-farajaland.git")
    assert (await inspect_repo(cfg)).upstream_remote == "opencrvs"
    git(cfg, "remote", "remove", "opencrvs")
    assert (await inspect_repo(cfg)).upstream_remote is None


def test_remote_url_is_typed_never_guessed() -> None:
    assert add_remote_argv("countryconfig", " https://x.invalid/r.git ") == [
        "git",
        "remote",
        "add",
        "countryconfig",
        "https://x.invalid/r.git",
    ]
    for bad in ("", "  ", "--upload-pack=evil", "a b"):
        with pytest.raises(InvalidName):
            add_remote_argv("countryconfig", bad)


async def test_branch_names_checked_by_git(tmp_path: Path) -> None:
    assert await check_branch_name("upgrade-countryconfig-v1.3.5", tmp_path) == (
        "upgrade-countryconfig-v1.3.5"
    )
    for bad in ("bad..name", "-x", "with space", "end.lock"):
        with pytest.raises(InvalidName):
            await check_branch_name(bad, tmp_path)


def test_target_version_from_answers_or_latest() -> None:
    session = Session()
    assert target_version(session) == latest_version()
    Answers.of(session).target_version = "v1.3.3"
    assert target_version(session) == "1.3.3"
    assert upgrade_branch("1.3.3") == "upgrade-countryconfig-v1.3.3"
    for bad in ("1.4.0", "1.3.3; rm -rf /", "1.3.99"):
        Answers.of(session).target_version = bad
        with pytest.raises(InvalidName):
            target_version(session)


async def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(NotARepository):
        await inspect_repo(tmp_path)
    with pytest.raises(NotARepository):
        await inspect_repo(tmp_path / "missing")


async def test_conflicts_listed_rechecked_and_abort_restores_head(sandbox) -> None:
    cfg = sandbox.config_path
    git(cfg, "fetch", "-q", "countryconfig")
    git(cfg, "checkout", "-q", "-b", "upgrade-countryconfig-v1.3.5")
    before = git(cfg, "rev-parse", "HEAD")
    result = await ProcessRun(Command(("git", "merge", "--no-edit", "v1.3.5"), cfg)).run()
    assert result.exit_code != 0
    report = await scan_conflicts(cfg)
    assert report.merge_in_progress
    assert [(f.path, f.markers, f.unmerged) for f in report.files] == [(CONFLICTING_FILE, 1, True)]
    assert merge_blocker(Session(), report) is not None
    # The merge's own staged result is not "local changes" (nothing to stash, no refusal).
    state = await inspect_repo(cfg)
    assert state.merge_in_progress and state.changed == [] and not state.dirty
    assert CONFLICTING_FILE in state.merge_changes and len(state.merge_changes) > 1

    # Staged with the markers still in: still blocking.
    git(cfg, "add", CONFLICTING_FILE)
    report = await scan_conflicts(cfg, [CONFLICTING_FILE])
    assert [(f.path, f.markers, f.unmerged) for f in report.files] == [(CONFLICTING_FILE, 1, False)]

    # Abort: back to exactly where the branch was.
    assert (await ProcessRun(Command(("git", "merge", "--abort"), cfg)).run()).ok
    assert git(cfg, "rev-parse", "HEAD") == before
    report = await scan_conflicts(cfg)
    assert report.clean and not report.merge_in_progress


async def test_resolved_merge_is_clean_and_lists_incoming_commits(sandbox) -> None:
    cfg = sandbox.config_path
    git(cfg, "fetch", "-q", "countryconfig")
    before = git(cfg, "rev-parse", "HEAD")
    await ProcessRun(Command(("git", "merge", "--no-edit", "v1.3.5"), cfg)).run()
    (cfg / CONFLICTING_FILE).write_text("// resolved\nexport const APPLICATION_NAME = 'x'\n")
    git(cfg, "add", CONFLICTING_FILE)
    report = await scan_conflicts(cfg, [CONFLICTING_FILE])
    assert report.clean and report.merge_in_progress
    assert "not concluded" in (report.blocking or "")
    git(cfg, "commit", "-q", "--no-edit")
    report = await scan_conflicts(cfg, [CONFLICTING_FILE])
    assert report.blocking is None
    commits = await incoming_commits(cfg, before)
    # Upstream's own history: v1.3.3 carries 1.3.1 and 1.3.2 by content, not by ancestry.
    expected = [
        "Release v1.3.5",
        "change references in changelog",
        "Release 1.3.4",
        "Merge pull request #79 from opencrvs/upgrade-v1.3.3",
    ]
    assert [c.split(" ", 2)[2] for c in commits] == expected
    # Counted from the merge's own parents: the same, with no "before" to remember (a
    # merge made in the operator's shell), and still after later commits on the branch.
    (cfg / "after.txt").write_text("a fix after the merge\n")
    git(cfg, "add", "after.txt")
    git(cfg, "commit", "-q", "-m", "after the merge")
    merged = await merged_commits(cfg, "v1.3.5")
    assert merged is not None and [c.split(" ", 2)[2] for c in merged] == expected
    assert await merged_commits(cfg, "v1.3.4") is not None  # 1.3.4 came in with it
    git(cfg, "checkout", "-q", before)
    assert await merged_commits(cfg, "v1.3.5") is None


async def test_markers_committed_with_a_merge_are_still_found(sandbox) -> None:
    cfg = sandbox.config_path
    git(cfg, "fetch", "-q", "countryconfig")
    await ProcessRun(Command(("git", "merge", "--no-edit", "v1.3.5"), cfg)).run()
    git(cfg, "add", CONFLICTING_FILE)  # markers and all, committed from the shell
    git(cfg, "commit", "-q", "--no-edit")
    report = await scan_conflicts(cfg)
    assert not report.merge_in_progress
    assert [(f.path, f.markers) for f in report.files] == [(CONFLICTING_FILE, 1)]
    assert report.blocking is not None
