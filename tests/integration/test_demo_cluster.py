"""The demo cluster: in-process asyncssh servers reached through tasks.servers.ssh, and the headless CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tasks.demo.cluster import BACKUP_REMOTE_DIR, MONGO_DATABASES, DemoCluster, backup_label
from tasks.servers.inventory import Role, load_inventory
from tasks.servers.ssh import FailureKind, SshFailure, open_node, run, trust_host_key


async def test_backup_server_serves_a_real_backup_tree(tmp_path: Path) -> None:
    async with DemoCluster(tmp_path / "cluster") as cluster:
        inventory = load_inventory(cluster.files.inventory("production"))
        backup = inventory.backup_server()
        assert backup is not None and backup.role is Role.BACKUP and backup.user == "backup"
        options = cluster.ssh_options()
        try:
            async with open_node(backup, options):
                raise AssertionError("the backup key must start untrusted")
        except SshFailure as exc:
            assert exc.kind is FailureKind.UNKNOWN_HOST_KEY
            trust_host_key(options.known_hosts, exc.host_key)
        label = backup_label()
        base = f"{BACKUP_REMOTE_DIR}/{label}"
        async with open_node(backup, options) as conn:
            found = await run(conn, ["find", base, "-type", "f", "-printf", "%s %p\n"])
            files = {
                line.split(" ", 1)[1]: int(line.split(" ", 1)[0])
                for line in found.stdout.splitlines()
            }
            for db in MONGO_DATABASES:
                assert files[f"{base}/mongo/{db}-{label}.gz"] > 0
            for kind in ("minio", "metabase", "vsexport"):
                assert files[f"{base}/{kind}/ocrvs-{label}.tar.gz"] > 0
            assert any(p.startswith(f"{base}/influxdb/{label}/") for p in files)
            index = await run(conn, ["cat", f"{base}/elasticsearch/index-0"])
            assert f"snapshot_{label}" in index.stdout
            stat = await run(conn, ["stat", "-c", "%s %Y %n", f"{base}/minio/ocrvs-{label}.tar.gz"])
            size, mtime, name = stat.stdout.split()
            assert name == f"{base}/minio/ocrvs-{label}.tar.gz" and time.time() - int(mtime) > 3600
            escape = await run(conn, ["ls", "/../../etc"])
            assert escape.exit_status != 0 and "Permission denied" in escape.stderr
            exec_ = await run(conn, ["find", "/", "-exec", "id", ";"])
            assert exec_.exit_status != 0 and "not allowed" in exec_.stderr


def test_cli_on_demo_qa_passes_and_production_warns(tmp_path: Path) -> None:
    root = tmp_path / "cluster"
    server = subprocess.Popen(
        [sys.executable, "-m", "tasks.demo.cluster", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not (root / "README.txt").exists():
            assert time.monotonic() < deadline and server.poll() is None, (
                "demo cluster did not start"
            )
            time.sleep(0.05)
        common = [
            "--ssh-config",
            str(root / "ssh_config"),
            "--known-hosts",
            str(root / "known_hosts"),
            "--json",
        ]

        def cli(env: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "tui", "health", "-i", str(root / f"{env}.ini"), *common],
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )

        qa = cli("qa")
        assert qa.returncode == 0, qa.stdout + qa.stderr
        assert json.loads(qa.stdout)["nodes"][0]["checks"][-1]["summary"].startswith("1/1 nodes")
        prod = cli("production")
        data = json.loads(prod.stdout)
        status = {n["node"]["name"]: n["status"] for n in data["nodes"]}
        # worker2 near the disk threshold; the backup server's key is not trusted yet
        assert status == {
            "manager1": "pass",
            "worker1": "pass",
            "worker2": "warn",
            "backup": "untrusted",
        }
        assert prod.returncode == 2
    finally:
        server.terminate()
        server.wait(timeout=10)
