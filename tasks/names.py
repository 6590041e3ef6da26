"""Names and values that reach a command line or a server: checked in one place.

Every value the operator types or an inventory supplies (host, user, port, key
file, backup label, remote directory, image tag, release tag, replicas, git remote
name) is validated here before any module uses it, so no module needs another for
them. Each ``validate_*`` returns the cleaned value or raises ``InvalidName``
with a message in the operator's words. Values are data: anything that could
be read as an option (a leading ``-``) or as shell syntax is refused.
"""

from __future__ import annotations

import ipaddress

from tasks.errors import InvalidName
from tasks.lean import regex
from tasks.text import strip_control

REPLICAS = (1, 3, 5)

# RFC 1123 host names (letters, digits, '-' and '.'), an IPv4 address, or an ssh config
# alias (which may hold '_'). Nothing else: OpenSSH and asyncssh expand the host into
# ProxyCommand (%h), so a space, quote, '%' or leading '-' could become a command.
_HOST = regex(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
# POSIX portable user names, as useradd accepts them (and '.' after the first letter).
_USER = regex(r"^[a-z_][a-z0-9_.-]{0,31}$")
# A local private key file: ~/ or ~user/ at the start, then no spaces, quotes, '%'
# (ssh's token expansion) or shell syntax.
_KEY_PATH = regex(r"^(?:~[a-z0-9_.-]*/)?[A-Za-z0-9_./+@,=:-]{1,4096}$")
QUOTED_MAX = 48
_CONTROL = regex(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Lowercase only: Elasticsearch refuses uppercase snapshot names.
_LABEL = regex(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_REMOTE_DIR = regex(r"^/[A-Za-z0-9_./-]*$")
# Docker image tag grammar (distribution spec).
_IMAGE_TAG = regex(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# A release tag of the country config: a git tag whose name, without its leading 'v', is
# also the image tag (publish-release.yml's release_version becomes COUNTRY_CONFIG_VERSION).
_RELEASE_TAG = regex(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_REMOTE_NAME = regex(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def quoted(value: object) -> str:
    """``value`` fit to quote in a message: control characters removed, cut to a few words.

    Messages name the offending value only, never the line or file it came from.
    """
    text = strip_control(str(value)).replace("\t", " ")
    if len(text) > QUOTED_MAX:
        text = text[: QUOTED_MAX - 1] + "…"
    return f"'{text}'"


def _why_not(value: str) -> str:
    """What makes ``value`` unusable where a plain name is expected, in words."""
    if not value.strip():
        return "it is empty"
    if value.lstrip().startswith("-"):
        return "it starts with '-' and would be read as an option"
    if "{{" in value or "{%" in value:
        return "it is a Jinja template, which crvs-migrate does not evaluate"
    if _CONTROL.search(value):
        return "it contains control characters"
    if any(c.isspace() for c in value.strip()):
        return "it contains spaces"
    if any(c in value for c in "'\"`"):
        return "it contains quotes"
    if "%" in value:
        return "it contains '%', which ssh expands into commands"
    if any(c in value for c in "$;|&<>()\\*?!#{}[]"):
        return "it contains shell syntax"
    return ""


def validate_host(host: str) -> str:
    """A host name, an ssh config alias or an IP address (IPv6 without brackets)."""
    if not isinstance(host, str):
        raise InvalidName(f"{quoted(host)} is not a host name or IP address.")
    host = host.strip()
    if _HOST.match(host):
        return host
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        why = _why_not(host)
        raise InvalidName(
            f"{quoted(host)} is not a host name or IP address" + (f": {why}." if why else ".")
        ) from None


def validate_user(user: str) -> str:
    if not isinstance(user, str):
        raise InvalidName(f"{quoted(user)} is not a user name.")
    user = user.strip()
    if not _USER.match(user):
        why = _why_not(user)
        raise InvalidName(f"{quoted(user)} is not a user name" + (f": {why}." if why else "."))
    return user


def validate_port(port: int | str) -> int:
    if isinstance(port, bool):
        raise InvalidName(f"SSH port {quoted(port)} is not a number.")
    try:
        value = int(str(port).strip())
    except ValueError:
        raise InvalidName(f"SSH port {quoted(port)} is not a number.") from None
    if not 0 < value < 65536:
        raise InvalidName(f"SSH port {value} is out of range (1-65535).")
    return value


def validate_key_path(path: str) -> str:
    """A private key file on this machine (as ``ansible_ssh_private_key_file`` names it)."""
    if not isinstance(path, str):
        raise InvalidName(f"{quoted(path)} is not a key file path.")
    path = path.strip()
    if not _KEY_PATH.match(path) or path.startswith("-") or "/../" in f"/{path}/":
        why = _why_not(path) or "use letters, digits and / . _ - + @ , = : only"
        raise InvalidName(f"Key file {quoted(path)} is not usable: {why}.")
    return path


def validate_label(label: str) -> str:
    """A backup label: lowercase (Elasticsearch snapshot names must be)."""
    if label != label.strip() or not label:
        raise InvalidName("The backup label must not be empty or have spaces around it.")
    if any(c.isupper() for c in label):
        raise InvalidName(
            f"'{label}' has uppercase letters: Elasticsearch refuses uppercase snapshot "
            f"names, so the backup would be incomplete. Use '{label.lower()}'."
        )
    if not _LABEL.match(label):
        raise InvalidName(
            f"'{label}' is not a valid backup label: lowercase letters, digits, '-', '_' "
            "and '.', starting with a letter or digit."
        )
    return label


def validate_remote_dir(path: str) -> str:
    """An absolute directory on a server, without '..' steps."""
    if not isinstance(path, str):
        raise InvalidName(f"{quoted(path)} is not an absolute directory path on the server.")
    path = path.rstrip("/") or "/"
    if not _REMOTE_DIR.match(path) or "/../" in f"{path}/":
        raise InvalidName(f"{quoted(path)} is not an absolute directory path on the server.")
    return path


def validate_image_tag(value: str, what: str = "Image tag") -> str:
    value = value.strip()
    if not _IMAGE_TAG.match(value):
        raise InvalidName(
            f"{what} '{value}' is not a Docker image tag (letters, digits, _ . -; at most 128)."
        )
    return value


def validate_release_tag(value: str) -> str:
    """A tag name git accepts and Docker accepts as an image tag (so no '/', '~', '..')."""
    value = value.strip()
    if not _RELEASE_TAG.match(value) or ".." in value or value.endswith((".", ".lock")):
        raise InvalidName(
            f"{quoted(value)} is not a release tag name (letters, digits, _ . -, "
            "starting with a letter or digit; at most 128; no '..')."
        )
    return value


def validate_replicas(value: int | str) -> int:
    try:
        replicas = int(str(value).strip())
    except ValueError:
        replicas = 0
    if replicas not in REPLICAS:
        raise InvalidName(f"Replicas must be 1, 3 or 5, not {value!r}.")
    return replicas


def remote_name_problem(text: str) -> str | None:
    """Why ``text`` is not a usable git remote name, or None."""
    value = text.strip()
    if not value:
        return "Enter the name of the upstream remote (e.g. upstream)"
    if not _REMOTE_NAME.match(value) or ".." in value or value.endswith((".", ".lock")):
        return f"'{value}' is not a valid git remote name"
    return None
