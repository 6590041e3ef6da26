"""The proposed release tag is free (upstream's v1.3.5 is in every fork after a fetch);
"merged" is read from the fork's remote-tracking branch, or the fetch command is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import InvalidName
from tasks.names import validate_release_tag
from tasks.release.publish import (
    NotFetched,
    check_merged,
    fetch_argv,
    fetch_remote,
    propose_tag,
    taken_tags,
)
from tasks.session.journal import Journal
from tasks.upgrade.versions import parse_tag
from tests.support.gitutil import fork_with_upgrade_branch, git


def test_upstream_tag_is_never_proposed(tmp_path: Path) -> None:
    repo, _ = fork_with_upgrade_branch(tmp_path)
    git(repo, "tag", "v1.3.5", "master")  # what `git fetch --all` brings from upstream
    tag = propose_tag(repo, "1.3.5")
    assert tag == "v1.3.5-1"
    assert parse_tag(tag).version == (1, 3, 5)  # the next upgrade still detects 1.3.5
    git(repo, "tag", "v1.3.5-1", "master")
    git(repo, "tag", "v1.3.5-2", "master")
    assert propose_tag(repo, "1.3.5") == "v1.3.5-3"


def test_a_country_slug_names_the_tag_and_counts_on(tmp_path: Path) -> None:
    repo, _ = fork_with_upgrade_branch(tmp_path)
    assert propose_tag(repo, "1.3.5", installation="Ruritania (MoH)") == "v1.3.5-ruritania-moh"
    git(repo, "tag", "v1.3.5-ruritania-moh", "master")
    assert propose_tag(repo, "1.3.5", installation="Ruritania (MoH)") == "v1.3.5-ruritania-moh.2"
    # The fork's own name on GitHub gives the slug when the installation has none.
    git(repo, "remote", "set-url", "origin", "git@github.com:moh-rur/opencrvs-ruritania.git")
    assert propose_tag(repo, "1.3.5") == "v1.3.5-ruritania"
    # Generic names (and words read as a pre-release) give no slug.
    git(repo, "remote", "set-url", "origin", "https://github.com/x/opencrvs-countryconfig")
    assert propose_tag(repo, "1.3.5") == "v1.3.5-1"
    assert propose_tag(repo, "1.3.5", installation="Dev") == "v1.3.5-1"
    with pytest.raises(InvalidName):
        propose_tag(repo, "1.3")


def test_remote_tracking_tags_count_as_taken(tmp_path: Path) -> None:
    repo, origin = fork_with_upgrade_branch(tmp_path)
    # A colleague pushed v1.3.5-1 to the fork; a fetch brings it here.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    git(other, "tag", "v1.3.5-1")
    git(other, "push", "-q", "origin", "v1.3.5-1")
    assert "v1.3.5-1" not in taken_tags(repo)
    journal = Journal(tmp_path / "j.jsonl")
    fetch_remote(repo, "origin", journal)
    assert "v1.3.5-1" in taken_tags(repo)
    assert propose_tag(repo, "1.3.5") == "v1.3.5-2"
    # Tags kept under refs/remotes/<remote>/tags/ (a custom refspec) count too.
    git(repo, "update-ref", "refs/remotes/origin/tags/v1.3.5-2", "master")
    assert propose_tag(repo, "1.3.5") == "v1.3.5-3"
    commands = [e for e in journal.entries() if e["kind"] == "command"]
    assert commands[-1]["argv"] == fetch_argv("origin") == ["git", "fetch", "--tags", "origin"]


def test_release_tags_are_validated_by_names(tmp_path: Path) -> None:
    assert validate_release_tag("v1.3.5-ruritania.2") == "v1.3.5-ruritania.2"
    # release_version becomes the image tag: what Docker refuses is refused here too.
    for bad in ("v1.3..5", "v1.3.5.lock", "-v1", "v 1", "v1.3.5~1", "", "rur/v1.3.5", "v1.3.5."):
        with pytest.raises(InvalidName):
            validate_release_tag(bad)


def test_merged_is_read_from_the_remote_tracking_branch(tmp_path: Path) -> None:
    repo, origin = fork_with_upgrade_branch(tmp_path)
    branch = "upgrade-countryconfig-v1.3.5"
    git(repo, "push", "-q", "origin", branch)
    # Never fetched: the exact command is named, nothing is guessed.
    git(repo, "update-ref", "-d", "refs/remotes/origin/master")
    with pytest.raises(NotFetched, match=f"git -C {repo} fetch --tags origin"):
        check_merged(repo, branch, "master", "origin")
    fetch_remote(repo, "origin", None)
    # Merged locally only: not merged on the fork.
    git(repo, "checkout", "-q", "master")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge PR", branch)
    check = check_merged(repo, branch, "master", "origin")
    assert not check.merged and check.against == "origin/master"
    # The PR merged on GitHub (another clone pushes the merge): seen after a fetch only.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    git(other, "config", "user.name", "T")
    git(other, "config", "user.email", "t@example.invalid")
    git(other, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", f"origin/{branch}")
    git(other, "push", "-q", "origin", "master")
    assert not check_merged(repo, branch, "master", "origin").merged
    fetch_remote(repo, "origin", None)
    assert check_merged(repo, branch, "origin/master", "origin").merged
    # The upgrade branch deleted locally after the merge: its remote-tracking branch counts.
    git(repo, "branch", "-q", "-D", branch)
    assert check_merged(repo, branch, "master", "origin").merged


def test_the_tag_goes_on_the_forks_merged_branch_not_a_stale_local_one(tmp_path: Path) -> None:
    from tasks.release.publish import create_tag, release_ref

    repo, origin = fork_with_upgrade_branch(tmp_path)
    branch = "upgrade-countryconfig-v1.3.5"
    git(repo, "push", "-q", "origin", branch)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    git(other, "config", "user.name", "T")
    git(other, "config", "user.email", "t@example.invalid")
    git(other, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", f"origin/{branch}")
    git(other, "push", "-q", "origin", "master")
    fetch_remote(repo, "origin", None)
    # Local master is still before the merge: the release is origin/master.
    assert release_ref(repo, "master", "origin") == "origin/master"
    commit = create_tag(repo, "v1.3.5-1", Journal(tmp_path / "j.jsonl"), ref="origin/master")
    assert commit == git(repo, "rev-parse", "origin/master").strip()
    assert commit != git(repo, "rev-parse", "master").strip()
    # No remote-tracking branch (never fetched): the local branch, as typed.
    git(repo, "update-ref", "-d", "refs/remotes/origin/master")
    assert release_ref(repo, "master", "origin") == "master"
