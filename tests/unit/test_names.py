"""tasks.names: every value that reaches a command line is checked, and refused with a reason."""

from __future__ import annotations

import pytest

from tasks.errors import InvalidName
from tasks.names import (
    remote_name_problem,
    validate_host,
    validate_image_tag,
    validate_label,
    validate_port,
    validate_remote_dir,
    validate_replicas,
    validate_user,
)


@pytest.mark.parametrize("host", ["manager1", "203.0.113.10", "srv-1.gov.example", "::1"])
def test_hosts_accepted(host: str) -> None:
    assert validate_host(host) == host


@pytest.mark.parametrize(
    "host", ["", "-oProxyCommand=x", "a b", "host;rm", "$(id)", "a%h", "'q'", "x" * 300]
)
def test_hosts_refused(host: str) -> None:
    with pytest.raises(InvalidName):
        validate_host(host)


def test_users_ports_replicas() -> None:
    assert validate_user("root") == "root"
    assert validate_port("2222") == 2222
    assert validate_replicas("3") == 3
    for bad_user in ("Root", "-l", "a b", ""):
        with pytest.raises(InvalidName):
            validate_user(bad_user)
    for bad_port in ("0", "65536", "22x"):
        with pytest.raises(InvalidName):
            validate_port(bad_port)
    for bad in (2, "4", "x"):
        with pytest.raises(InvalidName):
            validate_replicas(bad)


def test_labels_are_lowercase_and_plain() -> None:
    assert validate_label("before-v1.3.5-20261201") == "before-v1.3.5-20261201"
    with pytest.raises(InvalidName, match="uppercase"):
        validate_label("Before")
    for bad in ("", " x", "-x", "a/b", "a;b"):
        with pytest.raises(InvalidName):
            validate_label(bad)


def test_remote_dirs_tags_remotes() -> None:
    assert validate_remote_dir("/home/backup/opencrvs/") == "/home/backup/opencrvs"
    for bad in ("relative", "/a/../b", "/a b"):
        with pytest.raises(InvalidName):
            validate_remote_dir(bad)
    assert validate_image_tag(" v1.3.5 ") == "v1.3.5"
    with pytest.raises(InvalidName):
        validate_image_tag("-v1")
    assert remote_name_problem("upstream") is None
    assert remote_name_problem("a..b") and remote_name_problem("-x") and remote_name_problem("")
