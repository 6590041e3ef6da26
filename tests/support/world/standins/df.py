"""Stand-in for `df` on a rehearsal node: the encrypted /data of an OpenCRVS server cannot exist
on a shared test machine, so ``/data`` (and paths under it) are answered for ``$ROOT_PATH``,
the node's data directory, shown as ``/dev/mapper/cryptfs`` mounted on ``/data`` with the real
numbers of the filesystem holding it. Every other argument goes to the real df unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys

REAL = next((p for p in ("/usr/bin/df", "/bin/df") if os.path.exists(p)), "df")


def main(argv: list[str]) -> int:
    root = os.environ.get("ROOT_PATH", "")
    mapped, data_rows = [], set()
    for i, arg in enumerate(argv):
        if root and (arg == "/data" or arg.startswith("/data/")):
            mapped.append(root + arg[len("/data") :])
            data_rows.add(len([a for a in argv[:i] if not a.startswith("-")]))
        else:
            mapped.append(arg)
    result = subprocess.run([REAL, *mapped], capture_output=True, text=True)
    lines = result.stdout.splitlines()
    for i, line in enumerate(lines[1:]):
        if i in data_rows:
            parts = line.split()
            if len(parts) >= 6:
                lines[i + 1] = " ".join(["/dev/mapper/cryptfs", *parts[-5:-1], "/data"])
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stderr.write(result.stderr.replace(root, "/data") if root else result.stderr)
    if data_rows:
        sys.stderr.write(f"df: crvs-migrate rehearsal stand-in: /data is {root}\n")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
