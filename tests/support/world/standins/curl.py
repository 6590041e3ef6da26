"""Stand-in for `curl` on a rehearsal node: the HTTPS endpoints of the stack deployed here, as
traefik on the node would answer them (``curl ... --resolve <name>:443:127.0.0.1
https://<service>.<domain>/<path>``, the way crvs-migrate's checks after a deploy ask).

With a stack in the node's state: the gateway's ``/ping`` answers every core service true,
the others ``{"success":true}``, ``login.`` a page, each with ``-w '\\n%{http_code}'`` honoured.
``state["http"]`` (service -> body, or null for "does not answer") overrides, for tests.
Without a stack: connection refused (exit 7), as curl says it.
"""

from __future__ import annotations

import json
import os
import sys

NODE_DIR = os.environ.get("CRVS_NODE_DIR") or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))
)
GATEWAY = ("auth", "search", "user-mgnt", "metrics", "notification", "countryconfig", "workflow")


def main(argv: list[str]) -> int:
    url = next((a for a in reversed(argv) if a.startswith("https://")), "")
    name = url.removeprefix("https://").split("/", 1)[0]
    service = name.split(".", 1)[0]
    with open(os.path.join(NODE_DIR, "state.json")) as f:
        state = json.load(f)
    write_code = "-w" in argv
    overrides = state.get("http") or {}
    if service in overrides:
        body = overrides[service]
    elif not state.get("stack"):
        body = None
    elif service == "gateway":
        body = json.dumps({s: True for s in GATEWAY})
    elif service == "login":
        body = "<!DOCTYPE html><title>OpenCRVS</title>"
    else:
        body = '{"success":true}'
    if body is None:
        sys.stderr.write(f"curl: (7) Failed to connect to {name} port 443: Connection refused\n")
        if write_code:
            sys.stdout.write("\n000")
        return 7
    sys.stdout.write(body + ("\n200" if write_code else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
