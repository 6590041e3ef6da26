"""Parsers and evaluation of health output: pure functions, real-world samples."""

import pytest

from tasks.servers.health import (
    Health,
    HealthPolicy,
    HealthSnapshot,
    Unparseable,
    evaluate_node,
    exit_code,
    parse_df,
    parse_docker_nodes,
    parse_docker_services,
    parse_loadavg,
    parse_meminfo,
    parse_nproc,
    parse_uptime,
    snapshot_markdown,
)
from tasks.servers.inventory import Node, Role
from tasks.servers.ssh import CommandResult
from tasks.units import GIB

DF = """Filesystem            1-blocks         Used    Available Capacity Mounted on
/dev/sda1          84278861824  34234560512  50027524096      41% /
/dev/mapper/cryptfs 429496729600 305843200000 123653529600      72% /data
"""
MEMINFO = """MemTotal:       16393212 kB
MemFree:         2100000 kB
MemAvailable:    3000000 kB
Buffers:          402116 kB
Cached:          5200000 kB
HugePages_Total:       0
"""


def res(argv, stdout="", stderr="", code=0, timed_out=False):
    return CommandResult(tuple(argv), None if timed_out else code, stdout, stderr, 0.01, timed_out)


def test_parse_df_both_and_missing_data() -> None:
    disks = parse_df(DF)
    assert disks["/"].free_bytes == 50027524096
    assert disks["/data"].mount == "/data" and round(disks["/data"].used_percent) == 71
    only_root = "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/vda 100 40 60 40% /\n"
    assert set(parse_df(only_root)) == {"/"}
    # /data as a plain directory on /: df prints the root filesystem twice
    both = only_root + "/dev/vda 100 40 60 40% /\n"
    assert parse_df(both)["/data"].mount == "/"
    spaced = "Filesystem 1-blocks Used Available Capacity Mounted on\nmy fs name 100 40 60 40% /\n"
    assert parse_df(spaced)["/"].filesystem == "my fs name"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "Filesystem x\n/dev/sda1 a b c d /\n",
        "Filesystem\n/dev/x 1 2 3 4% /elsewhere\n",
    ],
)
def test_parse_df_unparseable(text: str) -> None:
    with pytest.raises(Unparseable):
        parse_df(text)


def test_meminfo_nproc_load_uptime() -> None:
    mem = parse_meminfo(MEMINFO)
    assert mem.total_bytes == 16393212 * 1024 and mem.available_bytes == 3000000 * 1024
    old_kernel = parse_meminfo(
        "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n"
    )
    assert old_kernel.available_bytes == 400 * 1024
    assert parse_nproc("8\n") == 8
    assert parse_loadavg("0.42 0.51 0.48 2/712 48211\n").five == 0.51
    assert parse_uptime("1209600.12 8000000.00\n") == pytest.approx(1209600.12)
    for fn, bad in (
        (parse_meminfo, "MemFree: 1 kB"),
        (parse_nproc, "eight"),
        (parse_nproc, "0"),
        (parse_loadavg, "x y z"),
        (parse_uptime, ""),
    ):
        with pytest.raises(Unparseable):
            fn(bad)


def test_docker_parsers() -> None:
    nodes = parse_docker_nodes("manager1\tReady\tActive\tLeader\nworker1\tDown\tActive\t\n")
    assert [(n.hostname, n.status) for n in nodes] == [("manager1", "Ready"), ("worker1", "Down")]
    services = parse_docker_services(
        "opencrvs_gateway\treplicated\t3/3 (max 1 per node)\nopencrvs_search\treplicated\t0/1\n"
    )
    assert [(s.name, s.running, s.desired) for s in services] == [
        ("opencrvs_gateway", 3, 3),
        ("opencrvs_search", 0, 1),
    ]
    with pytest.raises(Unparseable):
        parse_docker_nodes("ID HOSTNAME STATUS\nabc manager1 Ready\n")
    with pytest.raises(Unparseable):
        parse_docker_services("opencrvs_x\treplicated\tmany\n")


def outputs(df=DF, mem=MEMINFO, nodes=None, services=None, docker_code=0, docker_err=""):
    r = {
        "disk": res(["df"], df),
        "memory": res(["cat"], mem),
        "cpus": res(["nproc"], "8\n"),
        "load": res(["cat"], "0.10 0.20 0.30 1/1 1\n"),
        "uptime": res(["cat"], "100000.0 1.0\n"),
    }
    if nodes is not None:
        r["swarm_nodes"] = res(["docker"], nodes, docker_err, docker_code)
        r["swarm_services"] = res(["docker"], services or "", docker_err, docker_code)
    return r


MANAGER = Node("manager1", "10.0.0.1", Role.MANAGER)
WORKER = Node("worker1", "10.0.0.2", Role.WORKER)
HEALTHY_DF = DF.replace("305843200000 123653529600      72%", "105843200000 323653529600      25%")
HEALTHY_MEM = MEMINFO.replace("MemAvailable:    3000000", "MemAvailable:   9000000")


def test_disk_warn_at_70_and_fail_below_needed() -> None:
    r = evaluate_node(WORKER, outputs(mem=HEALTHY_MEM))
    assert r.check("disk").status is Health.WARN
    assert "/data is 71% used" in r.reason
    tight = HealthPolicy(needed_free_bytes=200 * GIB)
    r = evaluate_node(WORKER, outputs(mem=HEALTHY_MEM), tight)
    assert r.status is Health.FAIL and "upgrade needs" in r.reason
    assert r.resources.disk_free_bytes == 123653529600  # /data, for Prepare


def test_memory_thresholds() -> None:
    r = evaluate_node(WORKER, outputs(df=HEALTHY_DF))
    assert r.check("memory").status is Health.WARN and "82% of memory" in r.reason
    small = "MemTotal: 8000000 kB\nMemAvailable: 7000000 kB\n"
    r = evaluate_node(WORKER, outputs(df=HEALTHY_DF, mem=small))
    assert r.check("memory").status is Health.WARN and "16 GB" in r.reason
    backup = Node("backup", "10.0.0.9", Role.BACKUP)
    assert (
        evaluate_node(backup, outputs(df=HEALTHY_DF, mem=small)).check("memory").status
        is Health.PASS
    )


def test_healthy_manager_and_swarm_problems() -> None:
    nodes = "manager1\tReady\tActive\tLeader\nworker1\tReady\tActive\t\nworker2\tReady\tActive\t\n"
    services = (
        "opencrvs_a\treplicated\t3/3\nopencrvs_migration\treplicated-job\t0/1 (1/1 completed)\n"
    )
    r = evaluate_node(MANAGER, outputs(HEALTHY_DF, HEALTHY_MEM, nodes, services), cluster_size=3)
    assert r.status is Health.PASS, r.reason
    assert r.check("swarm").summary == "3/3 nodes · 2/2 svc"
    r = evaluate_node(
        MANAGER,
        outputs(
            HEALTHY_DF,
            HEALTHY_MEM,
            nodes.replace("worker2\tReady\tActive", "worker2\tDown\tDrain"),
            services,
        ),
        cluster_size=3,
    )
    assert r.status is Health.FAIL and "worker2 is Down/Drain" in r.reason
    r = evaluate_node(MANAGER, outputs(HEALTHY_DF, HEALTHY_MEM, nodes, services), cluster_size=5)
    assert r.status is Health.FAIL and "inventory 5" in r.reason
    r = evaluate_node(
        MANAGER,
        outputs(HEALTHY_DF, HEALTHY_MEM, nodes, "opencrvs_search\treplicated\t0/1\n"),
        cluster_size=3,
    )
    assert r.status is Health.FAIL and "opencrvs_search 0/1" in r.reason


def test_docker_not_available_is_a_clear_state() -> None:
    r = evaluate_node(
        MANAGER, outputs(HEALTHY_DF, HEALTHY_MEM, "", "", 127, "sh: 1: docker: not found\n")
    )
    swarm = r.check("swarm")
    assert swarm.status is Health.UNKNOWN and swarm.summary == "docker n/a"
    assert "docker not available" in r.reason and r.status is Health.WARN
    r = evaluate_node(
        MANAGER,
        outputs(
            HEALTHY_DF,
            HEALTHY_MEM,
            "",
            "",
            1,
            "Error response from daemon: This node is not a swarm manager.",
        ),
    )
    assert r.check("swarm").status is Health.FAIL


def test_unparseable_keeps_raw_and_timeouts() -> None:
    r = evaluate_node(WORKER, outputs(df="\x1b[31m[bold]garbage[/bold]\n", mem=HEALTHY_MEM))
    disk = r.check("disk")
    assert (
        disk.status is Health.UNKNOWN
        and "[bold]garbage[/bold]" in disk.raw
        and "\x1b" not in disk.raw
    )
    o = outputs(df=HEALTHY_DF)
    o["memory"] = res(["cat", "/proc/meminfo"], timed_out=True)
    r = evaluate_node(WORKER, o)
    assert r.check("memory").status is Health.UNKNOWN and "timed out" in r.check("memory").detail


def test_exit_codes_snapshot_and_markdown() -> None:
    ok = evaluate_node(WORKER, outputs(HEALTHY_DF, HEALTHY_MEM))
    warn = evaluate_node(WORKER, outputs(DF, HEALTHY_MEM))
    assert exit_code([ok]) == 0 and exit_code([ok, warn]) == 1
    from tasks.servers.health import failed

    down = failed(Node("w9", "10.0.0.99"), "Connection refused | [red]x[/red]")
    assert exit_code([ok, warn, down]) == 2
    snap = HealthSnapshot("qa", "2026-11-25T00:00:00+00:00", [ok, warn, down], "qa.ini")
    again = HealthSnapshot.from_state(snap.to_state())
    assert [r.status for r in again.results] == [Health.PASS, Health.WARN, Health.FAIL]
    assert again.results[1].check("disk").raw == warn.check("disk").raw
    md = snapshot_markdown(again)
    assert "| w9 |" in md and "\\| [red]x[/red]" in md


@pytest.mark.parametrize(
    "outputs_of",
    [
        lambda: {},  # no command came back at all
        lambda: {k: res([k]) for k in ("disk", "memory", "cpus", "load", "uptime")},  # empty
        lambda: {k: res([k], "garbage\n") for k in ("disk", "memory", "cpus", "load", "uptime")},
        lambda: {k: res([k], timed_out=True) for k in ("disk", "memory", "cpus", "load", "uptime")},
    ],
)
def test_no_data_is_unknown_and_fails(outputs_of) -> None:
    from tasks.servers.health import overall

    for node in (WORKER, Node("m1", "10.0.0.1", Role.MANAGER)):
        r = evaluate_node(node, outputs_of())
        assert r.status is Health.UNKNOWN, [c.status for c in r.checks]
        assert "reported nothing readable" in r.reason
        ok = evaluate_node(WORKER, outputs(HEALTHY_DF, HEALTHY_MEM))
        warn = evaluate_node(WORKER, outputs(DF, HEALTHY_MEM))
        # it fails the cluster, whatever else is fine or only warns
        assert overall([ok, r]) is Health.FAIL and overall([warn, r]) is Health.FAIL
        assert exit_code([ok, r]) == 2 and exit_code([r]) == 2 and exit_code([warn, r]) == 2
        snap = HealthSnapshot("qa", "2026-11-25T00:00:00+00:00", [ok, r])
        assert snap.status is Health.FAIL


def test_some_data_unknown_is_a_warning_not_a_pass() -> None:
    o = outputs(HEALTHY_DF, HEALTHY_MEM)
    o["uptime"] = res(["cat", "/proc/uptime"], "?")
    o["cpus"] = res(["nproc"], "")
    r = evaluate_node(WORKER, o)
    assert r.status is Health.WARN and exit_code([r]) == 1
