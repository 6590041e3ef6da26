"""Names and values that reach a command line or a server: checked in one place.

Every value the operator types or an inventory supplies (host, user, port,
backup label, remote directory, image tag, replicas, git remote name) is
validated here before any module uses it, so no module needs another for
them. Each ``validate_*`` returns the cleaned value or raises ``InvalidName``
with a message in the operator's words. Values are data: anything that could
be read as an option (a leading ``-``) or as shell syntax is refused.
"""

from __future__ import annotations

import ipaddress
import re

from tasks.errors import InvalidName

REPLICAS = (1, 3, 5)

# RFC 1123 host names (letters, digits, '-' and '.'), or an IPv4 address.
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
# POSIX portable user names, as useradd accepts them.
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Lowercase only: Elasticsearch refuses uppercase snapshot names.
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_REMOTE_DIR = re.compile(r"^/[A-Za-z0-9_./-]*$")
# Docker image tag grammar (distribution spec).
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REMOTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def validate_host(host: str) -> str:
    """A host name or an IP address (IPv6 without brackets)."""
    host = host.strip()
    if _HOST.match(host):
        return host
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise InvalidName(f"'{host}' is not a host name or IP address.") from None


def validate_user(user: str) -> str:
    user = user.strip()
    if not _USER.match(user):
        raise InvalidName(f"'{user}' is not a user name.")
    return user


def validate_port(port: int | str) -> int:
    try:
        value = int(str(port).strip())
    except ValueError:
        raise InvalidName(f"SSH port '{port}' is not a number.") from None
    if not 0 < value < 65536:
        raise InvalidName(f"SSH port {value} is out of range.")
    return value


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
    path = path.rstrip("/") or "/"
    if not _REMOTE_DIR.match(path) or "/../" in f"{path}/":
        raise InvalidName(f"'{path}' is not an absolute directory path on the server.")
    return path


def validate_image_tag(value: str, what: str = "Image tag") -> str:
    value = value.strip()
    if not _IMAGE_TAG.match(value):
        raise InvalidName(
            f"{what} '{value}' is not a Docker image tag (letters, digits, _ . -; at most 128)."
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
