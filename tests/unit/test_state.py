"""Session state: TOML round trip, atomic 0600 writes, damaged files left alone."""

from __future__ import annotations

import stat

import pytest

from tasks.errors import StateFileCorrupt, StateFileUnsupported
from tasks.session.phases import PHASE_IDS, PhaseStatus, StepStatus
from tasks.session.state import (
    SCHEMA_VERSION,
    Session,
    load_session,
    new_session_path,
    save_session,
)


def test_missing_file_means_no_session(tmp_path):
    assert load_session(tmp_path / "none.toml") is None


def test_round_trip_keeps_everything(tmp_path):
    path = tmp_path / "s.toml"
    s = Session(installation="Farajaland production")
    s.current_view = "merge_config"
    s.phase("prepare").status = PhaseStatus.DONE
    step = s.phase("update_core").step("git_fetch")
    step.status = StepStatus.SUCCEEDED
    step.exit_code = 0
    step.duration_s = 1.25
    s.phase("deploy_qa").status = PhaseStatus.SKIPPED
    s.phase("deploy_qa").reason = "not deployed to servers"
    # A section no owner parses here is kept as it was read.
    s.raw_sections["answers"] = {
        "target_version": "1.3.5",
        "cluster_size": 3,
        "environments": ["qa", "production"],
    }
    save_session(path, s)

    loaded = load_session(path)
    assert loaded is not None
    assert loaded.installation == "Farajaland production"
    assert loaded.current_view == "merge_config"
    assert loaded.phase("prepare").status is PhaseStatus.DONE
    assert loaded.phase("update_core").steps["git_fetch"].status is StepStatus.SUCCEEDED
    assert loaded.phase("update_core").steps["git_fetch"].duration_s == 1.25
    assert loaded.phase("deploy_qa").reason == "not deployed to servers"
    assert loaded.raw_sections["answers"] == s.raw_sections["answers"]
    assert list(loaded.phases) == list(PHASE_IDS)


def test_file_is_0600_and_no_temp_files_remain(tmp_path):
    path = tmp_path / "state" / "s.toml"
    save_session(path, Session())
    save_session(path, Session())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["s.toml"]


def test_schema_version_is_written(tmp_path):
    path = tmp_path / "s.toml"
    save_session(path, Session())
    assert f"schema_version = {SCHEMA_VERSION}" in path.read_text()


@pytest.mark.parametrize(
    ("content", "error", "words"),
    [
        (b"schema_version = 1\nphases = [", StateFileCorrupt, "not valid TOML"),
        (b"\xff\xfe garbage", StateFileCorrupt, "not UTF-8"),
        (b'installation = "x"\n', StateFileCorrupt, "no schema_version"),
        (b"schema_version = 99\n", StateFileUnsupported, "schema version 99"),
        (
            b'schema_version = 1\n[phases.nonsense]\nstatus = "done"\n',
            StateFileCorrupt,
            "unknown phase",
        ),
        (
            b'schema_version = 1\n[phases.prepare]\nstatus = "exploded"\n',
            StateFileCorrupt,
            "invalid structure",
        ),
        (
            b'schema_version = 1\ncurrent_view = "nowhere"\n',
            StateFileCorrupt,
            "unknown current view",
        ),
    ],
)
def test_unusable_files_are_reported_and_untouched(tmp_path, content, error, words):
    path = tmp_path / "s.toml"
    path.write_bytes(content)
    with pytest.raises(error) as info:
        load_session(path)
    assert words in info.value.problem
    assert str(path) in info.value.message
    assert path.read_bytes() == content


def test_new_session_path_never_names_the_damaged_file(tmp_path):
    damaged = tmp_path / "session.toml"
    damaged.write_text("broken")
    fresh = new_session_path(damaged)
    assert fresh != damaged and fresh.parent == damaged.parent and not fresh.exists()
    fresh.write_text("taken")
    assert new_session_path(damaged) != fresh


def test_resources_are_kept_per_environment_and_a_demo_has_no_special_one():
    from tasks.servers.health import HealthRecord, load_node_resources
    from tasks.servers.resources import NodeResources

    node = NodeResources("manager1", "2026-01-01T00:00:00+00:00", ram_total_bytes=16 * 1024**3)
    for demo in (True, False):
        session = Session(demo=demo)
        HealthRecord.of(session).resources["production"] = [node]
        assert load_node_resources(session, "production") == [node]
        assert load_node_resources(session, "qa") == []
