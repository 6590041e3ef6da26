"""yarn and node: are they here, which versions, and the argv for `yarn --force`.

OpenCRVS 1.3 is built and tested on node 16: another major version is a warning
(it may work), a missing yarn is an error with how to install it. In demo mode a
missing yarn is replaced by a bundled stand-in that says it is one.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import field
from pathlib import Path

from tasks.errors import ToolMissing
from tasks.lean import dataclass, regex
from tasks.local.process import capture

EXPECTED_NODE_MAJOR = 16
INSTALL_YARN = "npm install -g yarn@1"
# yarn 1 refuses packages whose `engines` ask for another node: the operator may choose this.
IGNORE_ENGINES = "--ignore-engines"
STANDIN_ARGV = (sys.executable, "-m", "tasks.demo.yarn_standin")


@dataclass
class Tools:
    yarn: tuple[str, ...]
    yarn_version: str | None = None
    node_version: str | None = None
    standin: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def node_major(self) -> int | None:
        return node_major(self.node_version)

    @property
    def node_mismatch(self) -> bool:
        return self.node_version is not None and self.node_major != EXPECTED_NODE_MAJOR

    def summary(self) -> str:
        yarn = "yarn stand-in (demo)" if self.standin else f"yarn {self.yarn_version or '?'}"
        node = f"node {self.node_version}" if self.node_version else "node not found"
        return f"{yarn}, {node}"


def node_major(version: str | None) -> int | None:
    m = re.match(r"^v?(\d+)\.", version or "")
    return int(m.group(1)) if m else None


async def find_tools(*, demo: bool, cwd: Path | None = None) -> Tools:
    """Locate yarn and node; raises ``ToolMissing`` when yarn cannot run outside the demo."""
    cwd = cwd if cwd is not None and cwd.is_dir() else Path.cwd()
    node = shutil.which("node")
    node_version = None
    if node:
        code, out = await capture([node, "--version"], cwd, timeout=15)
        node_version = out.strip() if code == 0 else None
    yarn = shutil.which("yarn")
    warnings: list[str] = []
    if yarn is None or node is None:
        if demo:
            tools = Tools(yarn=STANDIN_ARGV, standin=True, node_version=node_version)
            tools.warnings.append(
                "yarn is not installed: the demo uses a stand-in that prints what yarn would. "
                f"For a real upgrade install it with `{INSTALL_YARN}`."
            )
            return tools
        if node is None:
            raise ToolMissing(
                "node is not installed or not on PATH. OpenCRVS 1.3 needs node "
                f"{EXPECTED_NODE_MAJOR} (for example through nvm: `nvm install {EXPECTED_NODE_MAJOR}`), "
                f"then install yarn with `{INSTALL_YARN}`."
            )
        raise ToolMissing(
            f"yarn is not installed or not on PATH. Install yarn 1.x with `{INSTALL_YARN}` "
            "and check that `yarn --version` prints 1.22 or similar, then try again."
        )
    code, out = await capture([yarn, "--version"], cwd, timeout=30)
    yarn_version = out.strip().splitlines()[-1] if code == 0 and out.strip() else None
    if yarn_version is None:
        raise ToolMissing(
            f"yarn at {yarn} does not run (`yarn --version` failed: {out.strip()[:200]}). "
            f"Reinstall it with `{INSTALL_YARN}`."
        )
    if not yarn_version.startswith("1."):
        warnings.append(
            f"yarn {yarn_version} is not yarn 1.x: OpenCRVS 1.3 uses yarn 1 (`{INSTALL_YARN}`)."
        )
    major = node_major(node_version)
    if major != EXPECTED_NODE_MAJOR:
        warnings.append(
            f"node {node_version} is not node {EXPECTED_NODE_MAJOR}, the version OpenCRVS 1.3 "
            "expects: the install may fail or behave differently."
        )
    return Tools(
        yarn=(yarn,), yarn_version=yarn_version, node_version=node_version, warnings=warnings
    )


def yarn_force_argv(tools: Tools) -> list[str]:
    return [*tools.yarn, "--force"]


# What a failed command says about why, in the words of yarn, npm, node and git.
_CAUSE = regex(
    r"^(?:error\b|fatal:|npm ERR!|ERR!|Error:|\S*Error\b|warning Error\b)", re.IGNORECASE
)
_DETAIL = regex(
    r"\b(?:\d{3} [A-Z][A-Za-z ]+|ENOTFOUND|ETIMEDOUT|ECONNREFUSED|ECONNRESET|EACCES|ENOSPC|"
    r"EAI_AGAIN|incompatible|Couldn't find)\b"
)
# Lines yarn prints after every failure: they name no cause.
_BOILERPLATE = ("info If you think this is a bug", "info Visit https://yarnpkg.com")
CAUSE_SCAN_BYTES = 256 * 1024


def failure_cause(lines: list[str]) -> str | None:
    """The line that says why a command failed (yarn's ``error …``, git's ``fatal: …``);
    the last such line, preferring one that names a cause (``404 Not Found``, ``ENOTFOUND``)."""
    candidates = [
        line.strip()
        for line in lines
        if _CAUSE.match(line.strip()) and not line.startswith(_BOILERPLATE)
    ]
    if not candidates:
        return None
    specific = [line for line in candidates if _DETAIL.search(line)]
    return (specific or candidates)[-1]


def failure_cause_in_log(log_file: Path | str | None) -> str | None:
    """``failure_cause`` of the end of a step's log (the log holds every line shown)."""
    if not log_file:
        return None
    try:
        with open(log_file, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - CAUSE_SCAN_BYTES))
            tail = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    lines = [line for line in tail.splitlines() if not line.startswith(("# ", "$ "))]
    return failure_cause(lines)
