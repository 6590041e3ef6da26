"""Helpers for the Prepare and Plan tests: complete answers, and real git checkouts."""

from __future__ import annotations

import json
from pathlib import Path

from tasks.upgrade.answers import (
    Answers,
    CitizenRegistration,
    EnvironmentAnswers,
    EnvironmentId,
    ServerKind,
)
from tests.support.gitutil import git


def make_checkout(path: Path, versions: list[str], package_version: str | None = None) -> Path:
    """A real git repository with one commit (and annotated tag v<version>) per version."""
    path.mkdir(parents=True)
    git(path, "init", "-q")
    for version in versions:
        (path / "package.json").write_text(json.dumps({"name": "cc", "version": version}))
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", f"Release {version}")
        git(path, "tag", "-a", f"v{version}", "-m", f"v{version}")
    if package_version is not None:
        (path / "package.json").write_text(json.dumps({"name": "cc", "version": package_version}))
        git(path, "commit", "-qam", "bump")
    return path


def env(size: int = 3, ram: int = 16, disk: int = 320, cpus: int = 8) -> EnvironmentAnswers:
    return EnvironmentAnswers(ram_gb=ram, cpus=cpus, disk_gb=disk, cluster_size=size)


def full_answers(**changes: object) -> Answers:
    """A complete, healthy installation: 1.3.0 -> latest, QA and production, backups."""
    answers = Answers(
        current_version="1.3.0",
        target_version="1.3.5",
        core_customised=False,
        integrations=False,
        fully_configured=True,
        real_registrars=True,
        real_citizens=CitizenRegistration.PRODUCTION,
        deployed=True,
        server_kind=ServerKind.DEDICATED,
        environments={
            EnvironmentId.STAGING: env(1),
            EnvironmentId.QA: env(1),
            EnvironmentId.PRODUCTION: env(3),
        },
        backup_server=True,
        automated_backups=True,
    )
    for name, value in changes.items():
        setattr(answers, name, value)
    return answers


async def detection_done(app) -> None:
    """Wait for Prepare's version detection only (demo mode also runs a demo cluster
    worker that lives as long as the app): once the first screen's body is mounted, the
    check of the paths (which waits for the demo's checkouts) and the detection it starts."""
    from tests.support.pilot import app_phase_shown

    await app_phase_shown(app)
    for group in ("paths", "detect"):
        running = [w for w in app.workers if w.group == group]
        if running:  # an empty list would mean "every worker" to Textual
            await app.workers.wait_for_complete(running)
