"""The emergency backup: the commands that take and restore it, and proof that it is stored.

``emergency-backup-metadata.sh`` (country config 1.3.1 and later) dumps the seven
MongoDB databases, snapshots Elasticsearch as ``snapshot_<label>``, takes a portable
InfluxDB backup and tars MinIO, Metabase and vsexport under the manager's
``/data/backups``, then rsyncs them to ``<remote_dir>/<label>`` on the backup server,
laid out as ``expected_parts``. ``emergency-restore-metadata.sh`` reads the same
layout from the QA manager's own ``${ROOT_PATH:-/data}/backups`` (it never contacts
the backup server), so the backup is copied there first.

Both scripts live where deploy.sh copies the country config's ``infrastructure/``:
``/opt/opencrvs/infrastructure/`` on the manager it deployed (``DEFAULT_SCRIPTS_DIR``;
the operator may name another directory, and the app checks the script is there before
running it).

Verification lists a directory over SSH (one ``find``) and checks each part is there,
non-empty and modified after the gate was opened. A missing, empty or stale part names
itself.
"""

from __future__ import annotations

from dataclasses import field
from datetime import UTC, datetime

from tasks.errors import CrvsError
from tasks.lean import dataclass, regex
from tasks.names import (
    validate_host,
    validate_label,
    validate_port,
    validate_remote_dir,
    validate_replicas,
    validate_user,
)
from tasks.servers.runner import RemoteRun
from tasks.session.state import now_iso

# Where deploy.sh puts infrastructure/ on the manager it deploys (country config 1.3.x).
DEFAULT_SCRIPTS_DIR = "/opt/opencrvs/infrastructure"
BACKUP_SCRIPT_NAME = "emergency-backup-metadata.sh"
RESTORE_SCRIPT_NAME = "emergency-restore-metadata.sh"
BACKUP_SCRIPT = f"{DEFAULT_SCRIPTS_DIR}/{BACKUP_SCRIPT_NAME}"
RESTORE_SCRIPT = f"{DEFAULT_SCRIPTS_DIR}/{RESTORE_SCRIPT_NAME}"
MONGO_DATABASES = (
    "hearth-dev",
    "openhim-dev",
    "user-mgnt",
    "application-config",
    "metrics",
    "webhooks",
    "performance",
)


@dataclass(frozen=True)
class Part:
    """One piece of the backup, ``path`` relative to ``<remote_dir>/<label>``."""

    name: str
    path: str
    # A directory must hold at least one non-empty file; a file must be non-empty.
    is_dir: bool = False


def expected_parts(label: str) -> tuple[Part, ...]:
    parts = [Part(f"MongoDB {db}", f"mongo/{db}-{label}.gz") for db in MONGO_DATABASES]
    parts += [
        Part(f"Elasticsearch snapshot_{label}", "elasticsearch", is_dir=True),
        Part("InfluxDB backup", f"influxdb/{label}", is_dir=True),
        Part("MinIO archive", f"minio/ocrvs-{label}.tar.gz"),
        Part("Metabase archive", f"metabase/ocrvs-{label}.tar.gz"),
        Part("vsexport archive", f"vsexport/ocrvs-{label}.tar.gz"),
    ]
    return tuple(parts)


def suggest_label(target_version: str, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    return f"before-v{target_version}-{when:%Y%m%d}".lower()


@dataclass(frozen=True)
class BackupTarget:
    """Where the backup goes: the backup server and its directory (from the inventory vars)."""

    ssh_user: str
    ssh_host: str
    ssh_port: int
    remote_dir: str
    production_ip: str
    replicas: int

    def validated(self) -> BackupTarget:
        validate_user(self.ssh_user)
        validate_host(self.ssh_host)
        validate_host(self.production_ip)
        validate_port(self.ssh_port)
        validate_replicas(self.replicas)
        validate_remote_dir(self.remote_dir)
        return self


def script_path(scripts_dir: str, name: str) -> str:
    return f"{validate_remote_dir(scripts_dir or DEFAULT_SCRIPTS_DIR).rstrip('/')}/{name}"


def backup_argv(
    target: BackupTarget, label: str, scripts_dir: str = DEFAULT_SCRIPTS_DIR
) -> list[str]:
    """The command to run as root on the production manager."""
    target = target.validated()
    return [
        "bash",
        script_path(scripts_dir, BACKUP_SCRIPT_NAME),
        f"--ssh_user={target.ssh_user}",
        f"--ssh_host={target.ssh_host}",
        f"--ssh_port={target.ssh_port}",
        f"--production_ip={target.production_ip}",
        f"--remote_dir={validate_remote_dir(target.remote_dir)}",
        f"--replicas={target.replicas}",
        f"--label={validate_label(label)}",
    ]


def restore_argv(label: str, replicas: int, scripts_dir: str = DEFAULT_SCRIPTS_DIR) -> list[str]:
    """The restore. It DROPS every database first: only onto the environment it restores."""
    return [
        "bash",
        script_path(scripts_dir, RESTORE_SCRIPT_NAME),
        f"--label={validate_label(label)}",
        f"--replicas={validate_replicas(replicas)}",
    ]


# -- verification on the backup server --------------------------------------


def listing_argv(remote_dir: str, label: str) -> list[str]:
    """Every file under <remote_dir>/<label> as type, size, mtime, path (GNU find, as on Ubuntu)."""
    return tree_listing_argv(f"{validate_remote_dir(remote_dir)}/{validate_label(label)}")


def tree_listing_argv(base: str) -> list[str]:
    return [
        "find",
        validate_remote_dir(base),
        "-mindepth",
        "1",
        "-printf",
        "%y\\t%s\\t%T@\\t%P\\n",
    ]


_ES_INDEX = regex(r"^elasticsearch/index-\d+$")
# Enough of the repository index to find a snapshot name (real ones are a few KiB).
_INDEX_READ = 4 * 1024 * 1024


def snapshot_index_argv(base: str, files: list[RemoteFile]) -> list[str] | None:
    """Read the Elasticsearch repository index files (``index-N``) found by the listing."""
    base = validate_remote_dir(base)
    paths = [f"{base}/{f.path}" for f in files if f.kind == "f" and _ES_INDEX.match(f.path)]
    if not paths:
        return None
    return ["head", "-c", str(_INDEX_READ), "--", *paths]


@dataclass(frozen=True)
class RemoteFile:
    kind: str  # "f" file, "d" directory
    size: int
    mtime: float
    path: str


def parse_listing(text: str) -> list[RemoteFile]:
    files: list[RemoteFile] = []
    for line in text.splitlines():
        cols = line.split("\t", 3)
        if len(cols) != 4:
            continue
        try:
            files.append(RemoteFile(cols[0], int(cols[1]), float(cols[2]), cols[3]))
        except ValueError:
            continue
    return files


@dataclass
class PartResult:
    name: str
    path: str
    ok: bool
    problem: str = ""
    size: int = 0
    mtime: str = ""


@dataclass
class Verification:
    host: str
    remote_dir: str
    label: str
    since: str
    parts: list[PartResult] = field(default_factory=list)
    verified_at: str = field(default_factory=now_iso)
    error: str = ""
    # The directory listed: <remote_dir>/<label> on the backup server, <root>/backups on QA.
    base: str = ""
    seal: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.parts) and all(p.ok for p in self.parts)

    @property
    def problems(self) -> list[str]:
        if self.error:
            return [self.error]
        return [f"{p.name}: {p.problem}" for p in self.parts if not p.ok]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def parse_iso(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def judge_parts(
    files: list[RemoteFile], snapshot_named: bool, label: str, since: str
) -> list[PartResult]:
    """Each expected part: present, non-empty, modified after ``since``."""
    since_ts = parse_iso(since)
    by_path = {f.path: f for f in files}
    results = []
    for part in expected_parts(label):
        entry = by_path.get(part.path)
        if entry is None:
            results.append(PartResult(part.name, part.path, False, "missing"))
            continue
        if part.is_dir:
            inside = [f for f in files if f.kind == "f" and f.path.startswith(part.path + "/")]
            size = sum(f.size for f in inside)
            newest = max((f.mtime for f in inside), default=entry.mtime)
            if entry.kind != "d":
                res = PartResult(part.name, part.path, False, "is not a directory")
            elif size == 0:
                res = PartResult(part.name, part.path, False, "empty")
            elif newest <= since_ts:
                res = PartResult(
                    part.name,
                    part.path,
                    False,
                    f"older than the gate (last changed {_iso(newest)})",
                )
            elif part.path == "elasticsearch" and not snapshot_named:
                res = PartResult(
                    part.name, part.path, False, f"no repository index names snapshot_{label}"
                )
            else:
                res = PartResult(part.name, part.path, True)
            res.size, res.mtime = size, _iso(newest)
        else:
            if entry.kind != "f":
                res = PartResult(part.name, part.path, False, "is not a file")
            elif entry.size == 0:
                res = PartResult(part.name, part.path, False, "empty")
            elif entry.mtime <= since_ts:
                res = PartResult(
                    part.name,
                    part.path,
                    False,
                    f"older than the gate (last changed {_iso(entry.mtime)})",
                )
            else:
                res = PartResult(part.name, part.path, True)
            res.size, res.mtime = entry.size, _iso(entry.mtime)
        results.append(res)
    return results


async def verify_backup(
    run: RemoteRun, host: str, remote_dir: str, label: str, since: str
) -> Verification:
    """List ``<remote_dir>/<label>`` through ``run`` (a command runner on the backup server)."""
    remote_dir = validate_remote_dir(remote_dir)
    label = validate_label(label)
    return await verify_tree(run, host, f"{remote_dir}/{label}", label, since, remote_dir)


async def verify_tree(
    run: RemoteRun, host: str, base: str, label: str, since: str, remote_dir: str = ""
) -> Verification:
    """Every expected part of backup ``label`` under ``base`` (any server's directory)."""
    from tasks.text import strip_control

    base = validate_remote_dir(base)
    label = validate_label(label)
    ver = Verification(
        host=host, remote_dir=remote_dir or base, label=label, since=since, base=base
    )
    try:
        listing = await run(tree_listing_argv(base))
        files = parse_listing(listing.stdout)
        index_argv = snapshot_index_argv(base, files)
        index = await run(index_argv) if index_argv else None
    except CrvsError as exc:
        ver.error = f"could not list the backup on {host}: {strip_control(exc.message)[:300]}"
        return ver
    if not files:
        ver.error = f"{base} does not exist or is empty on {host}"
        return ver
    # The snapshot's name, quoted as the repository index (JSON) stores it.
    named = index is not None and f'"snapshot_{label}"' in index.stdout
    ver.parts = judge_parts(files, named, label, since)
    return ver
