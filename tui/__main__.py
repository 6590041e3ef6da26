"""``python -m tui``: the same as the ``crvs-migrate`` command."""

import sys

from tui.cli import main

sys.exit(main())
