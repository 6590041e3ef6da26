"""The release catalogue (assets/releases.toml): the facts it holds, and how it refuses mistakes."""

from __future__ import annotations

import fnmatch
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from tasks.upgrade import catalogue
from tasks.upgrade.catalogue import CatalogueError, parse_catalogue

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = resources.files("assets").joinpath("releases.toml").read_text(encoding="utf-8")


def test_the_shipped_catalogue_holds_the_verified_facts() -> None:
    shipped = catalogue.bundled_catalogue()
    by = shipped.by_version
    assert [(r.version, r.date) for r in shipped.releases] == [
        ("1.3.0", "2023-10-03"),
        ("1.3.1", "2023-11-13"),
        ("1.3.2", "2024-01-19"),
        ("1.3.3", "2024-02-23"),
        ("1.3.4", "2024-04-17"),
        ("1.3.5", "2024-05-02"),
    ]
    assert shipped.latest.version == catalogue.latest_version() == "1.3.5"
    assert by["1.3.1"].incompatible and by["1.3.1"].ansible_run
    assert by["1.3.1"].new_required_env == ("CONTENT_SECURITY_POLICY_WILDCARD",)
    assert (
        not by["1.3.3"].ansible_run and "PIP_BREAK_SYSTEM_PACKAGES" in by["1.3.3"].playbook_change
    )
    (step,) = by["1.3.3"].manual_steps
    assert step.id == "certificate_templates" and step.recommended and step.phase == "merge_config"
    assert by["1.3.4"].refs == ("release-v1.3.4", "v1.3.4")
    assert by["1.3.5"].refs == ("v1.3.5", "release-v1.3.5")
    assert shipped.deploy.arguments == (
        "CLEAR_DATA",
        "HOST",
        "ENV",
        "VERSION",
        "COUNTRY_CONFIG_VERSION",
        "REPLICAS",
    )
    assert "PAPERTRAIL" not in catalogue.deploy_optional_env("1.3.0")  # never checked by deploy.sh
    assert catalogue.deploy_required_env("1.3.0") == shipped.deploy.required_env
    assert catalogue.deploy_required_env("1.3.5")[-1] == "CONTENT_SECURITY_POLICY_WILDCARD"
    assert "NATIONAL_ID_OIDP_JWT_AUD_CLAIM" in catalogue.deploy_optional_env("1.3.4")
    assert "NATIONAL_ID_OIDP_JWT_AUD_CLAIM" not in catalogue.deploy_optional_env("1.3.5")


def test_every_fact_cites_its_source() -> None:
    for release in catalogue.bundled_catalogue().releases:
        assert release.source("date"), release.version
        for fact, present in (
            ("new_required_env", release.new_required_env),
            ("optional_env", release.optional_env),
            ("removed_env", release.removed_env),
            ("ansible", release.playbook_change),
            ("dependency_changes", release.dependency_changes),
            ("incompatible", release.incompatible),
        ):
            if present:
                assert release.source(fact), (release.version, fact)
        for item in (*release.migrations, *release.manual_steps, *release.notices):
            assert item.source, (release.version, item)


def test_the_wheel_ships_the_data_file() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["assets"]
    assert any(fnmatch.fnmatch("releases.toml", p) for p in patterns)


def _replace(old: str, new: str) -> str:
    assert old in SHIPPED, old
    return SHIPPED.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            _replace('version = "1.3.2"', 'version = "1.3.2"\nreleased = true'),
            ["release 1.3.2", "'released'", "unknown key"],
        ),
        (
            _replace('version = "1.3.2"', 'version = "1.3.9"'),
            ["release 1.3.3", "'version'", "after 1.3.9"],
        ),
        (_replace('version = "1.3.2"', 'version = "1.3"'), ["'version'", "'1.3'"]),
        (_replace("date = 2024-01-19", "date = 2024-13-19"), ["not valid TOML"]),
        (
            _replace("date = 2024-01-19", 'date = "19 January 2024"'),
            ["release 1.3.2", "'date'", "not a date"],
        ),
        (
            _replace("date = 2024-01-19", "date = 2023-01-19"),
            ["release 1.3.2", "'date'", "before 1.3.1"],
        ),
        (
            _replace("date = 2024-01-19", "date = 1999-01-19"),
            ["release 1.3.2", "not a plausible release date"],
        ),
        (
            _replace('summary = "No breaking change;', "summary = 3 #"),
            ["release 1.3.2", "'summary'", "must be a string"],
        ),
        (_replace("schema = 1", "schema = 2"), ["'schema'", "must be 1"]),
        (
            _replace('phase = "merge_config"', 'phase = "merge"'),
            ["release 1.3.3", "manual step #1", "'phase'", "not a phase"],
        ),
        (
            _replace('name = "20240201123539-join-given-name"', 'name = "join given name"'),
            ["release 1.3.3", "migration #1", "'name'"],
        ),
        (
            _replace(
                'new_required_env = ["CONTENT_SECURITY_POLICY_WILDCARD"]',
                'new_required_env = ["content-policy"]',
            ),
            ["release 1.3.1", "'new_required_env'", "not an environment variable name"],
        ),
        (
            _replace(
                "new_required_env = \"cc git diff v1.3.0 v1.3.1 -- infrastructure/deploy.sh; docs v1.3.1-release-notes.md 'Breaking hotfixes'\"\n",
                "",
            ),
            ["release 1.3.1", "'new_required_env'", "has no source"],
        ),
        (
            _replace(
                'removed_env = [\n  "TOKENSEEDER_MOSIP_AUTH__PARTNER_MISP_LK",',
                'removed_env = [\n  "MOSIP_API_KEY",',
            ),
            ["release 1.3.5", "'removed_env'", "MOSIP_API_KEY is not read"],
        ),
        (
            _replace(
                'optional_env = [\n  "TOKENSEEDER_MOSIP_AUTH__PARTNER_MISP_LK",',
                'optional_env = [\n  "SMTP_HOST",',
            ),
            ["release 1.3.4", "'optional_env'", "SMTP_HOST is already read"],
        ),
        (
            _replace(
                'required = true\nwhat = "playbook-1/3/5.yml install jq',
                'what = "playbook-1/3/5.yml install jq',
            ),
            ["[release.ansible]", "'required'", "is missing"],
        ),
        (
            _replace(
                'phases = ["deploy_qa", "deploy_production"]\nmessage = "1.3.1 pins',
                'phases = ["deploy_moon"]\nmessage = "1.3.1 pins',
            ),
            ["release 1.3.1", "notice #1", "'phases'", "deploy_moon"],
        ),
    ],
    ids=lambda value: str(value[-1])[:40] if isinstance(value, list) else "text",
)
def test_a_mistake_names_the_entry_and_the_field(text: str, names: list[str]) -> None:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text, "releases.toml")
    message = caught.value.message
    assert message.startswith("releases.toml")
    for name in names:
        assert name in message


def test_a_release_without_a_date_source_is_refused() -> None:
    text = _replace(
        'date = "cc tag v1.3.2 (commit date); cc v1.3.2:package.json version 1.3.2"\n', ""
    )
    with pytest.raises(CatalogueError, match=r"release 1\.3\.2.*'sources'.*no 'date'"):
        parse_catalogue(text)


def test_an_unreadable_catalogue_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot be read"):
        catalogue.load_catalogue(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe schema")
    with pytest.raises(CatalogueError, match="cannot be read"):
        catalogue.load_catalogue(bad)


def test_a_resume_reads_no_catalogue_before_its_first_screen(tmp_path: Path) -> None:
    """The app's modules and a session whose target is answered: the catalogue (about 4 ms
    to read and check) waits for the first use, after the first screen."""
    import subprocess
    import sys

    from tasks.session.state import Session, save_session
    from tasks.upgrade.answers import Answers

    session = Session()
    session.replace_section(Answers(target_version="1.3.4"))
    save_session(tmp_path / "s.toml", session)
    probe = (
        "import sys; from pathlib import Path\n"
        "import tui.app\n"
        "from tasks.sections import open_session\n"
        "from tasks.upgrade import catalogue\n"
        "from tasks.upgrade.answers import Answers\n"
        "session = open_session(Path(sys.argv[1]))\n"
        "assert Answers.of(session).target_version == '1.3.4'\n"
        "print(catalogue.bundled_catalogue.cache_info().currsize)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "s.toml")],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.strip() == "0", done.stdout + done.stderr
    # A new session's target is the latest release: that reads it.
    assert Answers().target_version == catalogue.latest_version()
