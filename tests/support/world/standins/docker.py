"""Stand-in for `docker` on a rehearsal node: answers as a Docker Swarm node of an OpenCRVS 1.3
stack would, from the node's state file (``$CRVS_NODE_DIR/state.json``).

Installed as ``<node>/bin/docker`` (first on the login PATH through sshd's SetEnv). Answers
``node ls``, ``node inspect``, ``service ls``, ``service ps``, ``service logs``, ``service
update --force``, ``stack deploy``, ``stack ps``, ``stack ls``, ``images``, ``pull``, ``info``,
``version``/``--version``; ``--format`` templates as the docker CLI renders them. Anything else
(``docker run``, ``exec``, ``cp``: the real emergency scripts use them) exits 1 and says this
is a stand-in. Services, images and replicas follow the compose files of core and the country
config at 1.3.x (see the world's notes); the migration service completes once per deploy.
Standard library only: it runs under the node's system python3.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sys
import time
from contextlib import contextmanager

NODE_DIR = os.environ.get("CRVS_NODE_DIR") or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))
)
STATE = os.path.join(NODE_DIR, "state.json")
ENGINE = "24.0.7"
NOT_MANAGER = (
    "Error response from daemon: This node is not a swarm manager. Worker nodes can't be used to "
    "view or modify cluster state. Please run this command on a manager node or promote the "
    "current node to a manager.\n"
)

# name: (replicas with 1 node, replicas with 3+ nodes, image)   (core @VERSION, cc @COUNTRY)
CORE = "opencrvs/ocrvs-{name}:{version}"
SERVICES = {
    "apm-server": (1, 2, "docker.elastic.co/apm/apm-server:7.15.2"),
    "auth": (1, 2, CORE),
    "client": (1, 2, CORE),
    "components": (1, 2, CORE),
    "config": (1, 2, CORE),
    "countryconfig": (1, 2, "{country_image}"),
    "dashboards": (1, 1, CORE),
    "documents": (1, 1, CORE),
    "elastalert": (1, 1, "jertel/elastalert2:2.3.0"),
    "elasticsearch": (1, 1, "docker.elastic.co/elasticsearch/elasticsearch:7.17.0"),
    "gateway": (1, 2, CORE),
    "hearth": (1, 2, "opencrvs/hearth:1.1.0"),
    "influxdb": (1, 1, "influxdb:1.8.0"),
    "kibana": (1, 1, "docker.elastic.co/kibana/kibana:7.17.0"),
    "login": (1, 2, CORE),
    "logstash": (1, 2, "logstash:7.17.0"),
    "metricbeat": (0, 0, "docker.elastic.co/beats/metricbeat:7.17.13"),  # mode global
    "metrics": (1, 1, CORE),
    "migration": (1, 1, CORE),
    "minio": (1, 1, "quay.io/minio/minio:RELEASE.2023-09-16T01-01-47Z.fips"),
    "minio-mc": (1, 1, "minio/mc:latest"),
    "mongo-on-update": (1, 1, "mongo:4.4"),
    "mongo1": (1, 1, "mongo:4.4"),
    "mongo2": (0, 1, "mongo:4.4"),
    "mongo3": (0, 1, "mongo:4.4"),
    "notification": (1, 2, CORE),
    "openhim-console": (1, 2, "jembi/openhim-console:1.13"),
    "openhim-core": (1, 2, "jembi/openhim-core:7"),
    "redis": (1, 1, "redis:5"),
    "scheduler": (1, 1, CORE),
    "search": (1, 2, CORE),
    "setup-elasticsearch-users": (1, 1, "ubuntu:bionic"),
    "setup-kibana-config": (1, 1, "curlimages/curl:7.83.1"),
    "traefik": (1, 1, "traefik:v2.9"),
    "user-mgnt": (1, 2, CORE),
    "webhooks": (1, 2, CORE),
    "workflow": (1, 2, CORE),
}
# Run once per deploy, then 0/1 (restart_policy on-failure / none).
ONE_SHOT = ("migration", "mongo-on-update")
MIGRATION_DBS = ("hearth", "openhim", "application-config", "user-mgnt", "performance")
MIGRATIONS_1_3_0 = {
    "application-config": (
        "20221205071415-add_health_facility_to_formdataset",
        "20221212134153-update-systems",
        "20221221093004-store-informant-sms-notification",
        "20230113115411-country-background",
        "20230208081755-add-marriage-configuration",
        "20230301124048-add-marriage-certificate-configuration",
        "20230518055204-upload-certificate-templates-to-minio",
        "20230825150509-remove-unnecessary-application-config",
    ),
    "hearth": (
        "20220817082035-informant-legal-guardin-doc",
        "20220822085901-rejected-declarations-started-by",
        "20221017133354-restore-supporting-document",
        "20221031131452-add_practioner_id_event_registrations",
        "20221110092434-add_identifiers_DOB_gender_location",
        "20221115062056-update-status-in-complete-fields",
        "20221128065238-migrate-documents-to-minio",
        "20230127063226-update-practitioner-role",
        "20230220081813-update-indices",
        "20230221105416-create-performance-views",
        "20230328065851-change-certified-status-to-issused",
        "20230331182109-modify-minio-bucket-policy",
        "20230602090436-update-identifier-with-system",
        "20230602120944-populate-valid-locationid",
        "20230612060923-update-patient-identifier-with-codeableconcept",
    ),
    "openhim": (
        "20220825071508-channels-v1.0.1",
        "20220826062206-channels-v1.0.1-to-v1.1.0",
        "20221011150329-channels-v1.1.0-to-v1.2.0",
        "20221121124457-remove-old-transactions",
        "20221124202628-user-audit-channels",
        "20230131130400-add-certificate-issue-channel",
        "20230210112528-marriage-channels",
        "20230328101901-potential-duplicate",
    ),
    "performance": ("20230221121625-create-performance-views",),
    "user-mgnt": (
        "20221212134201-update-systems",
        "20221229110512-modify-user-roleAndtype-fieldName",
        "20230315074827-create-integrating-system-type",
        "20230511082648-drop-usernamerecords-collection",
        "20230522081120-make-users-status-pending",
        "20230615104846-create-opencrvs-super-user",
        "20230623175740-migrate-profile-image-to-minio",
    ),
}
# Added by core release (packages/migration/src/migrations, tag to tag).
MIGRATIONS_ADDED = {
    (1, 3, 1): (
        ("hearth", "20230905130632-elastic-search-property-rename"),
        ("hearth", "20231025175023-fix-crude-birth-rates"),
        ("user-mgnt", "20231106130956-email-mobile-unique-index"),
    ),
    (1, 3, 2): (("hearth", "20231123125224-deceased-birth-date"),),
    (1, 3, 3): (("hearth", "20240201123539-join-given-name"),),
}


def vkey(tag):
    m = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", tag or "")
    return tuple(int(x) for x in m.groups()) if m else None


def migrations_of(version):
    """(db, name) of every migration core ``version`` ships; unknown versions: none beyond 1.3.0."""
    out = [(db, n) for db, names in MIGRATIONS_1_3_0.items() for n in names]
    key = vkey(version)
    for added, items in sorted(MIGRATIONS_ADDED.items()):
        if key is not None and key >= added:
            out += list(items)
    return out


@contextmanager
def locked_state(write):
    with open(STATE + ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(STATE) as f:
            state = json.load(f)
        yield state
        if write:
            tmp = STATE + ".tmp"
            with open(tmp, "w") as f:
                json.dump(state, f, indent=2, sort_keys=True)
            os.replace(tmp, STATE)


def ident(*parts, n=12):
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:n]


def ago(ts):
    s = max(0, int(time.time() - ts))
    if s < 1:
        return "Less than a second ago"
    if s < 60:
        return f"{s} seconds ago"
    if s < 120:
        return "About a minute ago"
    if s < 3600:
        return f"{s // 60} minutes ago"
    if s < 7200:
        return "About an hour ago"
    if s < 86400 * 2:
        return f"{s // 3600} hours ago"
    return f"{s // 86400} days ago"


def out(text):
    sys.stdout.write(text)


def fail(text, code=1):
    sys.stderr.write(text)
    sys.exit(code)


# -- templates ------------------------------------------------------------------------------


def render(fmt, rows, headers):
    """docker's --format: Go template fields {{.X}}, `table` prefix, \\t and \\n escapes."""
    table = fmt.startswith("table")
    if table:
        fmt = fmt[len("table") :].strip()
    fmt = fmt.replace("\\t", "\t").replace("\\n", "\n")
    if fmt.strip() == "{{json .}}":
        return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    fields = re.findall(r"{{\s*\.([A-Za-z.]+)\s*}}", fmt)
    for f in fields:
        if rows and f not in rows[0]:
            fail(f'template: :1:2: executing "" at <.{f}>: can\'t evaluate field {f}\n')

    def one(row):
        return re.sub(r"{{\s*\.([A-Za-z.]+)\s*}}", lambda m: str(row.get(m.group(1), "")), fmt)

    lines = [one(r) for r in rows]
    if table:
        lines.insert(
            0,
            re.sub(
                r"{{\s*\.([A-Za-z.]+)\s*}}",
                lambda m: headers.get(m.group(1), m.group(1).upper()),
                fmt,
            ),
        )
    return "".join(line + "\n" for line in lines)


def columns(rows, spec):
    """A docker-style table: (header, key, width) columns, three spaces apart."""
    lines = ["   ".join(f"{h:<{w}}" for h, _, w in spec).rstrip()]
    for r in rows:
        lines.append("   ".join(f"{str(r.get(k, '')):<{w}}" for _, k, w in spec).rstrip())
    return "\n".join(lines) + "\n"


def option(args, *names, default=None):
    """Value of --name VALUE or --name=VALUE (first match), and the args without it."""
    rest, value = [], default
    i = 0
    while i < len(args):
        a = args[i]
        hit = next((n for n in names if a == n or a.startswith(n + "=")), None)
        if hit is None:
            rest.append(a)
        elif a == hit and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        else:
            value = a.split("=", 1)[1]
        i += 1
    return value, rest


def flags(args, *names):
    present = any(a in names for a in args)
    return present, [a for a in args if a not in names]


# -- the stack -----------------------------------------------------------------------------


def require_manager(state):
    if state.get("role") != "manager":
        fail(NOT_MANAGER)


def swarm_size(state):
    return len(state.get("swarm") or [state.get("node")])


def settled(state):
    stack = state.get("stack") or {}
    return stack.get("looks", 0) >= state.get("converge_after", 0)


def services(state):
    stack = state.get("stack")
    if not stack:
        return []
    size = swarm_size(state)
    version = stack.get("version", "latest")
    country = stack.get("country_image") or f"countryconfig:{stack.get('country_config_version')}"
    up = settled(state)
    rows = []
    for name, (one, many, image) in sorted(SERVICES.items()):
        desired = one if size == 1 else many
        mode = "replicated"
        if name == "metricbeat":
            mode, desired = "global", size
        if desired == 0:
            continue
        running = desired if up else 0
        replicas = None
        if name in ONE_SHOT and up:
            # Completed: 0/1, as swarm shows a replicated service whose task ended.
            running = 0
            if state.get("one_shot_services") == "lenient":
                # What today's product and the demo accept: a replicated-job migration and
                # a mongo-on-update that looks running.
                if name == "migration":
                    mode, replicas = (
                        "replicated-job",
                        f"0/{desired} ({desired}/{desired} completed)",
                    )
                else:
                    running = desired
        if name == "migration" and not up:
            running = 1
        rows.append(
            {
                "ID": ident("service", name, stack.get("created", 0)),
                "Name": f"opencrvs_{name}",
                "Mode": mode,
                "Replicas": replicas or f"{running}/{desired}",
                "Image": image.format(name=name, version=version, country_image=country),
                "Ports": "*:80->80/tcp, *:443->443/tcp" if name == "traefik" else "",
            }
        )
    return rows


def look(state):
    """Each `docker service ls` after a deploy brings the stack closer to n/n."""
    stack = state.get("stack")
    if stack is not None:
        stack["looks"] = stack.get("looks", 0) + 1


def service_ls(args):
    fmt, args = option(args, "--format")
    quiet, args = flags(args, "-q", "--quiet")
    with locked_state(write=True) as state:
        require_manager(state)
        rows = services(state)
        look(state)
    if quiet:
        out("".join(r["ID"] + "\n" for r in rows))
    elif fmt:
        out(render(fmt, rows, {"Name": "NAME", "Mode": "MODE", "Replicas": "REPLICAS"}))
    else:
        out(
            columns(
                rows,
                [
                    ("ID", "ID", 12),
                    ("NAME", "Name", 34),
                    ("MODE", "Mode", 10),
                    ("REPLICAS", "Replicas", 8),
                    ("IMAGE", "Image", 60),
                    ("PORTS", "Ports", 0),
                ],
            )
        )


def tasks_of(state, service):
    """Task rows of one service, newest first (one per migration run for the migration)."""
    stack = state.get("stack")
    name = service.removeprefix("opencrvs_")
    if not stack or name not in SERVICES:
        return None
    nodes = state.get("swarm") or [state.get("node")]
    version = stack.get("version", "latest")
    image = SERVICES[name][2].format(
        name=name, version=version, country_image=stack.get("country_image", "")
    )
    up = settled(state)
    rows = []
    if name == "migration":
        runs = state.get("migration_runs", [])
        for i, run in enumerate(reversed(runs)):
            newest = i == 0
            running = newest and not up
            rows.append(
                {
                    "ID": ident("task", name, run["at"], n=25),
                    "Name": "opencrvs_migration.1" if newest else " \\_ opencrvs_migration.1",
                    "Image": "opencrvs/ocrvs-migration:" + run.get("version", version),
                    "Node": nodes[0],
                    "DesiredState": "Running" if running else "Shutdown",
                    "CurrentState": ("Running " if running else "Complete ")
                    + ago(run["at"] + (0 if running else 40)),
                    "Error": "",
                    "Ports": "",
                }
            )
        return rows
    one, many, _ = SERVICES[name]
    count = (len(nodes) if name == "metricbeat" else (one if len(nodes) == 1 else many)) or 0
    for i in range(count):
        rows.append(
            {
                "ID": ident("task", name, i, stack.get("created", 0), n=25),
                "Name": f"opencrvs_{name}.{i + 1}",
                "Image": image,
                "Node": nodes[i % len(nodes)],
                "DesiredState": "Running",
                "CurrentState": ("Running " if up else "Starting ") + ago(stack.get("created", 0)),
                "Error": "",
                "Ports": "",
            }
        )
    return rows


PS_SPEC = [
    ("ID", "ID", 25),
    ("NAME", "Name", 28),
    ("IMAGE", "Image", 45),
    ("NODE", "Node", 10),
    ("DESIRED STATE", "DesiredState", 13),
    ("CURRENT STATE", "CurrentState", 24),
    ("ERROR", "Error", 5),
    ("PORTS", "Ports", 0),
]


def filter_tasks(rows, filters):
    for f in filters:
        key, _, value = f.partition("=")
        if key == "desired-state":
            rows = [r for r in rows if r["DesiredState"].lower() == value.lower()]
    return rows


def collect_filters(args):
    filters, rest, i = [], [], 0
    while i < len(args):
        if args[i] in ("-f", "--filter") and i + 1 < len(args):
            filters.append(args[i + 1])
            i += 2
            continue
        if args[i].startswith("--filter="):
            filters.append(args[i].split("=", 1)[1])
        else:
            rest.append(args[i])
        i += 1
    return filters, rest


def service_ps(args):
    fmt, args = option(args, "--format")
    _, args = flags(args, "--no-trunc", "-q", "--quiet")
    filters, args = collect_filters(args)
    with locked_state(write=False) as state:
        require_manager(state)
        rows = []
        for service in args:
            tasks = tasks_of(state, service)
            if tasks is None:
                fail(f"no such service: {service}\n")
            rows += filter_tasks(tasks, filters)
    if fmt:
        out(render(fmt, rows, {"CurrentState": "CURRENT STATE"}))
    else:
        out(columns(rows, PS_SPEC))


def migration_log(run, previous):
    lines = [
        "[INFO  wait] --------------------------------------------------------",
        "[INFO  wait]  docker-compose-wait 2.9.0",
        "[INFO  wait] ---------------------------",
        "[INFO  wait] Host [mongo1:27017] is now available!",
        "[INFO  wait] Host [elasticsearch:9200] is now available!",
        "[INFO  wait] docker-compose-wait - Everything's fine, the application can now start!",
    ]
    done = set(tuple(x) for x in previous)
    applied = [tuple(x) for x in run.get("applied", [])]
    for db in MIGRATION_DBS:
        config = f"./build/dist/src/migrate-mongo-config-{db}.js"
        lines += ["yarn run v1.22.19", f"$ /app/node_modules/.bin/migrate-mongo up --file {config}"]
        lines += [
            f"MIGRATED UP: {name}.js" for d, name in applied if d == db and (d, name) not in done
        ]
        lines += ["Done in 2.31s.", "yarn run v1.22.19"]
        lines.append(f"$ /app/node_modules/.bin/migrate-mongo status --file {config}")
        names = sorted(n for d, n in applied if d == db)
        width = max([len(n) + 3 for n in names] + [10])
        lines.append(f"┌{'─' * (width + 2)}┬{'─' * 26}┐")
        lines.append(f"│ {'Filename':<{width}} │ {'Applied At':<24} │")
        lines.append(f"├{'─' * (width + 2)}┼{'─' * 26}┤")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(run["at"]))
        lines += [f"│ {n + '.js':<{width}} │ {stamp:<24} │" for n in names]
        lines.append(f"└{'─' * (width + 2)}┴{'─' * 26}┘")
        lines.append("Done in 1.02s.")
    return lines


def service_logs(args):
    raw, args = flags(args, "--raw")
    stamps, args = flags(args, "-t", "--timestamps")
    _, args = flags(args, "--no-trunc", "-f", "--follow", "--details", "--no-task-ids")
    tail, args = option(args, "--tail", "-n", default="all")
    with locked_state(write=False) as state:
        require_manager(state)
        if not args or tasks_of(state, args[0]) is None:
            fail(f"no such task or service: {args[0] if args else ''}\n")
        service = args[0].removeprefix("opencrvs_")
        lines = []
        if service == "migration":
            previous = []
            for run in state.get("migration_runs", []):
                task = ident("task", "migration", run["at"], n=25)
                prefix = (
                    ""
                    if raw
                    else f"opencrvs_migration.1.{task}@{(state.get('swarm') or ['?'])[0]}    | "
                )
                for line in migration_log(run, previous):
                    when = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z ", time.gmtime(run["at"]))
                    lines.append((when if stamps else "") + prefix + line)
                previous = run.get("applied", [])
    if tail != "all":
        lines = lines[-int(tail) :] if int(tail) > 0 else []
    out("".join(line + "\n" for line in lines))


def new_run(state, version, reason):
    runs = state.setdefault("migration_runs", [])
    applied = migrations_of(version)
    runs.append({"at": time.time(), "version": version, "applied": applied, "reason": reason})


def service_update(args):
    force, args = flags(args, "--force")
    _, args = option(args, "--update-parallelism")
    _, args = option(args, "--update-delay")
    with locked_state(write=True) as state:
        require_manager(state)
        if not args or tasks_of(state, args[-1]) is None:
            fail(f"Error: No such service: {args[-1] if args else ''}\n")
        if args[-1].removeprefix("opencrvs_") == "migration":
            stack = state["stack"]
            new_run(state, stack.get("version", "latest"), "service update --force")
            stack["looks"] = 0
        state.setdefault("events", []).append(
            {"at": time.time(), "what": "service update", "service": args[-1], "force": force}
        )
    out(args[-1] + "\n")


def stack_deploy(args):
    compose = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-c", "--compose-file")]
    name = args[-1] if args else ""
    if name != "opencrvs":
        fail(f"stand-in docker: only the opencrvs stack is simulated, not {name!r}\n")
    version = os.environ.get("VERSION") or "latest"
    country = os.environ.get("COUNTRY_CONFIG_VERSION") or "latest"
    account = os.environ.get("DOCKERHUB_ACCOUNT") or "opencrvs"
    repo = os.environ.get("DOCKERHUB_REPO") or "ocrvs-farajaland"
    with locked_state(write=True) as state:
        require_manager(state)
        replicas = (
            3
            if any("replicas-3" in c for c in compose)
            else 5
            if any("replicas-5" in c for c in compose)
            else 1
        )
        environment = next(
            (
                m.group(1)
                for c in compose
                for m in [re.search(r"docker-compose\.(\w+)-deploy\.yml$", c)]
                if m and m.group(1) != "countryconfig"
            ),
            "",
        )
        environment = {"prod": "production"}.get(environment, environment)
        old = state.get("stack")
        stack = {
            "version": version,
            "country_config_version": country,
            "country_image": f"{account}/{repo}:{country}",
            "environment": environment,
            "replicas": replicas,
            "compose_files": compose,
            "created": (old or {}).get("created") or time.time(),
            "deployed_at": time.time(),
            "hostname": os.environ.get("HOSTNAME", ""),
            "looks": 0,
        }
        state["stack"] = stack
        state.setdefault("deploys", []).append(
            {
                k: stack[k]
                for k in (
                    "version",
                    "country_config_version",
                    "environment",
                    "replicas",
                    "deployed_at",
                )
            }
        )
        new_run(state, version, "deploy")
    verb = "Updating" if old else "Creating"
    out(
        "crvs-migrate rehearsal stand-in: recording the deploy in the node's state (nothing runs)\n"
    )
    if not old:
        out("Creating network opencrvs_overlay_net\n")
    for row in services({**state, "stack": {**stack, "looks": 10**9}, "converge_after": 0}):
        out(f"{verb} service {row['Name']}" + (f" (id: {row['ID']})" if old else "") + "\n")


def stack_ps(args):
    fmt, args = option(args, "--format")
    _, args = flags(args, "--no-trunc", "-q", "--quiet")
    filters, args = collect_filters(args)
    with locked_state(write=False) as state:
        require_manager(state)
        if not state.get("stack") or args[-1:] != ["opencrvs"]:
            fail(f"nothing found in stack: {args[-1] if args else ''}\n")
        rows = []
        for name in sorted(SERVICES):
            rows += filter_tasks(tasks_of(state, name) or [], filters)
    out(render(fmt, rows, {}) if fmt else columns(rows, PS_SPEC))


def node_ls(args):
    fmt, args = option(args, "--format")
    with locked_state(write=False) as state:
        require_manager(state)
        me = state.get("node")
        rows = []
        for i, host in enumerate(state.get("swarm") or [me]):
            rows.append(
                {
                    "ID": ident("node", host, n=25) + (" *" if host == me else ""),
                    "Self": str(host == me).lower(),
                    "Hostname": host,
                    "Status": "Ready",
                    "Availability": "Active",
                    "ManagerStatus": "Leader" if i == 0 else "",
                    "EngineVersion": ENGINE,
                }
            )
    if fmt:
        for r in rows:
            r["ID"] = r["ID"].removesuffix(" *")
        out(render(fmt, rows, {"ManagerStatus": "MANAGER STATUS"}))
    else:
        out(
            columns(
                rows,
                [
                    ("ID", "ID", 27),
                    ("HOSTNAME", "Hostname", 10),
                    ("STATUS", "Status", 6),
                    ("AVAILABILITY", "Availability", 12),
                    ("MANAGER STATUS", "ManagerStatus", 14),
                    ("ENGINE VERSION", "EngineVersion", 0),
                ],
            )
        )


def node_inspect(args):
    fmt, args = option(args, "--format", "-f")
    with locked_state(write=False) as state:
        require_manager(state)
        addresses = state.get("swarm_addresses") or {}
        host = args[0] if args else ""
        if host == "self":
            host = state.get("node")
        if host not in addresses:
            fail(f"Error response from daemon: node {host} not found\n")
    if fmt and ".Status.Addr" in fmt:
        out(addresses[host] + "\n")
    else:
        out(
            json.dumps(
                [
                    {
                        "Description": {"Hostname": host},
                        "Status": {"State": "ready", "Addr": addresses[host]},
                    }
                ],
                indent=4,
            )
            + "\n"
        )


def images(args):
    fmt, args = option(args, "--format")
    with locked_state(write=False) as state:
        rows = []
        for ref in state.get("images", []):
            repo, _, tag = ref.rpartition(":")
            rows.append(
                {"Repository": repo, "Tag": tag, "ID": ident("image", ref), "Size": "512MB"}
            )
    if fmt:
        out(render(fmt, rows, {}))
    else:
        out(
            columns(
                rows,
                [
                    ("REPOSITORY", "Repository", 45),
                    ("TAG", "Tag", 20),
                    ("IMAGE ID", "ID", 12),
                    ("SIZE", "Size", 0),
                ],
            )
        )


def pull(args):
    if not args:
        fail('"docker pull" requires exactly 1 argument.\n')
    ref = args[-1] if ":" in args[-1].rsplit("/", 1)[-1] else args[-1] + ":latest"
    with locked_state(write=True) as state:
        if ref not in state.setdefault("images", []):
            state["images"].append(ref)
    out(
        f"{ref.rsplit(':', 1)[1]}: Pulling from {ref.rsplit(':', 1)[0]}\n"
        f"Digest: sha256:{ident('digest', ref, n=64)}\n"
        f"Status: Downloaded newer image for {ref}\n"
        "crvs-migrate rehearsal stand-in: nothing was downloaded\n"
    )


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        out("Usage:  docker [OPTIONS] COMMAND (crvs-migrate rehearsal stand-in)\n")
        return
    if argv[0] in ("--version", "-v"):
        out(f"Docker version {ENGINE}, build afdd53b (crvs-migrate rehearsal stand-in)\n")
        return
    if not os.path.exists(STATE):
        fail(
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?\n"
        )
    cmd, args = argv[0], argv[1:]
    sub = args[0] if args else ""
    table = {
        ("service", "ls"): service_ls,
        ("service", "list"): service_ls,
        ("service", "ps"): service_ps,
        ("service", "logs"): service_logs,
        ("service", "update"): service_update,
        ("stack", "deploy"): stack_deploy,
        ("stack", "up"): stack_deploy,
        ("stack", "ps"): stack_ps,
        ("node", "ls"): node_ls,
        ("node", "inspect"): node_inspect,
    }
    if (cmd, sub) in table:
        return table[(cmd, sub)](args[1:])
    if cmd == "stack" and sub == "ls":
        with locked_state(write=False) as state:
            require_manager(state)
            n = len(services(state))
        out("NAME       SERVICES\n" + (f"opencrvs   {n}\n" if n else ""))
        return
    if cmd == "images" or (cmd == "image" and sub in ("ls", "list")):
        return images(args if cmd == "images" else args[1:])
    if cmd == "pull":
        return pull(args)
    if cmd == "info":
        with locked_state(write=False) as state:
            role = state.get("role")
        swarm = "active" if role in ("manager", "worker") else "inactive"
        out(
            f" Server Version: {ENGINE}\n Swarm: {swarm}\n  Is Manager: {str(role == 'manager').lower()}\n"
            " (crvs-migrate rehearsal stand-in)\n"
        )
        return
    if cmd == "version":
        out(
            f"Client:\n Version: {ENGINE}\nServer:\n Version: {ENGINE}\n(crvs-migrate rehearsal stand-in)\n"
        )
        return
    fail(
        f"crvs-migrate rehearsal stand-in: `docker {' '.join(argv[:2])}` is not simulated on "
        "this node (no containers run here).\n"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
