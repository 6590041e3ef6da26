"""The demo servers' side of detached runs, backups and restores (``tasks.demo.cluster``).

The demo cluster's nodes are in-process SSH servers, not shells. They answer the constant
scripts of ``tasks.servers.detached`` (start, status, follow, cancel) by running the
command here, as an asyncio task that writes its log into ``<cluster>/runs/<node>/<id>/``,
so the app starts, follows, loses and reattaches demo runs exactly as it does real ones.

What the commands do, for real, on the demo's files:

* ``emergency-backup-metadata.sh`` on manager1 writes the backup tree, laid out as the
  real script leaves it, into the backup server's ``<remote_dir>/<label>`` (the demo
  backup server's files are ``<cluster>/backup-fs``);
* the backup server's ``tar -cf - .`` packs it, and the QA manager's untar writes it into
  its own ``/data/backups`` (``<cluster>/fs/qa1/data/backups``), as ``copy_backup`` streams;
* ``emergency-restore-metadata.sh`` on qa1 (or manager1, in a rollback) answers its two
  prompts from the run's stdin and reads the parts back from that ``/data/backups``: a
  missing part is printed as the real script prints it (and, like it, exits 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import field
from pathlib import Path
from typing import Any

from tasks.lean import dataclass
from tasks.release.backup import MONGO_DATABASES
from tasks.session.state import now_iso

BACKUP_REMOTE_DIR = "/home/backup/opencrvs"
Log = Callable[[str], None]
Action = Callable[[Log, str], Awaitable[int]]
# Seconds between the lines a demo script prints (a real backup takes minutes).
STEP_S = 0.15


@dataclass
class DemoRun:
    dir: Path
    task: asyncio.Task[None] | None = None
    exit_code: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class DemoRuns:
    """Runs per node, kept under ``root/<node>/<run id>/`` (log, status)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs: dict[tuple[str, str], DemoRun] = {}
        self._pid = 4000

    def start(
        self, node: str, run_id: str, stdin_text: str, action: Action
    ) -> tuple[str, str, int]:
        where = self.root / node / run_id
        if where.exists():
            return "", f"crvs-migrate: run {run_id} already exists\n", 3
        where.mkdir(parents=True, mode=0o700)
        (where / "log").write_bytes(b"")
        (where / "started").write_text(now_iso() + "\n")
        run = DemoRun(where)
        self.runs[(node, run_id)] = run
        self._pid += 1
        (where / "pid").write_text(f"{self._pid}\n")

        def log(line: str) -> None:
            with (where / "log").open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

        async def body() -> None:
            code = 1
            try:
                code = await action(log, stdin_text)
            except asyncio.CancelledError:
                code = 143
            except Exception as exc:  # noqa: BLE001 - a demo command failing is its output
                log(f"demo: {exc}")
                code = 1
            finally:
                run.exit_code = code
                (where / "finished").write_text(now_iso() + "\n")
                (where / "status").write_text(f"{code}\n")
                run.done.set()

        run.task = asyncio.ensure_future(body())
        return f"{self._pid}\n", "", 0

    def _run(self, node: str, run_id: str) -> DemoRun | None:
        return self.runs.get((node, run_id))

    def status(self, node: str, run_id: str) -> str:
        where = self.root / node / run_id
        if not where.is_dir():
            return "found=no\n"
        run = self._run(node, run_id)
        alive = run is not None and not run.done.is_set()
        lines = ["found=yes", f"alive={'yes' if alive else 'no'}"]
        status = where / "status"
        if status.exists():
            lines.append(f"exit={status.read_text().strip()}")
        lines.append(f"size={(where / 'log').stat().st_size}")
        for name in ("started", "finished"):
            path = where / name
            lines.append(f"{name}={path.read_text().strip() if path.exists() else ''}")
        return "\n".join(lines) + "\n"

    async def follow(
        self, node: str, run_id: str, offset: int, write: Callable[[bytes], Any]
    ) -> int:
        where = self.root / node / run_id
        if not where.is_dir():
            return 4
        run = self._run(node, run_id)
        log = where / "log"
        position = offset
        while True:
            finished = run is None or run.done.is_set()
            with log.open("rb") as fh:
                fh.seek(position)
                data = fh.read()
            if data:
                position += len(data)
                write(data)
            if finished:
                return 0
            await asyncio.sleep(0.1)

    def cancel(self, node: str, run_id: str) -> int:
        run = self._run(node, run_id)
        if run is None or run.task is None:
            return 4
        run.task.cancel()
        return 0

    async def stop(self) -> None:
        for run in self.runs.values():
            if run.task is not None and not run.task.done():
                run.task.cancel()
                with contextlib.suppress(BaseException):
                    await run.task


def build_backup_tree(backup_fs: Path, label: str, when: float | None = None) -> Path:
    """A backup laid out as emergency-backup-metadata.sh / the nightly cron leave it.

    ``<remote_dir>/<label>/``: ``mongo/<db>-<label>.gz`` for the seven databases,
    ``elasticsearch/`` (a snapshot repository holding ``snapshot_<label>``),
    ``influxdb/<label>/`` (a portable backup), ``minio/ocrvs-<label>.tar.gz``,
    ``metabase/ocrvs-<label>.tar.gz``, ``vsexport/ocrvs-<label>.tar.gz``.
    """
    base = backup_fs / BACKUP_REMOTE_DIR.lstrip("/") / label
    files: dict[str, bytes] = {}
    for db in MONGO_DATABASES:
        files[f"mongo/{db}-{label}.gz"] = (
            b"\x1f\x8b\x08\x00" + f"mongodump {db} {label}".encode() * 40
        )
    files["elasticsearch/index-0"] = json.dumps(
        {"snapshots": [{"name": f"snapshot_{label}", "uuid": "q1Xo9cV2Rb2v0nNn9bQbIw", "state": 1}]}
    ).encode()
    files["elasticsearch/index.latest"] = b"\x00\x00\x00\x00\x00\x00\x00\x00"
    files["elasticsearch/snap-q1Xo9cV2Rb2v0nNn9bQbIw.dat"] = b"snapshot metadata" * 30
    files["elasticsearch/meta-q1Xo9cV2Rb2v0nNn9bQbIw.dat"] = b"cluster metadata" * 30
    files["elasticsearch/indices/Zx3pQm/0/__aB1"] = b"lucene segment" * 200
    stamp = label.replace("-", "") + "T000000Z"
    files[f"influxdb/{label}/{stamp}.meta"] = b"influx meta" * 20
    files[f"influxdb/{label}/{stamp}.manifest"] = json.dumps(
        {"files": [f"{stamp}.s1.tar.gz"]}
    ).encode()
    files[f"influxdb/{label}/{stamp}.s1.tar.gz"] = b"\x1f\x8b\x08\x00" + b"tsm" * 300
    for kind in ("minio", "metabase", "vsexport"):
        files[f"{kind}/ocrvs-{label}.tar.gz"] = b"\x1f\x8b\x08\x00" + kind.encode() * 500
    for rel, data in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if when is not None:
            os.utime(path, (when, when))
    return base


def flags(argv: list[str]) -> dict[str, str]:
    out = {}
    for arg in argv:
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            out[name] = value
    return out


def backup_action(backup_fs: Path, remote_dir: str, argv: list[str]) -> Action:
    f = flags(argv)

    async def act(log: Log, _stdin: str) -> int:
        label = f.get("label", "")
        for name in ("ssh_user", "ssh_host", "ssh_port", "production_ip", "remote_dir", "replicas"):
            if not f.get(name):
                log(f"Error: Argument for the --{name} is required.")
                log(
                    "Usage: ./emergency-backup-metadata.sh --ssh_user=XXX --ssh_host=XXX "
                    "--ssh_port=XXX --production_ip=XXX --remote_dir=XXX --replicas=XXX --label=XXX"
                )
                return 1
        log(f"Working with {f['replicas']} replicas")
        for db in MONGO_DATABASES:
            await asyncio.sleep(STEP_S)
            log(f"{now_iso()}\twriting {db} to archive '/data/backups/mongo/{db}-{label}.gz'")
            log(f"{now_iso()}\tdone dumping {db}")
        if label != label.lower():
            log(
                '{"error":{"root_cause":[{"type":"invalid_snapshot_name_exception","reason":"'
                f"[snapshot_{label}] Invalid snapshot name, must be lowercase" + '"}]}}'
            )
            log("Failed to backup Elasticsearch. Trying again in...")
            return 1
        await asyncio.sleep(STEP_S)
        log("Backup Elasticsearch as a set of snapshot files into an elasticsearch sub folder")
        log('{"snapshot":{"snapshot":"snapshot_' + label + '","state":"SUCCESS"}}')
        log("Backing up Influx on own node")
        for kind in ("Minio", "Metabase", "VSExport"):
            await asyncio.sleep(STEP_S)
            log(f"Creating a backup for {kind}")
        if f["remote_dir"].rstrip("/") != remote_dir:
            # What the real rsync says when the directory is not the backup server's.
            log(f'rsync: mkdir "{f["remote_dir"]}/{label}" failed: Permission denied (13)')
            return 23
        build_backup_tree(backup_fs, label)
        for part in (
            "elasticsearch",
            "minio",
            "Metabase",
            "VSExport",
            "influx",
            "hearth",
            "user",
            "openhim",
            "application-config",
            "metrics",
            "webhooks",
            "performance",
        ):
            await asyncio.sleep(STEP_S / 3)
            log(f"Copied {part} backup files to remote server.")
        return 0

    return act


def restore_action(data_root: Path, argv: list[str]) -> Action:
    f = flags(argv)

    async def act(log: Log, stdin_text: str) -> int:
        label = f.get("label", "")
        if not label:
            log("Error: Argument for the --label is required.")
            return 1
        if not f.get("replicas"):
            log("Error: Argument for the --replicas is required.")
            return 1
        answers = stdin_text.splitlines()
        if len(answers) < 2 or any(a.strip().lower() not in ("y", "yes") for a in answers[:2]):
            log("Skipped.")
            return 0
        backups = data_root / "backups"
        log(f"Working with {f['replicas']} replica" + ("s" if f["replicas"] != "1" else ""))
        for db in MONGO_DATABASES:
            await asyncio.sleep(STEP_S)
            log(f'{{ "dropped" : "{db}", "ok" : 1 }}')
        log(
            "delete any previously created snapshot if any.  This may error on a fresh install "
            "with a repository_missing_exception error.  Just ignore it."
        )
        for db in MONGO_DATABASES:
            await asyncio.sleep(STEP_S)
            archive = backups / "mongo" / f"{db}-{label}.gz"
            if archive.is_file() and archive.stat().st_size:
                log(f"{now_iso()}\tfinished restoring {db} (0 failures)")
            else:
                log(
                    f"{now_iso()}\tFailed: open /data/backups/mongo/{db}-{label}.gz: no such file or directory"
                )
        index = backups / "elasticsearch" / "index-0"
        if index.is_file() and f'"snapshot_{label}"' in index.read_text(errors="replace"):
            log('{"accepted" : true}')
        else:
            log(
                '{"error":{"type":"snapshot_missing_exception","reason":"[ocrvs:snapshot_'
                + label
                + '] is missing"},"status":404}'
            )
        influx = backups / "influxdb" / label
        if influx.is_dir() and any(influx.iterdir()):
            log(f"Restoring shard 1 into ocrvs from /data/backups/influxdb/{label}")
        else:
            log(f"influxd restore: /data/backups/influxdb/{label}: no such file or directory")
        for kind in ("minio", "metabase", "vsexport"):
            tarball = backups / kind / f"ocrvs-{label}.tar.gz"
            if not tarball.is_file():
                log(
                    f"tar: /data/backups/{kind}/ocrvs-{label}.tar.gz: Cannot open: No such file or directory"
                )
        await asyncio.sleep(STEP_S)
        log("opencrvs_migration")
        log("overall progress: 1 out of 1 tasks")
        log("verify: Service converged")
        return 0  # as the real script: the last command's status, whatever failed before

    return act


def service_update_action(service: str) -> Action:
    async def act(log: Log, _stdin: str) -> int:
        log(service)
        for n in (1, 1):
            await asyncio.sleep(STEP_S)
            log(f"overall progress: {n} out of 1 tasks")
        log("verify: Service converged")
        return 0

    return act


async def untar(root: Path, dest: str, data: bytes) -> tuple[str, str, int]:
    """The QA manager's side of copy_backup, for real, into the node's files."""
    target = _mapped(root, dest)
    if target is None:
        return "", f"mkdir: cannot create directory '{dest}': Permission denied\n", 1
    target.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target / "elasticsearch", ignore_errors=True)
    proc = await asyncio.create_subprocess_exec(
        "tar",
        "-C",
        str(target),
        "-xf",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
    )
    out, err = await proc.communicate(data)
    return out.decode(errors="replace"), err.decode(errors="replace"), proc.returncode or 0


async def pack(root: Path, base: str) -> tuple[bytes, str, int]:
    """The backup server's side of copy_backup: ``tar --format=posix -C base -cf - .``."""
    source = _mapped(root, base)
    if source is None or not source.is_dir():
        return b"", f"tar: {base}: Cannot open: No such file or directory\n", 2
    proc = await asyncio.create_subprocess_exec(
        "tar",
        "--format=posix",
        "-C",
        str(source),
        "-cf",
        "-",
        ".",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
    )
    out, err = await proc.communicate()
    return out, err.decode(errors="replace"), proc.returncode or 0


def _mapped(root: Path, path: str) -> Path | None:
    real = os.path.normpath(str(root.resolve()) + "/" + path.lstrip("/"))
    base = str(root.resolve())
    if real != base and not real.startswith(base + "/"):
        return None
    return Path(real)
