"""A directory laid out like <remote_dir>/<label> after emergency-backup-metadata.sh (1.3)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tasks.release.backup import MONGO_DATABASES


def make_backup_dir(remote_dir: Path, label: str) -> Path:
    base = remote_dir / label
    for db in MONGO_DATABASES:
        _file(base / "mongo" / f"{db}-{label}.gz", b"\x1f\x8b gzip mongodump archive")
    es = base / "elasticsearch"
    _file(
        es / "index-0",
        json.dumps({"snapshots": [{"name": f"snapshot_{label}", "uuid": "u1"}]}).encode(),
    )
    _file(es / "index.latest", b"\x00\x00\x00\x00\x00\x00\x00\x00")
    _file(es / "snap-u1.dat", b"snapshot metadata")
    _file(es / "indices" / "abc" / "0" / "__1", b"segment data")
    influx = base / "influxdb" / label
    _file(influx / "20240502T120000Z.meta", b"influx meta")
    _file(influx / "20240502T120000Z.s1.tar.gz", b"influx shard")
    for kind in ("minio", "metabase", "vsexport"):
        _file(base / kind / f"ocrvs-{label}.tar.gz", b"\x1f\x8b tarball")
    return base


def _file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def break_part(base: Path, label: str, part_path: str, how: str) -> None:
    """Make one expected part missing, empty or old."""
    path = base / part_path
    if how == "missing":
        if path.is_dir():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()
    elif how == "empty":
        targets = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for t in targets:
            t.write_bytes(b"")
    elif how == "old":
        old = time.time() - 3 * 86400
        targets = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for t in targets:
            os.utime(t, (old, old))
    else:
        raise ValueError(how)
