"""A deploy env file for the demo: every variable the demo's deploy.sh needs, no real secret."""

from __future__ import annotations

from pathlib import Path

from tasks.release.env_check import CSP_WILDCARD
from tasks.session.state import write_atomic
from tasks.upgrade.catalogue import deploy_required_env, latest_version

DEMO_DOMAIN = "farajaland.demo.opencrvs.invalid"


def demo_env_file(root: Path, version: str | None = None) -> Path:
    """Write (once) ``<root>/demo-deploy.env`` and return its path (for the latest release
    unless ``version`` says which)."""
    version = version or latest_version()
    path = Path(root) / "demo-deploy.env"
    if not path.exists():
        lines = [f"DOMAIN={DEMO_DOMAIN}"]
        for name in deploy_required_env(version):
            value = f"*.{DEMO_DOMAIN}" if name == CSP_WILDCARD else f"demo-{name.lower()}"
            lines.append(f"{name}={value}")
        write_atomic(path, ("\n".join(lines) + "\n").encode())
    return path
