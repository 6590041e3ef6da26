"""The emergency backup and the restore, run by crvs-migrate on the servers.

The backup runs ``emergency-backup-metadata.sh`` on the production manager, the restore
``emergency-restore-metadata.sh`` on the environment restored onto (QA for the gate;
production only in a rollback), both detached (``tasks.servers.detached``). Before
either runs, the manager is asked what the scripts need, so a run that would silently
do nothing is refused with the reason:

* the script is where the operator said (default ``/opt/opencrvs/infrastructure``,
  where deploy.sh copies the country config's ``infrastructure/``);
* the backup script has the 1.3.1+ layout (``<remote_dir>/<label>/…``). A production
  last deployed at 1.3.0 carries 1.3.0's script, which writes straight into
  ``<remote_dir>``, never copies MinIO, Metabase or vsexport and names the snapshot by
  date: the upgraded checkout's script is uploaded into the run directory and run instead;
* ``--production_ip`` is the manager's first address (``hostname -I``): the script
  copies off-site only then, and otherwise ends with exit 0 having copied nothing.

The restore reads the backup from the restored server's own ``${ROOT_PATH:-/data}/backups``,
never from the backup server: ``copy_backup`` streams ``<remote_dir>/<label>`` from the
backup server into it (through this machine: the servers need no access to each other),
replacing the Elasticsearch repository there, as the 1.3 docs' ``rsync --delete`` does.
The restore's two prompts are answered ``y`` only after the operator typed the host.
Its exit status proves little (the real script has no ``set -e``), so its log is read:
``restore_problems`` names what went wrong.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import field
from pathlib import Path
from typing import Any

from tasks.errors import CrvsError
from tasks.lean import dataclass, regex
from tasks.names import validate_host, validate_label, validate_remote_dir
from tasks.release.backup import (
    BACKUP_SCRIPT_NAME,
    DEFAULT_SCRIPTS_DIR,
    RESTORE_SCRIPT_NAME,
    BackupTarget,
    Verification,
    backup_argv,
    restore_argv,
    script_path,
)
from tasks.servers.detached import RunFile
from tasks.servers.runner import RemoteRun

# The line that makes a backup script 1.3.1+ (checked in every 1.3 tag of the country config).
LABEL_DIR_LINE = 'REMOTE_DIR="$REMOTE_DIR/'
# The restore's two prompts, answered yes (only after the operator typed the host).
RESTORE_ANSWERS = "y\ny\n"
# The docs' step before a restore: Elasticsearch picks up the copied snapshots.
ES_RESTART = [
    "docker",
    "service",
    "update",
    "--force",
    "--update-parallelism",
    "1",
    "--update-delay",
    "30s",
    "opencrvs_elasticsearch",
]
DATA_ROOT = ["sh", "-c", 'printf "%s\\n" "${ROOT_PATH:-/data}"', "crvs-data-root"]
FIRST_ADDRESS = ["sh", "-c", "hostname -I | cut -d' ' -f1", "crvs-first-address"]


class EmergencyRefused(CrvsError):
    title = "Not run"


def script_check_argv(path: str) -> list[str]:
    """grep's exit status: 0 1.3.1+ layout, 1 the 1.3.0 layout, 2 not there or unreadable."""
    return ["grep", "-cF", "--", LABEL_DIR_LINE, path]


@dataclass
class ScriptCheck:
    path: str
    found: bool
    label_dir: bool  # the 1.3.1+ layout


async def check_script(run: RemoteRun, path: str) -> ScriptCheck:
    result = await run(script_check_argv(path))
    if result.exit_status == 0:
        return ScriptCheck(path, True, True)
    if result.exit_status == 1:
        return ScriptCheck(path, True, False)
    return ScriptCheck(path, False, False)


def local_script_label_dir(path: Path) -> bool:
    try:
        return LABEL_DIR_LINE in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


@dataclass
class BackupPlan:
    """What will run on the production manager, and why (notes shown to the operator)."""

    argv: list[str]
    file: RunFile | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def plan_backup_run(
    run: RemoteRun,
    target: BackupTarget,
    label: str,
    *,
    scripts_dir: str = DEFAULT_SCRIPTS_DIR,
    checkout_script: Path | None = None,
    manager: str = "the production manager",
) -> BackupPlan:
    """Ask the manager what the backup needs; the command, or the problems that stop it."""
    label = validate_label(label)
    target = target.validated()
    path = script_path(scripts_dir, BACKUP_SCRIPT_NAME)
    plan = BackupPlan(backup_argv(target, label, scripts_dir))
    check = await check_script(run, path)
    if not check.found or not check.label_dir:
        usable = checkout_script is not None and local_script_label_dir(checkout_script)
        if usable and checkout_script is not None:
            body = checkout_script.read_text(encoding="utf-8")
            plan.file = RunFile(BACKUP_SCRIPT_NAME, body)
            plan.argv = ["bash", f"./{BACKUP_SCRIPT_NAME}", *plan.argv[2:]]
            why = (
                f"{path} is not on {manager}"
                if not check.found
                else f"{path} on {manager} is 1.3.0's script (no <label> directory; MinIO, "
                "Metabase and vsexport not copied off the server)"
            )
            plan.notes.append(
                f"{why}: the upgraded country config's {BACKUP_SCRIPT_NAME} "
                f"({checkout_script}) runs instead, from the run directory."
            )
        elif not check.found:
            plan.problems.append(
                f"{path} is not on {manager}. deploy.sh copies it there at each deploy: name "
                "the directory that holds it."
            )
        else:
            plan.problems.append(
                f"{path} on {manager} is 1.3.0's backup script: it writes straight into "
                f"{target.remote_dir}, never copies MinIO, Metabase or vsexport, and names the "
                "snapshot by date. Give the upgraded country config checkout in Prepare so "
                "its script can run instead."
            )
    first = await run(FIRST_ADDRESS)
    own = first.stdout.strip().split()[0] if first.stdout.strip() else ""
    if _is_ip(target.production_ip):
        if own and own != target.production_ip:
            plan.problems.append(
                f"--production_ip={target.production_ip} is not {manager}'s first address "
                f"({own}): the script copies the backup off the server only when they are "
                "the same, and otherwise ends without an error having copied nothing. Use "
                f"{own} (manager_production_server_ip in the inventory)."
            )
        elif not own:
            plan.notes.append(
                f"{manager} did not say its address (hostname -I): check that "
                f"--production_ip={target.production_ip} is its first address."
            )
    else:
        plan.notes.append(
            f"--production_ip={target.production_ip} is a name: the script compares it (dig) "
            f"with {manager}'s first address{f' ({own})' if own else ''}."
        )
    return plan


def _is_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@dataclass
class RestorePlan:
    argv: list[str]
    # Where the restore reads the backup: <data root>/backups on the restored server.
    backups_dir: str
    problems: list[str] = field(default_factory=list)


async def plan_restore_run(
    run: RemoteRun,
    label: str,
    replicas: int,
    *,
    scripts_dir: str = DEFAULT_SCRIPTS_DIR,
    server: str = "the QA manager",
) -> RestorePlan:
    label = validate_label(label)
    path = script_path(scripts_dir, RESTORE_SCRIPT_NAME)
    argv = restore_argv(label, replicas, scripts_dir)
    root = await run(DATA_ROOT)
    data_root = root.stdout.strip() or "/data"
    try:
        backups = validate_remote_dir(f"{data_root.rstrip('/')}/backups")
    except CrvsError:
        backups = "/data/backups"
    plan = RestorePlan(argv, backups)
    check = await run(["test", "-f", path])
    if check.exit_status != 0:
        plan.problems.append(
            f"{path} is not on {server}. deploy.sh copies it there at each deploy: name the "
            "directory that holds it."
        )
    return plan


# -- copying the backup onto the restored server ----------------------------------------

# sh -c UNTAR crvs-untar DIR: the backup's parts into DIR; the Elasticsearch repository is
# replaced, never merged (a repository mixing two clusters' snapshots is unusable).
UNTAR = r"""set -e
umask 077
mkdir -p "$1"
rm -rf "$1/elasticsearch"
exec tar -C "$1" -xf -
"""


def pack_argv(base: str) -> list[str]:
    # POSIX format keeps sub-second modification times (freshness is judged on them).
    return ["tar", "--format=posix", "-C", validate_remote_dir(base), "-cf", "-", "."]


def unpack_argv(dest: str) -> list[str]:
    return ["sh", "-c", UNTAR, "crvs-untar", validate_remote_dir(dest)]


@dataclass
class CopyResult:
    bytes: int
    duration_s: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


async def copy_backup(
    source: Any,
    source_base: str,
    dest: Any,
    dest_dir: str,
    *,
    on_progress: Callable[[int, float], None] | None = None,
) -> CopyResult:
    """Stream ``source_base`` (on one connection) into ``dest_dir`` (on another), as tar."""
    import asyncssh

    from tasks.text import strip_control

    t0 = time.monotonic()
    total = 0
    pack = await source.create_process(shlex.join(pack_argv(source_base)), encoding=None)
    unpack = await dest.create_process(shlex.join(unpack_argv(dest_dir)), encoding=None)
    pack.stdin.write_eof()
    errors: list[bytes] = []

    async def drain_err(stream: Any) -> None:
        while chunk := await stream.read(8192):
            if sum(map(len, errors)) < 8192:
                errors.append(chunk)

    err_tasks = [asyncio.ensure_future(drain_err(p.stderr)) for p in (pack, unpack)]
    try:
        last = 0.0
        while True:
            data = await pack.stdout.read(256 * 1024)
            if not data:
                break
            unpack.stdin.write(data)
            await unpack.stdin.drain()
            total += len(data)
            now = time.monotonic()
            if on_progress is not None and now - last > 0.5:
                last = now
                on_progress(total, now - t0)
        unpack.stdin.write_eof()
        await pack.wait_closed()
        await unpack.wait_closed()
    except (asyncssh.Error, OSError, BrokenPipeError) as exc:
        return CopyResult(total, time.monotonic() - t0, f"the copy was cut: {exc}")
    finally:
        for t in err_tasks:
            t.cancel()
    said = strip_control(b"".join(errors).decode("utf-8", "replace").strip().replace("\n", "; "))
    if pack.exit_status != 0:
        return CopyResult(
            total,
            time.monotonic() - t0,
            f"reading the backup failed ({said[:300] or pack.exit_status})",
        )
    if unpack.exit_status != 0:
        return CopyResult(
            total,
            time.monotonic() - t0,
            f"writing the backup failed ({said[:300] or unpack.exit_status})",
        )
    if on_progress is not None:
        on_progress(total, time.monotonic() - t0)
    return CopyResult(total, time.monotonic() - t0)


async def copy_backup_onto(
    target: BackupTarget,
    label: str,
    node: Any,
    dest: str,
    since: str,
    options: Any,
    *,
    on_progress: Callable[[int, float], None] | None = None,
) -> tuple[CopyResult, Verification]:
    """The backup ``label`` from the backup server into ``dest`` on ``node`` (a
    ``tasks.servers.inventory.Node``), then every part listed there (the copy's evidence)."""
    from tasks.release.backup import verify_tree
    from tasks.servers.runner import ssh_runner
    from tasks.servers.ssh import SshTarget, open_node

    source = f"{target.remote_dir.rstrip('/')}/{validate_label(label)}"
    async with (
        open_node(SshTarget(target.ssh_host, target.ssh_port, target.ssh_user), options) as src,
        open_node(SshTarget.of(node), options) as dst,
    ):
        copied = await copy_backup(src, source, dst, dest, on_progress=on_progress)
    async with ssh_runner(node.host, node.port, node.user, options, key_file=node.key_file) as run:
        found = await verify_tree(run, node.name, dest, label, since)
    return copied, found


# -- what the restore's log says ---------------------------------------------------------

# Lines the real 1.3 restore prints when a part failed (it has no `set -e` and goes on).
_PROBLEM = regex(
    r"^Skipped\.$"
    r"|^Error\b"
    r"|\bFailed:"
    r"|snapshot_missing_exception|snapshot_restore_exception|index_not_found_exception"
    r"|Cannot open: No such file"
    r"|No such file or directory"
    r"|: command not found",
    re.IGNORECASE,
)
# Printed on every fresh install and harmless (the script says so itself).
_HARMLESS = regex(r"repository_missing_exception|Just ignore it", re.IGNORECASE)


def restore_problems(log_text: str, limit: int = 12) -> list[str]:
    """The lines of a restore's output that say a part was not restored."""
    from tasks.text import strip_control

    found: list[str] = []
    for raw in log_text.splitlines():
        line = strip_control(raw).strip()
        if not line or _HARMLESS.search(line):
            continue
        if _PROBLEM.search(line):
            found.append(line[:200])
            if len(found) >= limit:
                break
    return found


def skipped(log_text: str) -> bool:
    """The restore answered its prompts "no" and restored nothing (it still exits 0)."""
    return any(line.strip() == "Skipped." for line in log_text.splitlines())


def typed_host_matches(typed: str, host: str, *aliases: str) -> bool:
    """The operator typed the host (or one of its names) exactly."""
    typed = typed.strip()
    return bool(typed) and typed in {validate_host(host), *[a for a in aliases if a]}
