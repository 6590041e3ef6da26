"""Stand-in for `hostname` on a rehearsal node: ``-I`` prints the node's own address
(``CRVS_NODE_IP``), as a real server's first address (emergency-backup-metadata.sh copies the
backup off the server only when it equals ``--production_ip``, and crvs-migrate checks that
before running it); anything else is the real hostname."""

from __future__ import annotations

import os
import sys

if sys.argv[1:2] == ["-I"]:
    print(os.environ.get("CRVS_NODE_IP", "127.0.0.1") + " ")
    sys.exit(0)
os.execv("/bin/hostname", ["hostname", *sys.argv[1:]])
