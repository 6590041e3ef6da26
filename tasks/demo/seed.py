"""What an operator of the demo installation would have on disk and type first.

A new demo session starts with the sandbox's checkouts answered (as an operator
would type them), the deploy env file kept where country configs keep it
(``.env.production`` in the fork), and, once the demo cluster listens, its
inventories where operators keep theirs (``infrastructure/server-setup/``). The
app then reads them exactly as it reads a real installation's: no screen and no
task needs to know it is a demo.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tasks.demo.env_file import demo_env_file
from tasks.demo.sandbox import DemoSandbox
from tasks.session.state import Session
from tasks.upgrade.answers import INVENTORY_HOME, Answers

ENV_FILE = ".env.production"
# Written into the fork but never part of it: listed in .git/info/exclude.
LOCAL_FILES = (ENV_FILE, f"/{INVENTORY_HOME}/qa.ini", f"/{INVENTORY_HOME}/production.ini")


def seed_session(session: Session, sandbox: DemoSandbox) -> None:
    """A fresh demo session: the checkouts answered (the sandbox may be built later)."""
    answers = Answers.of(session)
    answers.config_path = answers.config_path or str(sandbox.config_path)
    answers.core_path = answers.core_path or str(sandbox.core_path)


def publish_demo_files(sandbox: DemoSandbox, target_version: str) -> None:
    """Once the sandbox is built and its cluster listens: the env file, and the cluster's
    inventories (rewritten each start: their ports change), where operators keep them."""
    _exclude(sandbox.config_path)
    env_file = sandbox.config_path / ENV_FILE
    if not env_file.exists():
        shutil.copyfile(demo_env_file(sandbox.root, target_version), env_file)
        env_file.chmod(0o600)
    home = sandbox.config_path / INVENTORY_HOME
    home.mkdir(parents=True, exist_ok=True)
    for env in ("qa", "production"):
        source = sandbox.cluster_dir / f"{env}.ini"
        if source.exists():
            shutil.copyfile(source, home / f"{env}.ini")


def _exclude(repo: Path) -> None:
    exclude = repo / ".git" / "info" / "exclude"
    if not exclude.parent.is_dir():
        return
    lines = exclude.read_text().splitlines() if exclude.exists() else []
    missing = [f for f in LOCAL_FILES if f not in lines]
    if missing:
        exclude.write_text("\n".join([*lines, *missing]) + "\n")
