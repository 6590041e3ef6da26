"""OpenCRVS version numbers and the upgrade-path rules between two of them.

The rules come from Step 1 of the migration notes: minor versions cannot be
skipped, 1.2 to 1.3 is a different (much bigger) upgrade with its own notes, a
downgrade is refused, and the same version means there is nothing to do. What a
1.3.x hotfix upgrade needs is read from the release catalogue (``tasks.upgrade.catalogue``).
Git tags are read here too: upstream's ``v1.3.2`` and a country's own ``v1.3.2-ruritania.2``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

from tasks.lean import dataclass, regex
from tasks.upgrade.catalogue import Catalogue, Release, bundled_catalogue

# "1.3.2", "v1.3.2", and "1.2" (an operator may only know the minor version).
_VERSION = regex(r"^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$")
# A git tag: upstream's v1.3.2, or a country's own v1.3.2-ruritania.2 (the release it is based on,
# then a suffix naming the country's build).
_TAG = regex(r"^v?(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:-([A-Za-z0-9][A-Za-z0-9._-]{0,99}))?$")
# Suffixes of upstream pre-releases: v1.3.0-rc.1 is not yet 1.3.0.
_PRERELEASE = regex(r"^(?:rc|alpha|beta|pre|dev)(?:[.\d-]|$)", re.IGNORECASE)


class Version(NamedTuple):
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def minor_line(self) -> tuple[int, int]:
        return (self.major, self.minor)


def parse_version(text: str) -> Version:
    """``"v1.3.2"`` -> ``Version(1, 3, 2)``; raises ``ValueError`` with a reason an operator reads."""
    value = text.strip()
    if not value:
        raise ValueError("Enter a version such as 1.3.0")
    match = _VERSION.match(value)
    if not match:
        raise ValueError(f"'{value}' is not a version: use the form 1.3.0")
    major, minor, patch = match.groups()
    return Version(int(major), int(minor), int(patch or 0))


@dataclass(frozen=True)
class TagVersion:
    """What a git tag says: the release it is, or is based on, and a country's suffix."""

    tag: str
    version: Version
    # "ruritania.2" for v1.3.0-ruritania.2; "" for upstream's own tag.
    suffix: str = ""


def parse_tag(text: str) -> TagVersion:
    """``"v1.3.0-ruritania.2"`` -> 1.3.0 with suffix ``ruritania.2``; raises ``ValueError``.

    Pre-release tags (``v1.3.0-rc.1``, ``-beta``) are refused: they are not the release.
    """
    value = text.strip()
    match = _TAG.match(value)
    if not match:
        raise ValueError(f"'{value}' is not a release tag such as v1.3.0 or v1.3.0-<country>.1")
    major, minor, patch, suffix = match.groups()
    if suffix and _PRERELEASE.match(suffix):
        raise ValueError(f"'{value}' is a pre-release tag, not a release")
    return TagVersion(value, Version(int(major), int(minor), int(patch)), suffix or "")


def is_release_tag(text: str) -> bool:
    try:
        parse_tag(text)
    except ValueError:
        return False
    return True


def is_version(text: str) -> bool:
    try:
        parse_version(text)
    except ValueError:
        return False
    return True


def known_versions(catalogue: Catalogue | None = None) -> tuple[str, ...]:
    return tuple(r.version for r in (catalogue or bundled_catalogue()).releases)


def release_for(version: Version, catalogue: Catalogue | None = None) -> Release | None:
    for release in (catalogue or bundled_catalogue()).releases:
        if release.key == tuple(version):
            return release
    return None


class PathKind(StrEnum):
    """What kind of upgrade a (current, target) pair is."""

    HOTFIX = "hotfix"  # within 1.3.x: this tool guides it
    SAME = "same"  # nothing to do
    DOWNGRADE = "downgrade"  # refused
    SKIPPED_MINOR = "skipped_minor"  # e.g. 1.1 -> 1.3: go to 1.2 first
    FROM_1_2 = "from_1_2"  # 1.2 -> 1.3: a different upgrade, with its own notes
    UNKNOWN_TARGET = "unknown_target"  # the target is not a known 1.3.x release

    @property
    def proceeds(self) -> bool:
        return self is PathKind.HOTFIX


@dataclass(frozen=True)
class UpgradePath:
    current: Version
    target: Version
    kind: PathKind
    # One or two sentences for the operator: what this path means, or why it is refused.
    explanation: str
    # The releases an upgrade crosses: current < release <= target, oldest first.
    crossed: tuple[Release, ...] = ()

    @property
    def proceeds(self) -> bool:
        return self.kind.proceeds


def releases_between(
    current: Version, target: Version, catalogue: Catalogue | None = None
) -> tuple[Release, ...]:
    """The known releases after ``current`` up to and including ``target``, in order."""
    releases = (catalogue or bundled_catalogue()).releases
    return tuple(r for r in releases if tuple(current) < r.key <= tuple(target))


def upgrade_path(
    current: Version, target: Version, catalogue: Catalogue | None = None
) -> UpgradePath:
    """Classify an upgrade from ``current`` to ``target`` (pure; data from the catalogue)."""
    catalogue = catalogue or bundled_catalogue()
    if target == current:
        return UpgradePath(
            current,
            target,
            PathKind.SAME,
            f"You are already on {current}: there is nothing to upgrade.",
        )
    if target < current:
        return UpgradePath(
            current,
            target,
            PathKind.DOWNGRADE,
            f"{target} is older than your current {current}. OpenCRVS cannot be downgraded: "
            "data migrations only run forwards. Choose a newer target.",
        )
    if release_for(target, catalogue) is None:
        return UpgradePath(
            current,
            target,
            PathKind.UNKNOWN_TARGET,
            f"{target} is not a known release. Known releases: "
            f"{', '.join(known_versions(catalogue))} (latest {catalogue.latest.version}).",
        )
    if current.major != target.major or target.minor - current.minor >= 2:
        next_minor = f"{current.major}.{current.minor + 1}"
        return UpgradePath(
            current,
            target,
            PathKind.SKIPPED_MINOR,
            f"Minor versions cannot be skipped: upgrade from {current.major}.{current.minor} to "
            f"{next_minor} first, then one minor version at a time up to "
            f"{target.major}.{target.minor}.",
        )
    if current.minor_line != target.minor_line:
        # One minor step, into 1.3 (the only line in the catalogue): the 1.2 -> 1.3 upgrade.
        return UpgradePath(
            current,
            target,
            PathKind.FROM_1_2,
            f"Upgrading from {current.major}.{current.minor} to {target.major}.{target.minor}.0 is not "
            "a hotfix: 1.3.0 needs new servers, a restore of your backup and hours of data "
            f"migrations. Follow the v{current.major}.{current.minor} to "
            f"v{target.major}.{target.minor} migration notes instead, then come back for the "
            f"1.3.x hotfixes.",
        )
    crossed = releases_between(current, target, catalogue)
    names = ", ".join(r.version for r in crossed)
    return UpgradePath(
        current,
        target,
        PathKind.HOTFIX,
        f"Hotfix upgrade from {current} to {target}, crossing {names}.",
        crossed,
    )
