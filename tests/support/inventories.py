"""Inventories shaped like opencrvs-countryconfig's ``infrastructure/server-setup`` (v1.3.0-v1.3.5).

Upstream ships ``example-{1,3,5}.ini`` whose host lines are commented out placeholders
(``; manager1 ansible_host="ENTER YOUR MANAGER HOST IP"``, ``; data1_hostname=ENTER_HOSTNAME_1``)
and ``group_vars/all.yml`` with ``ansible_user: root``. The operator copies an example,
uncomments the lines and fills in addresses. These builders write the same shapes (written
by the tests, not copied files); line numbers match upstream's.
"""

from __future__ import annotations

from pathlib import Path

LICENSE_HEADER = """\
; This Source Code Form is subject to the terms of the Mozilla Public
; License, v. 2.0. If a copy of the MPL was not distributed with this
; file, You can obtain one at https://mozilla.org/MPL/2.0/.
;
; OpenCRVS is also distributed under the terms of the Civil Registration
; & Healthcare Disclaimer located at http://opencrvs.org/license.
;
; Copyright (C) The OpenCRVS Authors located at https://github.com/opencrvs/opencrvs-core/blob/master/AUTHORS.
"""

GROUP_VARS_ALL = """\
# This Source Code Form is subject to the terms of the Mozilla Public
# License, v. 2.0. If a copy of the MPL was not distributed with this
# file, You can obtain one at https://mozilla.org/MPL/2.0/.
#
# OpenCRVS is also distributed under the terms of the Civil Registration
# & Healthcare Disclaimer located at http://opencrvs.org/license.
#
# Copyright (C) The OpenCRVS Authors located at https://github.com/opencrvs/opencrvs-core/blob/master/AUTHORS.
ansible_python_interpreter: /usr/bin/python3
ansible_user: root
encrypt_data: False
swap_file_path: /swapfile
swap_file_size_mb: 8000
"""
GROUP_VARS_USER_LINE = 10  # "ansible_user: root"


def example_ini(size: int, filled: dict[str, str] | None = None) -> str:
    """``example-<size>.ini`` as upstream ships it; ``filled`` uncomments lines with values.

    ``filled`` maps a host name (manager1, worker1 ...) or dataN_hostname to the value the
    operator typed; the literal string ``"as-is"`` uncomments a line without editing it.
    """
    filled = filled or {}
    workers = size - 1

    def host(name: str, placeholder: str) -> str:
        value = filled.get(name)
        if value is None:
            return f'; {name} ansible_host="{placeholder}"\n'
        return f'{name} ansible_host="{placeholder if value == "as-is" else value}"\n'

    def data(i: int) -> str:
        value = filled.get(f"data{i}_hostname")
        if value is None:
            return f"; data{i}_hostname=ENTER_HOSTNAME_{i}\n"
        return f"data{i}_hostname={f'ENTER_HOSTNAME_{i}' if value == 'as-is' else value}\n"

    text = LICENSE_HEADER + "[docker-manager-first]\n; Uncomment the line below\n"
    text += host("manager1", "ENTER YOUR MANAGER HOST IP") + "\n"
    if workers:
        text += "[docker-workers]\n"
        text += {
            2: "; We recommend you add 2 workers for a usual production deployment\n",
            4: "; We recommend you add 4 workers for a scaled production deployment\n",
        }[workers]
        text += "; Uncomment the lines below\n"
        for i in range(1, workers + 1):
            text += host(f"worker{i}", f"ENTER YOUR WORKER {i} HOST IP")
        text += "\n"
    text += (
        f"; Below you can assign {size} node to be {'the data node' if size == 1 else 'data nodes'}"
        ", use the node's HOSTNAME in these variables.\n"
        "; These node will be used by databases to permanently store data.\n"
        "; Used for Mongo replica sets\n"
        "[all:vars]\n"
        + ("; Uncomment the line below\n" if size == 1 else "; Uncomment the lines below\n")
    )
    for i in range(1, size + 1):
        text += data(i)
    return text


def write_server_setup(
    root: Path, inventory: str, name: str = "production.ini", group_vars: str = GROUP_VARS_ALL
) -> Path:
    """``root/infrastructure/server-setup/<name>`` with group_vars/all.yml beside it."""
    setup = root / "infrastructure" / "server-setup"
    (setup / "group_vars").mkdir(parents=True, exist_ok=True)
    (setup / "group_vars" / "all.yml").write_text(group_vars)
    path = setup / name
    path.write_text(inventory)
    return path
