"""Hostile session files: refused at load with a message, fast, the file byte-identical.

Never a traceback (only StateFileError leaves load_session), never a hang (size and
nesting are bounded before parsing), never a write.
"""

from __future__ import annotations

import time

import pytest

from tasks.errors import StateFileCorrupt, StateFileError
from tasks.sections import open_session as load_session
from tasks.session.state import MAX_NESTING, MAX_STATE_BYTES, Session, save_session
from tasks.upgrade.answers import Answers, EnvironmentId, ServerFree

HEAD = "schema_version = 1\n"

HOSTILE: dict[str, tuple[bytes, str]] = {
    # steps that are not tables
    "steps is a string": (HEAD + '[phases.update_core]\nsteps = "fetch"\n', "'steps' must be"),
    "a step is a string": (HEAD + '[phases.update_core.steps]\nfetch = "done"\n', "step 'fetch'"),
    "a step is an array": (HEAD + "[phases.update_core.steps]\nfetch = [1, 2]\n", "step 'fetch'"),
    "phases is an array": (HEAD + "phases = [1, 2]\n", "'phases' must be"),
    "a phase is a number": (HEAD + "[phases]\nprepare = 3\n", "phase 'prepare'"),
    # sections of the wrong type
    "answers is a string": (HEAD + 'answers = "all of them"\n', "'answers' must be"),
    "plan is an array": (HEAD + "plan = [1, 2, 3]\n", "'plan' must be"),
    "backup is a number": (HEAD + "backup = 1\n", "'backup' must be"),
    "deploy is a boolean": (HEAD + "deploy = true\n", "'deploy' must be"),
    # wrong scalar types
    "installation is a number": (HEAD + "installation = 5\n", "'installation' must be"),
    "demo is a string": (HEAD + 'demo = "no"\n', "'demo' must be"),
    "current_view is a table": (HEAD + "[current_view]\nx = 1\n", "'current_view' must be"),
    "status is a number": (HEAD + "[phases.prepare]\nstatus = 5\n", "'status' must be"),
    "status is unknown": (HEAD + '[phases.prepare]\nstatus = "exploded"\n', "invalid structure"),
    "started_at is a datetime": (
        HEAD + "[phases.prepare]\nstarted_at = 2026-01-01T00:00:00Z\n",
        "'started_at' must be",
    ),
    "exit_code is a string": (
        HEAD + '[phases.update_core.steps.fetch]\nexit_code = "0"\n',
        "'exit_code' must be",
    ),
    "exit_code is a boolean": (
        HEAD + "[phases.update_core.steps.fetch]\nexit_code = true\n",
        "'exit_code' must be",
    ),
    "duration is a string": (
        HEAD + '[phases.update_core.steps.fetch]\nduration_s = "fast"\n',
        "'duration_s' must be",
    ),
    "note is an array": (HEAD + "[phases.prepare]\nreason = []\n", "'reason' must be"),
    "schema_version is a boolean": ("schema_version = true\n", "no schema_version"),
    "schema_version is a string": ('schema_version = "1"\n', "no schema_version"),
    # a value that makes a registered check fail inside (the gate's evidence)
    "gate evidence of the wrong type": (
        HEAD + '[backup]\ngate_opened_at = 1970\nlabel = ["x"]\n[backup.taken]\nat = 5\n',
        "",
    ),
    # not text / not TOML
    "NUL bytes": (HEAD + 'installation = "a\x00b"\n', "not valid TOML"),
    "invalid UTF-8": (HEAD.encode() + b'installation = "\xc3\x28"\n', "not UTF-8"),
    # nesting: arrays, inline tables, dotted keys, table headers
    "deep arrays": (HEAD + "x = " + "[" * 100_000 + "]" * 100_000 + "\n", "deeper than"),
    "deep arrays, unclosed": (HEAD + "x = " + "[" * 100_000 + "\n", ""),
    "deep inline tables": (HEAD + "x = " + "{a=" * 5_000 + "1" + "}" * 5_000 + "\n", "deeper"),
    "deep dotted keys": (HEAD + "[answers]\n" + ".".join(["a"] * 5_000) + " = 1\n", "deeper"),
    "deep table header": (HEAD + "[" + ".".join(["t"] * 5_000) + "]\n", "deeper"),
    # tomllib takes quadratic time on long dotted keys: minutes for this one
    "a 6 MiB dotted key": (HEAD + "a." * 3_000_000 + "a = 1\n", "deeper"),
    "quoted dotted key": (HEAD + ".".join(['"k"'] * 1_000) + " = 1\n", "deeper"),
    "deep in a section": (
        HEAD + "[plan]\nsteps = " + "[" * 40 + "]" * 40 + "\n",
        "deeper than",
    ),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_file_is_refused_untouched(tmp_path, kind):
    content, words = HOSTILE[kind]
    raw = content if isinstance(content, bytes) else content.encode("utf-8")
    path = tmp_path / "session.toml"
    path.write_bytes(raw)
    t0 = time.monotonic()
    with pytest.raises(StateFileError) as info:
        load_session(path)
    elapsed = time.monotonic() - t0
    assert words in info.value.problem
    assert str(path) in info.value.message
    assert path.read_bytes() == raw
    assert elapsed < 10, f"{kind}: {elapsed:.1f} s"  # generous: a hang is minutes


def test_brackets_inside_strings_and_comments_are_not_nesting(tmp_path):
    deep = "[" * 200 + "]" * 200
    path = tmp_path / "session.toml"
    path.write_text(
        HEAD
        + f'installation = "{deep}"\n'
        + f"# {deep}\n"
        + f"[answers]\nintegrations_list = '''{deep}\n{deep}'''\n"
        + f'notes = """{deep}\\"{deep}"""\n'
        + "nested = "
        + "[" * (MAX_NESTING - 2)
        + "]" * (MAX_NESTING - 2)
        + "\n"  # fmt: skip
    )
    session = load_session(path)
    assert session is not None and session.installation == deep


def test_an_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "session.toml"
    with path.open("wb") as fh:
        fh.write(HEAD.encode())
        fh.write(b"# " + b"x" * MAX_STATE_BYTES + b"\n")
    size = path.stat().st_size
    with pytest.raises(StateFileCorrupt) as info:
        load_session(path)
    assert "larger than 8 MiB" in info.value.problem
    assert path.stat().st_size == size


def test_a_real_session_loads_after_the_checks(tmp_path):
    path = tmp_path / "session.toml"
    s = Session(installation="Farajaland")
    s.phase("update_core").step("fetch").exit_code = 0
    s.phase("update_core").step("fetch").duration_s = 2
    qa = Answers.of(s).environment(EnvironmentId.QA)
    qa.servers = [ServerFree("m1", 3.5, 2)]
    save_session(path, s)
    loaded = load_session(path)
    assert loaded is not None
    assert loaded.phase("update_core").steps["fetch"].duration_s == 2.0
    assert Answers.of(loaded).to_state() == Answers.of(s).to_state()


def test_temp_files_of_a_killed_save_go_at_the_next_save(tmp_path):
    path = tmp_path / "session.toml"
    save_session(path, Session())
    left = [tmp_path / ".session.toml.abc123de.tmp", tmp_path / ".session.toml.zz9.tmp"]
    for p in left:
        p.write_text("half a session")
    other = tmp_path / ".other.toml.abc.tmp"  # another file's: not ours to remove
    other.write_text("x")
    save_session(path, Session(installation="next"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.toml.abc.tmp", "session.toml"]


def test_a_save_in_flight_in_another_thread_keeps_its_temp_file(tmp_path):
    import threading

    from tasks.session import files

    path = tmp_path / "session.toml"
    started, release = threading.Event(), threading.Event()
    real_write_all = files.write_all

    def slow_write_all(fd, data):
        started.set()
        release.wait(10)
        real_write_all(fd, data)

    files.write_all = slow_write_all  # type: ignore[assignment]
    try:
        slow = threading.Thread(target=save_session, args=(path, Session(installation="slow")))
        slow.start()
        assert started.wait(10)
        files.write_all = real_write_all
        files.remove_stale_temp_files(path)  # what another save does first
        assert len([p for p in tmp_path.iterdir() if p.suffix == ".tmp"]) == 1
        release.set()
        slow.join(10)
    finally:
        files.write_all = real_write_all
        release.set()
    assert load_session(path).installation == "slow"  # type: ignore[union-attr]
