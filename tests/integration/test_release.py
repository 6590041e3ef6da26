"""Release: merged check, tag validation and creation (never moved), push, publish inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.errors import CrvsError, InvalidName
from tasks.release.publish import (
    ReleaseRecord,
    TagExists,
    create_tag,
    is_merged,
    propose_tag,
    publish_inputs,
    push_tag,
    push_tag_argv,
    read_publish_workflow,
    record_image_tag,
    tag_commit,
    validate_tag,
)
from tasks.session.journal import Journal
from tasks.session.state import Session
from tests.support.gitutil import commit, fork_with_upgrade_branch, git


def test_merged_only_after_the_merge(tmp_path: Path) -> None:
    repo, _ = fork_with_upgrade_branch(tmp_path)
    assert not is_merged(repo, "upgrade-countryconfig-v1.3.5", "master")
    git(repo, "checkout", "-q", "master")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge PR", "upgrade-countryconfig-v1.3.5")
    assert is_merged(repo, "upgrade-countryconfig-v1.3.5", "master")
    with pytest.raises(CrvsError, match="not a branch"):
        is_merged(repo, "no-such-branch", "master")
    with pytest.raises(CrvsError):
        is_merged(repo, "--help", "master")


def test_tag_proposal_and_validation(tmp_path: Path) -> None:
    repo, _ = fork_with_upgrade_branch(tmp_path)
    assert propose_tag(repo, "1.3.5") == "v1.3.5-1"
    assert validate_tag(repo, "v1.3.5") == "v1.3.5"
    for bad in ("v1.3..5", "v1.3.5.lock", "-v1", "v 1", "v1.3.5~1", ""):
        with pytest.raises(InvalidName):
            validate_tag(repo, bad)


def test_create_tag_is_annotated_journalled_and_never_moved(tmp_path: Path) -> None:
    repo, _ = fork_with_upgrade_branch(tmp_path)
    journal = Journal(tmp_path / "j.jsonl")
    head = create_tag(repo, "v1.3.5", journal)
    assert tag_commit(repo, "v1.3.5") == head
    assert git(repo, "cat-file", "-t", "refs/tags/v1.3.5").strip() == "tag"  # annotated
    # Same commit again: nothing happens.
    assert create_tag(repo, "v1.3.5", journal) == head
    new_head = commit(repo, "later.txt", "x\n", "a later commit")
    with pytest.raises(TagExists, match="never moves a tag"):
        create_tag(repo, "v1.3.5", journal)
    assert tag_commit(repo, "v1.3.5") == head != new_head
    commands = [e for e in journal.entries() if e["kind"] == "command"]
    assert len(commands) == 1 and commands[0]["argv"][:3] == ["git", "tag", "-a"]
    assert commands[0]["exit_code"] == 0


def test_push_needs_confirmation_and_pushes_only_the_tag(tmp_path: Path) -> None:
    repo, origin = fork_with_upgrade_branch(tmp_path)
    journal = Journal(tmp_path / "j.jsonl")
    create_tag(repo, "v1.3.5", journal)
    assert push_tag_argv("origin", "v1.3.5") == ["git", "push", "origin", "refs/tags/v1.3.5"]
    with pytest.raises(CrvsError, match="confirmation"):
        push_tag(repo, "origin", "v1.3.5", journal, confirmed=False)
    assert git(origin, "tag").strip() == ""
    push_tag(repo, "origin", "v1.3.5", journal, confirmed=True)
    assert git(origin, "tag").strip() == "v1.3.5"
    # The upgrade branch was not pushed with it.
    assert "upgrade" not in git(origin, "branch")


def test_publish_workflow_approvers_pitfall(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    wf = cfg / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "publish-release.yml").write_text(
        "name: Publish release\non:\n  workflow_dispatch:\n    inputs:\n"
        "      branch_name:\n        required: true\n      release_version:\n        required: true\n"
        "jobs:\n  approve:\n    steps:\n      - uses: trstringer/manual-approval@v1\n"
        "        with:\n          approvers: euanmillar,rikukissa\n"
    )
    info = read_publish_workflow(cfg)
    assert info.inputs == ("branch_name", "release_version")
    assert info.approvers == ("euanmillar", "rikukissa")
    assert "euanmillar" in info.pitfalls()[0]
    assert read_publish_workflow(tmp_path / "none").pitfalls()
    assert publish_inputs("master", "v1.3.5") == {
        "branch_name": "master",
        "release_version": "1.3.5",
    }


def test_image_tag_recorded_and_validated() -> None:
    session = Session()
    record_image_tag(session, "v1.3.5")
    image = ReleaseRecord.of(session).image
    assert image is not None and image.tag == "v1.3.5"
    with pytest.raises(InvalidName):
        record_image_tag(session, "v1.3.5; rm -rf /")
    assert json.dumps(session.section_state("release"))
