"""The table of OpenCRVS 1.3.x releases: the one place that knows what each release needs.

Adding 1.3.6 is one entry here. Facts from ../shared/reference/opencrvs-facts.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ManualStep:
    """A step the operator does by hand, named by a stable id the plan and screens share."""

    id: str
    # The phase it belongs to (an id from tasks.session.phases).
    phase: str
    title: str

    def __str__(self) -> str:
        return self.title


@dataclass(frozen=True)
class Release:
    version: str
    date: str
    summary: str
    # Upgrading *to* this release from an earlier one needs:
    ansible_run: bool = False
    data_migration: bool = False
    new_required_env: tuple[str, ...] = ()
    optional_env: tuple[str, ...] = ()
    removed_env: tuple[str, ...] = ()
    manual_steps: tuple[ManualStep, ...] = field(default_factory=tuple)
    # The notes call 1.3.1 "incompatible": crossing it is not a plain hotfix.
    incompatible: bool = False

    @property
    def key(self) -> tuple[int, int, int]:
        major, minor, patch = (int(x) for x in self.version.split("."))
        return (major, minor, patch)


RELEASES: tuple[Release, ...] = (
    Release(
        "1.3.0",
        "2023-10-03",
        "Big refactor of the country config; from 1.2 it needs new servers, a restore and hours of data migrations.",
    ),
    Release(
        "1.3.1",
        "2023-11-13",
        "Incompatible hotfix: new required CONTENT_SECURITY_POLICY_WILDCARD, Ansible playbook change (installs jq), "
        "MinIO/Metabase pinned to node.labels.data1, and a data migration.",
        ansible_run=True,
        data_migration=True,
        new_required_env=("CONTENT_SECURITY_POLICY_WILDCARD",),
        incompatible=True,
    ),
    Release("1.3.2", "2024-01-19", "No breaking change."),
    Release(
        "1.3.3",
        "2024-02-23",
        "Certificate templates must use the {{location <x>Id 'name'}} helper; Metabase security upgrade.",
        manual_steps=(
            ManualStep(
                "certificate_templates",
                "merge_config",
                "Update certificate templates to use the {{location <x>Id 'name'}} helper for place names",
            ),
        ),
    ),
    Release(
        "1.3.4",
        "2024-04-17",
        "No breaking change; optional MOSIP / national-ID environment variables added.",
        optional_env=("MOSIP_API_KEY", "NATIONAL_ID_OIDP_BASE_URL", "NATIONAL_ID_OIDP_CLIENT_ID"),
    ),
    Release(
        "1.3.5",
        "2024-05-02",
        "One fix; the 1.3.4 MOSIP environment variables removed again.",
        removed_env=("MOSIP_API_KEY", "NATIONAL_ID_OIDP_BASE_URL", "NATIONAL_ID_OIDP_CLIENT_ID"),
    ),
)

RELEASES_BY_VERSION: dict[str, Release] = {r.version: r for r in RELEASES}
LATEST: Release = RELEASES[-1]


# What `infrastructure/deploy.sh` exits on when missing, as shipped with 1.3.0.
# Later releases add theirs through ``Release.new_required_env`` above.
DEPLOY_REQUIRED_ENV_1_3_0: tuple[str, ...] = (
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "ALERT_EMAIL",
    "KIBANA_USERNAME",
    "KIBANA_PASSWORD",
    "ELASTICSEARCH_SUPERUSER_PASSWORD",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MONGODB_ADMIN_USER",
    "MONGODB_ADMIN_PASSWORD",
    "SUPER_USER_PASSWORD",
    "DOCKERHUB_ACCOUNT",
    "DOCKERHUB_REPO",
)
DEPLOY_OPTIONAL_ENV_1_3_0: tuple[str, ...] = (
    "EMAIL_API_KEY",
    "SENTRY_DSN",
    "INFOBIP_GATEWAY_ENDPOINT",
    "INFOBIP_API_KEY",
    "INFOBIP_SENDER_ID",
    "SENDER_EMAIL_ADDRESS",
    "PAPERTRAIL",
    "SSH_USER",
    "SSH_HOST",
    "LOG_LOCATION",
)


def _releases_up_to(version: str) -> list[Release]:
    key = tuple(int(x) for x in version.split("."))
    if version not in RELEASES_BY_VERSION:
        raise KeyError(version)
    return [r for r in RELEASES if r.key <= key]


def deploy_required_env(version: str) -> tuple[str, ...]:
    """The built-in list of variables the deploy of ``version`` exits on when missing."""
    names = list(DEPLOY_REQUIRED_ENV_1_3_0)
    for release in _releases_up_to(version):
        for name in release.new_required_env:
            if name not in names:
                names.append(name)
    return tuple(names)


def deploy_optional_env(version: str) -> tuple[str, ...]:
    """Optional deploy variables of ``version`` (added and removed release by release)."""
    names = list(DEPLOY_OPTIONAL_ENV_1_3_0)
    for release in _releases_up_to(version):
        names += [n for n in release.optional_env if n not in names]
        names = [n for n in names if n not in release.removed_env]
    return tuple(names)
