"""Cluster health benchmark: whole-process time of ``crvs-migrate health --json`` against
1, 10 and 50 loopback nodes (target: 50 nodes within 1.5x of 1 node), and side by side
``ansible all -m raw`` and ``ansible all -m shell`` running the same commands with
forks = node count (ansible-core installed into its own venv, see ``ansible_bin``).

All nodes are one real OpenSSH sshd listening on 127.0.1.1 ... 127.0.1.50 (one address
per node, so each is a separate connection and known_hosts entry), logging in as the
unprivileged test user. Run: ``./dev.sh bench -k health``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.servers.health import HealthPolicy, probes_for
from tasks.servers.inventory import Node, Role
from tests.support.sshd import Sshd, ensure_test_user, make_key, shared_tempdir, sshd_available

SIZES = (1, 10, 50)
REPEAT = 3
ANSIBLE_VENV = Path(
    os.environ.get(
        "CRVS_BENCH_ANSIBLE_VENV", Path.home() / ".cache" / "crvs-migrate" / "bench-ansible"
    )
)


def ansible_bin() -> Path | None:
    """ansible in its own venv (installed once with uv, else pip); None when that fails."""
    exe = ANSIBLE_VENV / "bin" / "ansible"
    if exe.exists():
        return exe
    try:
        if shutil.which("uv"):
            subprocess.run(
                ["uv", "venv", "-q", "-p", sys.executable, str(ANSIBLE_VENV)],
                check=True,
                timeout=120,
            )
            subprocess.run(
                [
                    "uv",
                    "pip",
                    "install",
                    "-q",
                    "-p",
                    str(ANSIBLE_VENV / "bin" / "python"),
                    "ansible-core",
                ],
                check=True,
                timeout=600,
            )
        else:
            subprocess.run(
                [sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True, timeout=120
            )
            subprocess.run(
                [str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", "ansible-core"],
                check=True,
                timeout=600,
            )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"ansible-core could not be installed ({exc}); ansible columns skipped")
        return None
    return exe if exe.exists() else None


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str, float]:
    """Median wall time, last exit code and output tail, median CPU time of the process itself.

    The CPU time (user + sys of the measured process and its children) separates the
    tool's own cost from the sshd work, which on loopback shares the same CPUs.
    """
    import resource

    # one untimed warm-up run: page cache, .pyc files, ansible's first-run setup
    subprocess.run(argv, capture_output=True, env=env, stdin=subprocess.DEVNULL, timeout=600)
    times, cpus, code, err = [], [], 0, ""
    for _ in range(REPEAT):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        out = subprocess.run(
            argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=600
        )
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        code, err = out.returncode, (out.stdout + out.stderr)[-1500:]
    return statistics.median(times), code, err, statistics.median(cpus)


@pytest.fixture(scope="module")
def cluster():
    reason = sshd_available()
    if reason:
        pytest.skip(reason)
    user = ensure_test_user()
    work = shared_tempdir("crvs-bench-")
    client = make_key(work / "client" / "id_ed25519")
    addresses = [f"127.0.1.{i}" for i in range(1, max(SIZES) + 1)]
    host_key = make_key(work / "ssh_host_ed25519_key", "host")
    # sshd listens on at most 16 sockets (MAX_LISTEN_SOCKS): one sshd per 16 nodes.
    servers = [
        Sshd(
            work / f"sshd-{i}",
            user,
            client,
            addresses[i],
            host_key=host_key,
            listen=addresses[i : i + 16],
            log_level="ERROR",
        ).start()
        for i in range(0, len(addresses), 16)
    ]
    nodes = [(a, servers[i // 16].port) for i, a in enumerate(addresses)]
    known_hosts = work / "known_hosts"
    known_hosts.write_text("".join(f"[{a}]:{p} {host_key.public_line}\n" for a, p in nodes))
    yield nodes, user, client, known_hosts, work
    for server in servers:
        server.stop()
    shutil.rmtree(work, ignore_errors=True)


def write_inventory(
    path: Path, nodes: list[tuple[str, int]], user: str, key: Path, known_hosts: Path
) -> None:
    a, p = nodes[0]
    lines = [
        "[docker-manager-first]",
        f"node1 ansible_host={a} ansible_port={p}",
        "",
        "[docker-workers]",
    ]
    lines += [
        f"node{i + 1} ansible_host={a} ansible_port={p}" for i, (a, p) in enumerate(nodes[1:], 1)
    ]
    lines += [
        "",
        "[all:vars]",
        f"ansible_user={user}",
        f"ansible_ssh_private_key_file={key}",
        "ansible_python_interpreter=/usr/bin/python3",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o ControlMaster=no -o ControlPath=none'",
    ]
    path.write_text("\n".join(lines) + "\n")


def same_commands() -> str:
    """What crvs-migrate runs on a manager, as one shell line for ansible."""
    probes = probes_for(Node("m", "h", Role.MANAGER), HealthPolicy())
    # {% raw %}: ansible templates its arguments, and docker's --format is Go-template text
    # (not first: -a text starting with "{" is read as JSON)
    return "true; {% raw %}" + "; ".join(shlex.join(p.argv) for p in probes) + "; true{% endraw %}"


@pytest.mark.timeout(3600)
def test_bench_health(cluster) -> None:
    nodes, user, client, known_hosts, work = cluster
    ansible = ansible_bin()
    crvs = shutil.which("crvs-migrate", path=str(Path(sys.executable).parent)) or "crvs-migrate"
    rows = []
    for n in SIZES:
        inv = work / f"inventory-{n}.ini"
        write_inventory(inv, nodes[:n], user, client.private, known_hosts)
        ours, code, err, ours_cpu = timed(
            [
                crvs,
                "health",
                "--json",
                "--inventory",
                str(inv),
                "--known-hosts",
                str(known_hosts),
                "--ssh-config",
                str(work / "no-config"),
            ]
        )
        assert code in (0, 1), err  # no /data on this machine: warnings, never failures
        row = {"nodes": n, "crvs": ours, "crvs_cpu": ours_cpu}
        print(f"  {n} nodes: crvs-migrate {ours:.2f}s (its own CPU {ours_cpu:.2f}s)", flush=True)
        if ansible is not None:
            env = {
                **os.environ,
                "ANSIBLE_HOST_KEY_CHECKING": "True",
                "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
            }
            for module in ("raw", "shell"):
                t, code, err, _cpu = timed(
                    [
                        str(ansible),
                        "all",
                        "-i",
                        str(inv),
                        "-f",
                        str(n),
                        "-m",
                        module,
                        "-a",
                        same_commands(),
                    ],
                    env,
                )
                assert code == 0, err
                row[module] = t
                print(f"  {n} nodes: ansible -m {module} {t:.2f}s", flush=True)
        rows.append(row)
    print()
    print(f"Cluster health, whole-process wall time (median of {REPEAT} runs), sshd on loopback")
    header = f"{'nodes':>5}  {'crvs-migrate':>12}  {'ansible raw':>11}  {'ansible shell':>13}  {'raw/crvs':>8}  {'shell/crvs':>10}"
    print(header)
    for r in rows:
        raw, shell = r.get("raw"), r.get("shell")
        print(
            f"{r['nodes']:>5}  {r['crvs']:>11.2f}s  "
            + (
                f"{raw:>10.2f}s  {shell:>12.2f}s  {raw / r['crvs']:>7.1f}x  {shell / r['crvs']:>9.1f}x"
                if raw
                else "   (ansible not available)"
            )
        )
    # Other work on the machine skews every figure: say how busy it was.
    print(
        "load average (1, 5, 15 min) at the end: {:.1f} {:.1f} {:.1f} on {} CPUs".format(
            *os.getloadavg(), os.cpu_count()
        )
    )
    scale = rows[-1]["crvs"] / rows[0]["crvs"]
    cpu_scale = rows[-1]["crvs_cpu"] / rows[0]["crvs_cpu"]
    print(
        f"crvs-migrate {SIZES[-1]} nodes / 1 node: wall {scale:.2f}x (target <= 1.5x), own CPU {cpu_scale:.2f}x"
    )
    print(
        "  (on loopback the nodes' sshd work runs on the same CPUs as the client; on real servers it runs on theirs)"
    )
