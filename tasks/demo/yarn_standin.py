"""A stand-in for `yarn --force` in the demo, when yarn 1.x is not installed.

It prints what yarn 1.x prints for a project without dependencies, progress
drawn with carriage returns included, and says plainly that it is a stand-in.
Run as ``python -m tasks.demo.yarn_standin --force``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

STEPS = (
    "Resolving packages...",
    "Fetching packages...",
    "Linking dependencies...",
    "Rebuilding all packages...",
)


def main(argv: list[str]) -> int:
    out = sys.stdout
    started = time.monotonic()
    out.write("crvs-migrate demo: yarn is not installed, this is a stand-in for yarn 1.x.\n")
    out.write(f"yarn install v1.22.22 (stand-in) {' '.join(argv)}\n")
    if not Path("package.json").is_file():
        out.write("error Couldn't find a package.json file in the current directory.\n")
        return 1
    try:
        name = json.loads(Path("package.json").read_text(encoding="utf-8")).get("name", "")
    except (OSError, ValueError):
        out.write("error package.json is not valid JSON.\n")
        return 1
    out.write("info No lockfile found.\n")
    for i, step in enumerate(STEPS, 1):
        out.write(f"[{i}/4] {step}\n")
        out.flush()
        if i == 2:
            # yarn redraws its progress bar in place with \r.
            for n in range(0, 11):
                out.write(f"\r[{'#' * n}{'-' * (10 - n)}] {n * 10}/100")
                out.flush()
                time.sleep(0.02)
            out.write("\r\n")
    out.write("success Saved lockfile.\n")
    out.write(f"info {name or 'project'}: no dependencies to install (stand-in).\n")
    out.write(f"Done in {time.monotonic() - started:.2f}s.\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
