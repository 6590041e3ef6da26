"""Deploy environment checks with deploy.sh's real semantics, against real git checkouts.

The deploy.sh texts are written by tests/support/deploy_sh.py with the structure of
opencrvs-countryconfig's (argument loop, print_usage_and_exit blocks, optional Info blocks).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.release.env_check import (
    CSP_WILDCARD,
    EnvFileError,
    check_env_files,
    parse_deploy_sh,
    read_env_files,
    required_env,
)
from tasks.release.publish import record_env_check
from tasks.session.state import Session, dumps_session
from tasks.upgrade.catalogue import deploy_optional_env, deploy_required_env
from tests.support import countryconfig
from tests.support.deploy_sh import (
    ARGUMENTS,
    MOSIP_ASSIGNED,
    OIDP,
    OPTIONAL_INFO,
    REQUIRED_1_3_0,
    SELF_DEFAULTED,
    real_deploy_sh,
)
from tests.support.gitutil import git

SECRET = "s3cr3t-Sup3rUser-pw!"
DOMAIN = "ruritania.example.org"


def _env_file(tmp_path: Path, values: dict[str, str], name: str = ".env") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def _complete(names) -> dict[str, str]:
    """Every required variable set; nothing optional."""
    env = {name: f"value-{name.lower()}" for name in names}
    env["SUPER_USER_PASSWORD"] = SECRET
    env["DOMAIN"] = DOMAIN
    if CSP_WILDCARD in env:
        env[CSP_WILDCARD] = f"*.{DOMAIN}"
    return env


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> countryconfig.CountryConfig:
    return countryconfig.build(tmp_path_factory.mktemp("cc"))


@pytest.fixture
def fetched(tmp_path: Path, repos: countryconfig.CountryConfig) -> Path:
    fork = countryconfig.build_fork(tmp_path, repos.upstream)
    countryconfig.fetch_upstream(fork)
    return fork


# -- deploy.sh semantics ------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.3.0", "1.3.5"])
def test_arguments_required_and_optional_are_told_apart(version: str) -> None:
    checks = parse_deploy_sh(real_deploy_sh(version))
    assert checks.arguments == tuple(ARGUMENTS.values())
    assert checks.required == deploy_required_env(version)
    assert checks.optional == (*OPTIONAL_INFO, *SELF_DEFAULTED)
    assert checks.optional == deploy_optional_env(version)
    # The -z checks of the arguments are argument checks, never env vars.
    for name in ARGUMENTS.values():
        assert name not in checks.required and name not in checks.optional
    # Neither an indirect ${!VARIABLE_NAME} test nor a pass-through variable is a check.
    assert "VARIABLE_NAME" not in checks.names and "PAPERTRAIL" not in checks.names
    assert (CSP_WILDCARD in checks.required) is (version == "1.3.5")


def test_the_1_3_4_tag_s_mosip_checks_are_optional() -> None:
    checks = parse_deploy_sh(real_deploy_sh("1.3.4", mosip=True))
    assert checks.required == deploy_required_env("1.3.4")
    assert set(MOSIP_ASSIGNED + OIDP) <= set(checks.optional)
    assert set(checks.optional) == set(deploy_optional_env("1.3.4"))


@pytest.mark.parametrize(
    ("script", "required", "optional"),
    [
        ('[ -z "$A" ] && print_usage_and_exit\n', ["A"], []),
        ('if [[ -z ${B} ]]; then echo "no B"; exit 2; fi\n', ["B"], []),
        ('if [ -z "$C" ]\nthen\n  C=default\nfi\n', [], ["C"]),
        # The exit is only in a nested, conditional block: not required.
        ('if [ -z "$D" ]; then\n  if [ -n "$X" ]; then exit 1; fi\nfi\n', [], ["D"]),
        # A function of the fork's own that exits.
        (
            'die() {\n  echo "$1"\n  exit 3\n}\nif [ -z "$E" ]; then\n  die "E missing"\nfi\n',
            ["E"],
            [],
        ),
        # "exit" in a message is not an exit.
        ("if [ -z \"$F\" ]; then\n  echo 'exit 1 would be wrong'\nfi\n", [], ["F"]),
        ('# if [ -z "$G" ]; then exit 1; fi\n', [], []),
        ('if [ -z "$H" ]; then\n  print_usage_and_exit\nelse\n  echo ok\nfi\n', ["H"], []),
        ('if [ -z "$J" ]; then\n  echo\nelse\n  exit 1\nfi\n', [], ["J"]),
    ],
)
def test_check_forms(script: str, required: list[str], optional: list[str]) -> None:
    checks = parse_deploy_sh(script)
    assert list(checks.required) == required
    assert list(checks.optional) == optional


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("if[ -z\"$AB]; then\n{}()'`#exit fi\\=*)")), max_size=400)
)
def test_any_text_parses_without_error(text: str) -> None:
    checks = parse_deploy_sh(text)
    assert all(n.isidentifier() for n in checks.names)


# -- the list after the merge ------------------------------------------------------------


def test_upstream_s_target_plus_the_fork_s_own_checks(fetched: Path) -> None:
    req = required_env(fetched, "1.3.5")
    assert req.source.startswith("upstream v1.3.5:infrastructure/deploy.sh merged with your")
    # Upstream's new required variable, though the fork's own deploy.sh (1.3.0) lacks it.
    assert CSP_WILDCARD in req.names
    # The fork's own required and optional checks survive the merge.
    assert countryconfig.FORK_REQUIRED in req.names
    assert countryconfig.FORK_OPTIONAL in req.optional
    # Never master's: upstream master is 1.9.x.
    assert countryconfig.MASTER_ONLY not in (*req.names, *req.optional)
    assert set(req.arguments) == set(ARGUMENTS.values())
    assert not set(req.arguments) & set(req.names)


def test_a_complete_env_file_gives_no_problem(fetched: Path, tmp_path: Path) -> None:
    env = _complete([*REQUIRED_1_3_0, CSP_WILDCARD, countryconfig.FORK_REQUIRED])
    result = check_env_files([_env_file(tmp_path, env)], fetched, "1.3.5")
    assert result.missing == [] and result.invalid == [] and result.unused == []
    assert result.ok
    # Optional variables left out are not problems; arguments are not asked for.
    for name in (*OPTIONAL_INFO, *ARGUMENTS.values()):
        assert name not in result.missing
    out = result.to_json()
    assert set(out) == {"required", "optional", "missing", "invalid", "removed", "source"}
    assert SECRET not in str(out) and "value-smtp_host" not in str(out)


def test_the_fork_s_own_required_variable_is_missing_when_unset(
    fetched: Path, tmp_path: Path
) -> None:
    env = _complete([*REQUIRED_1_3_0, CSP_WILDCARD])
    result = check_env_files([_env_file(tmp_path, env)], fetched, "1.3.5")
    assert result.missing == [countryconfig.FORK_REQUIRED]


def test_upgrade_from_1_3_0_env_misses_the_csp_variable(fetched: Path, tmp_path: Path) -> None:
    env = _complete([*REQUIRED_1_3_0, countryconfig.FORK_REQUIRED])
    result = check_env_files([_env_file(tmp_path, env)], fetched, "1.3.5")
    assert result.missing == [CSP_WILDCARD]
    assert not result.ok


def test_before_git_fetch_the_catalogue_stands_in_for_upstream(
    tmp_path: Path, repos: countryconfig.CountryConfig
) -> None:
    fork = countryconfig.build_fork(tmp_path, repos.upstream)
    req = required_env(fork, "1.3.5")
    assert "built-in list for 1.3.5" in req.source and "git fetch --all" in req.source
    assert CSP_WILDCARD in req.names and countryconfig.FORK_REQUIRED in req.names


def test_target_1_3_4_reads_the_release_branch(fetched: Path, tmp_path: Path) -> None:
    req = required_env(fetched, "1.3.4")
    assert "countryconfig/release-v1.3.4" in req.source
    # The branch has no MOSIP checks (the tag v1.3.4 does).
    assert not set(OIDP) & set(req.optional)


def test_after_the_merge_the_checkout_s_own_deploy_sh_is_the_list(
    fetched: Path, tmp_path: Path
) -> None:
    git(fetched, "checkout", "-q", "-b", "upgrade-countryconfig-v1.3.5")
    git(fetched, "merge", "-q", "--no-edit", "-X", "ours", "v1.3.5")
    req = required_env(fetched, "1.3.5")
    # HEAD contains the target: upstream changed nothing since the merge base.
    assert CSP_WILDCARD not in req.names  # "-X ours" kept the fork's deploy.sh as it was
    assert countryconfig.FORK_REQUIRED in req.names


def test_variables_no_longer_read_are_reported_as_removed(tmp_path: Path) -> None:
    upstream = countryconfig.build_upstream(tmp_path / "up")
    fork = tmp_path / "fork"
    git(tmp_path, "clone", "-q", str(upstream), str(fork))
    git(fork, "checkout", "-q", "v1.3.4")  # the tag: it reads the MOSIP variables
    git(fork, "checkout", "-q", "-b", "country")
    env = _complete(deploy_required_env("1.3.5"))
    env["NATIONAL_ID_OIDP_CLIENT_ID"] = "client-id"
    result = check_env_files([_env_file(tmp_path, env)], fork, "1.3.5")
    assert result.ok
    assert result.to_json()["removed"] == ["NATIONAL_ID_OIDP_CLIENT_ID"]


def test_builtin_fallback_per_version() -> None:
    req = required_env(None, "1.3.2")
    assert req.source.startswith("built-in")
    assert CSP_WILDCARD in req.names
    assert CSP_WILDCARD not in required_env(None, "1.3.0").names
    assert "NATIONAL_ID_OIDP_CLIENT_ID" in required_env(None, "1.3.4").optional
    assert "NATIONAL_ID_OIDP_CLIENT_ID" not in required_env(None, "1.3.5").optional


# -- the env files --------------------------------------------------------------------


def test_result_holds_no_value(fetched: Path, tmp_path: Path) -> None:
    env = _complete([*REQUIRED_1_3_0, CSP_WILDCARD, countryconfig.FORK_REQUIRED])
    result = check_env_files([_env_file(tmp_path, env)], fetched, "1.3.5")
    session = Session()
    record_env_check(session, result)
    text = dumps_session(session)
    assert SECRET not in text and "value-smtp_host" not in text
    assert "SUPER_USER_PASSWORD" in result.present


def test_empty_value_counts_as_missing_and_later_files_win(fetched: Path, tmp_path: Path) -> None:
    values = _complete([*REQUIRED_1_3_0, CSP_WILDCARD, countryconfig.FORK_REQUIRED])
    values["SMTP_HOST"] = ""
    base = _env_file(tmp_path, values, "base.env")
    assert check_env_files([base], fetched, "1.3.5").missing == ["SMTP_HOST"]
    override = _env_file(tmp_path, {"SMTP_HOST": "smtp.example.org"}, "qa.env")
    assert check_env_files([base, override], fetched, "1.3.5").ok


@pytest.mark.parametrize("bad", ["a\x00b", "\x1b[31mred", "x\x07y", "a\rb"])
def test_control_bytes_name_the_variable_never_the_value(
    fetched: Path, tmp_path: Path, bad: str
) -> None:
    values = _complete([*REQUIRED_1_3_0, CSP_WILDCARD, countryconfig.FORK_REQUIRED])
    values["SMTP_PASSWORD"] = f'"{SECRET}{bad}"'
    path = tmp_path / "bad.env"
    path.write_bytes("".join(f"{k}={v}\n" for k, v in values.items()).encode())
    result = check_env_files([path], fetched, "1.3.5")
    assert [p.name for p in result.invalid] == ["SMTP_PASSWORD"]
    assert "control character" in result.invalid[0].reason
    assert not result.ok
    assert SECRET not in str(result.to_json()) and SECRET not in str(result.to_record())
    with pytest.raises(EnvFileError) as caught:
        read_env_files([path])
    assert "SMTP_PASSWORD" in caught.value.message and SECRET not in caught.value.message
    # Not strict (scrubbing a report): the value is returned so it can be masked.
    assert SECRET in read_env_files([path], strict=False)["SMTP_PASSWORD"]


def test_crlf_bom_and_multiline_values_read_cleanly(fetched: Path, tmp_path: Path) -> None:
    values = _complete([*REQUIRED_1_3_0, CSP_WILDCARD, countryconfig.FORK_REQUIRED])
    values["SMTP_PASSWORD"] = '"line one\nline two"'
    path = tmp_path / "windows.env"
    text = "".join(f"{k}={v}\r\n" for k, v in values.items())
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = check_env_files([path], fetched, "1.3.5")
    assert result.ok, result.to_json()


@pytest.mark.parametrize(
    ("wildcard", "domain", "ok"),
    [
        (f"*.{DOMAIN}", DOMAIN, True),
        (DOMAIN, DOMAIN, False),
        ("*.other.example.org", DOMAIN, False),
        ("*.not a domain", None, False),
        (f"*.{DOMAIN}", None, True),
    ],
)
def test_csp_wildcard_form(
    fetched: Path, tmp_path: Path, wildcard: str, domain: str | None, ok: bool
) -> None:
    values = _complete([*REQUIRED_1_3_0, CSP_WILDCARD, countryconfig.FORK_REQUIRED])
    values.pop("DOMAIN")
    values[CSP_WILDCARD] = wildcard
    if domain:
        values["DOMAIN"] = domain
    result = check_env_files([_env_file(tmp_path, values)], fetched, "1.3.5")
    assert result.ok is ok
    if not ok:
        assert [p.name for p in result.invalid] == [CSP_WILDCARD]
        assert wildcard not in result.invalid[0].reason


def test_domain_given_beats_the_env_file(fetched: Path, tmp_path: Path) -> None:
    values = _complete([*REQUIRED_1_3_0, CSP_WILDCARD, countryconfig.FORK_REQUIRED])
    path = _env_file(tmp_path, values)
    assert not check_env_files([path], fetched, "1.3.5", domain="other.example.org").ok


def test_missing_env_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EnvFileError, match="does not exist"):
        check_env_files([tmp_path / "nope.env"], None, "1.3.5")
