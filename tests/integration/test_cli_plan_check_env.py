"""``crvs-migrate plan`` and ``crvs-migrate check-env`` through the real CLI, in a subprocess.

Exit codes, the JSON shapes, the commands taken from where the steps are defined, a session
file only read (never written or locked), names and never values, and textual never imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.local.upgrade_steps import config_steps, core_steps
from tasks.session.state import Session, save_session
from tests.support import countryconfig
from tests.support.deploy_sh import REQUIRED_1_3_0
from tests.support.gitutil import git
from tests.support.plan import full_answers, make_checkout

ROOT = Path(__file__).resolve().parents[2]
SECRET = "pl4n-s3cr3t-value"
# Runs the CLI, then reports on stderr which UI modules the process had loaded.
RUNNER = (
    "import json, sys\n"
    "from tui.cli import main\n"
    "try:\n"
    "    rc = main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    rc = exc.code\n"
    "ui = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'screens') or m == 'tui.app')\n"
    "print('MODULES=' + json.dumps(ui), file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def cli(*args: str | Path, cwd: Path | None = None) -> tuple[int, str, str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, args)],
        cwd=cwd or ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = proc.stderr.splitlines()
    modules = json.loads(lines[-1].removeprefix("MODULES=")) if lines else []
    return proc.returncode, proc.stdout, "\n".join(lines[:-1]), modules


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    repos = countryconfig.build(root)
    countryconfig.fetch_upstream(repos.fork)
    core = make_checkout(root / "core", ["1.3.0"])
    return {"root": root, "fork": repos.fork, "core": core}


def _state(path: Path, **answers: object) -> Path:
    session = Session()
    session.replace_section(full_answers(**answers))
    save_session(path, session)
    return path


def _steps(doc: dict) -> dict[tuple[str, str], dict]:
    return {(p["id"], s["id"]): s for p in doc["phases"] for s in p["steps"]}


# -- plan ------------------------------------------------------------------------------------


def test_plan_json_from_a_session_is_ready(world: dict[str, Path], tmp_path: Path) -> None:
    state = _state(tmp_path / "session.toml", core_customised=False)
    code, out, err, modules = cli(
        "plan", "--config", world["fork"], "--core", world["core"], "--state", state, "--json"
    )
    assert code == 0, err
    assert modules == []
    doc = json.loads(out)
    assert {"current", "target", "path_kind", "blockers", "warnings", "phases"} <= set(doc)
    assert (doc["current"], doc["target"], doc["path_kind"]) == ("1.3.0", "1.3.5", "hotfix")
    assert doc["blockers"] == []
    assert [p["id"] for p in doc["phases"]][:4] == [
        "prepare",
        "plan",
        "update_core",
        "merge_config",
    ]
    for phase in doc["phases"]:
        assert {"id", "title", "status", "reason", "steps"} <= set(phase)
        for step in phase["steps"]:
            assert {"id", "title", "applies", "why", "argv", "cwd"} <= set(step)
            assert step["why"], (phase["id"], step["id"])
    steps = _steps(doc)
    # The commands are the ones the app runs, from tasks.local.upgrade_steps.
    core = {s.id: s for s in core_steps(world["core"], "1.3.5")}
    assert steps[("update_core", "fetch")]["argv"] == list(core["fetch"].argv)
    assert steps[("update_core", "fetch")]["cwd"] == str(world["core"])
    assert steps[("update_core", "yarn_install")]["argv"] == list(core["yarn_install"].argv)
    # core not customised: the tag is checked out (never master).
    assert steps[("update_core", "checkout_master")]["argv"][-2:] == ["--detach", "v1.3.5"]
    config = {s.id: s for s in config_steps(world["fork"], "1.3.5", "v1.3.5")}
    for step_id in ("fetch_all", "merge_upstream"):
        assert steps[("merge_config", step_id)]["argv"] == list(config[step_id].argv)
        assert steps[("merge_config", step_id)]["cwd"] == str(world["fork"])
    assert not any("master" in a for (_p, _s), st in steps.items() for a in st["argv"] or [])
    # A step done by hand, or one that does not apply, has no command.
    assert steps[("merge_config", "resolve_conflicts")]["argv"] is None
    assert steps[("update_core", "pull")]["applies"] is False
    assert steps[("update_core", "pull")]["argv"] is None
    assert steps[("merge_config", "certificate_templates")]["recommended"] is True


def test_plan_without_a_session_assumes_production_with_real_citizens(
    world: dict[str, Path],
) -> None:
    code, out, err, modules = cli("plan", "--config", world["fork"], "--json")
    assert code == 0, err
    assert modules == []
    doc = json.loads(out)
    assert doc["warnings"][0]["code"] == "assumed_answers"
    assert doc["current"] == "1.3.0" and doc["detected"]["version"] == "1.3.0"
    steps = _steps(doc)
    assert steps[("deploy_production", "backup_gate")]["applies"] is True
    assert steps[("update_core", "merge_core_fork")]["applies"] is True  # assumed customised
    phases = {p["id"]: p for p in doc["phases"]}
    assert phases["backup_production"]["status"] == "applies"
    assert phases["backup_production"]["optional"] is False
    # No --core: the command is known, the directory is not.
    assert steps[("update_core", "fetch")]["cwd"] is None


def test_plan_text_shows_why_and_the_commands(world: dict[str, Path]) -> None:
    code, out, err, modules = cli("plan", "--config", world["fork"], "--target", "1.3.3")
    assert code == 0, err
    assert modules == []
    assert out.startswith("Upgrade 1.3.0 → 1.3.3 (hotfix)")
    assert "why: " in out
    assert f"run: git fetch --all --tags  (in {world['fork']})" in out
    assert f"run: git merge --no-edit v1.3.3  (in {world['fork']})" in out
    assert "hearth 20240201123539-join-given-name" in out


def test_plan_with_blockers_exits_1(world: dict[str, Path], tmp_path: Path) -> None:
    state = _state(tmp_path / "session.toml", backup_server=False)
    code, out, _, _ = cli("plan", "--config", world["fork"], "--state", state, "--json")
    assert code == 1
    assert "no_backup_server" in [b["code"] for b in json.loads(out)["blockers"]]
    code, out, _, _ = cli("plan", "--config", world["fork"], "--target", "1.3.9", "--json")
    assert code == 1 and json.loads(out)["path_kind"] == "unknown_target"


def test_the_session_file_is_only_read(world: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    state = _state(folder / "session.toml")
    os.chmod(state, 0o400)
    before = (state.read_bytes(), state.stat().st_mtime_ns, sorted(os.listdir(folder)))
    code, _, err, _ = cli("plan", "--config", world["fork"], "--state", state, "--json")
    assert code == 0, err
    # Same bytes, same time, and no lock, journal or log beside it.
    assert (state.read_bytes(), state.stat().st_mtime_ns, sorted(os.listdir(folder))) == before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--config", "{root}/nowhere"], "does not exist"),
        (["--config", "{root}"], "not a git repository"),
        (["--config", "{fork}", "--target", "latest"], "--target"),
        (["--config", "{fork}", "--core", "{root}/nowhere"], "--core"),
        (["--config", "{fork}", "--state", "{root}/no-session.toml"], "does not exist"),
        (["--config", "{fork}", "--state", "{damaged}"], "damaged.toml"),
    ],
)
def test_plan_bad_input_exits_3(world: dict[str, Path], args: list[str], says: str) -> None:
    damaged = world["root"] / "damaged.toml"
    damaged.write_bytes(b"schema_version = [\x00")
    before = damaged.read_bytes()
    values = {"root": world["root"], "fork": world["fork"], "damaged": damaged}
    code, out, err, modules = cli("plan", *[a.format(**values) for a in args])
    assert code == 3
    assert says in err and out == ""
    assert modules == []
    assert damaged.read_bytes() == before


def test_plan_with_an_unknown_current_version_exits_3(tmp_path: Path) -> None:
    bare = tmp_path / "empty"
    bare.mkdir()
    git(bare, "init", "-q")
    code, _, err, _ = cli("plan", "--config", bare)
    assert code == 3 and "cannot tell the current version" in err


def test_the_installed_command_runs_plan(world: dict[str, Path]) -> None:
    exe = Path(sys.executable).with_name("crvs-migrate")
    if not exe.exists():
        pytest.skip("crvs-migrate is not installed in this environment")
    proc = subprocess.run(
        [str(exe), "plan", "--config", str(world["fork"]), "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["target"] == "1.3.5"


# -- check-env ---------------------------------------------------------------------------------


def _env(path: Path, names, **extra: str) -> Path:
    values = {n: f"{SECRET}-{n.lower()}" for n in names}
    values.update(DOMAIN="ruritania.example.org")
    values["CONTENT_SECURITY_POLICY_WILDCARD"] = "*.ruritania.example.org"
    values.update(extra)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def test_check_env_complete_is_ok(world: dict[str, Path], tmp_path: Path) -> None:
    env = _env(tmp_path / "prod.env", [*REQUIRED_1_3_0, countryconfig.FORK_REQUIRED])
    args = ("check-env", "--config", world["fork"], "--target", "1.3.5", "--env-file", env)
    code, out, err, modules = cli(*args, "--json")
    assert code == 0, err
    assert modules == []
    doc = json.loads(out)
    assert set(doc) == {"required", "optional", "missing", "invalid", "removed", "source"}
    assert doc["missing"] == [] and doc["invalid"] == []
    assert "CONTENT_SECURITY_POLICY_WILDCARD" in doc["required"]
    assert countryconfig.FORK_REQUIRED in doc["required"]
    assert "HOST" not in doc["required"] and "EMAIL_API_KEY" in doc["optional"]
    assert SECRET not in out
    code, out, _, _ = cli(*args)
    assert code == 0 and "OK: nothing required is missing or invalid." in out
    assert SECRET not in out


def test_check_env_missing_and_invalid_exit_1(world: dict[str, Path], tmp_path: Path) -> None:
    base = _env(tmp_path / "base.env", REQUIRED_1_3_0)
    bad = tmp_path / "bad.env"
    bad.write_bytes(f'SMTP_PASSWORD="{SECRET}\x00x"\n'.encode())
    code, out, err, modules = cli(
        "check-env",
        "--config",
        world["fork"],
        "--target",
        "1.3.5",
        "--env-file",
        base,
        "--env-file",
        bad,
        "--domain",
        "other.example.org",
        "--json",
    )
    assert code == 1, err
    assert modules == []
    doc = json.loads(out)
    assert doc["missing"] == [countryconfig.FORK_REQUIRED]
    assert [p["name"] for p in doc["invalid"]] == [
        "SMTP_PASSWORD",
        "CONTENT_SECURITY_POLICY_WILDCARD",
    ]
    assert SECRET not in out and SECRET not in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--target", "1.3.5", "--env-file", "{root}/none.env"], "does not exist"),
        (["--target", "1.3.9", "--env-file", "{env}"], "not a known release"),
        (["--target", "one", "--env-file", "{env}"], "--target"),
    ],
)
def test_check_env_bad_input_exits_3(
    world: dict[str, Path], tmp_path: Path, args: list[str], says: str
) -> None:
    env = _env(tmp_path / "x.env", REQUIRED_1_3_0)
    values = {"root": world["root"], "env": env}
    code, out, err, _ = cli(
        "check-env", "--config", world["fork"], *[a.format(**values) for a in args]
    )
    assert code == 3 and says in err and out == ""
    code, _, err, _ = cli(
        "check-env", "--config", world["root"], "--target", "1.3.5", "--env-file", env
    )
    assert code == 3 and "--config" in err
