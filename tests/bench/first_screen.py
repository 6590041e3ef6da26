"""Run a program until it writes its first screen, then end it there (``bench_launch_work.py``).

  python first_screen.py MARKER crvs-migrate ARGS...   the real CLI (``tui.cli.main``)
  python first_screen.py MARKER bare ARGS...           ``bare_app.py``

The process ends (``os._exit``, no clean-up) at the first write to the terminal that holds
``MARKER``: what is counted is the work up to the first screen, and nothing after it (the
app goes on importing and building the other phases once the first screen is up).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    marker, program, args = argv[0], argv[1], argv[2:]
    from textual.drivers.linux_driver import LinuxDriver

    write = LinuxDriver.write

    def first_screen(self: LinuxDriver, data: str) -> None:
        write(self, data)
        if marker in data:
            os._exit(0)

    LinuxDriver.write = first_screen  # type: ignore[method-assign]
    if program == "crvs-migrate":
        from tui.cli import main as cli

        sys.exit(cli(args))
    sys.path.insert(0, str(Path(__file__).parent))
    import bare_app

    bare_app.main(args)


if __name__ == "__main__":
    main(sys.argv[1:])
