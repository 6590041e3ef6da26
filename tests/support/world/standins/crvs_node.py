"""``crvs-node``: the rehearsal node's own bookkeeping, for the stand-in scripts (not a real tool).

crvs-node get KEY                  print a value of the node's state (JSON for non-strings)
crvs-node event WHAT [K=V ...]     append an event (backup taken, data cleared, ...)
crvs-node restored LABEL FROM      record a restore: QA's data now comes from FROM's LABEL
crvs-node cleared                  record that every database was dropped
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time

NODE_DIR = os.environ.get("CRVS_NODE_DIR") or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))
)
STATE = os.path.join(NODE_DIR, "state.json")


def update(change) -> None:
    with open(STATE + ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(STATE) as f:
            state = json.load(f)
        change(state)
        tmp = STATE + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(tmp, STATE)


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write(__doc__ or "")
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "get":
        with open(STATE) as f:
            value = json.load(f).get(args[0]) if args else None
        print(value if isinstance(value, str) else json.dumps(value))
        return 0
    if cmd == "event":
        fields = dict(a.split("=", 1) for a in args[1:] if "=" in a)
        update(
            lambda s: s.setdefault("events", []).append(
                {"at": time.time(), "what": args[0], **fields}
            )
        )
        return 0
    if cmd == "restored":
        label, source = args[0], args[1] if len(args) > 1 else ""

        def restored(state: dict) -> None:
            state.setdefault("restored", []).append(
                {"label": label, "from": source, "at": time.time()}
            )
            state["data_from"] = {"node": source, "label": label}

        update(restored)
        return 0
    if cmd == "cleared":
        update(lambda s: s.update(data_from={"node": "", "label": "cleared"}))
        return 0
    sys.stderr.write(f"crvs-node: unknown command {cmd}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
