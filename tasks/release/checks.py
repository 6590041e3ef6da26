"""Checks after every deploy (QA and production), run on the environment's manager over SSH.

deploy.sh starts ``docker stack deploy`` and stops looking ("This script doesnt ensure
that all docker containers successfully start"). These checks look:

  services     every service of the stack at n/n (the run-once services exempt)
  migrations   ``opencrvs_migration`` finished (its task Complete), what its log applied
               (migrate-mongo's ``MIGRATED UP: <file>``), and no error in it
  gateway      ``https://gateway.<domain>/ping``: the gateway asks auth, search,
               user-mgnt, metrics, notification, countryconfig and workflow, each true
  pings        ``/ping`` of auth, config and countryconfig (their traefik routes)
  login        ``https://login.<domain>/`` answers 200
  data         ``/data`` is the encrypted volume (``/dev/mapper/...``)

The HTTP checks run ``curl`` on the manager with ``--resolve <name>:443:127.0.0.1``:
through the manager's own traefik (it publishes 443 on every node), with the real name
for TLS, whatever DNS says (the new-servers strategy switches DNS last).

A failed check carries the known fixes for it (Metabase's ``.mv.db``, redeploying after a
restore, the encrypted ``/data`` not mounted after a reboot, a unique-index migration
failing on shared emails).
"""

from __future__ import annotations

import json
from dataclasses import field

from tasks.lean import dataclass, regex
from tasks.names import validate_host
from tasks.servers.health import (
    DOCKER_SERVICE_FORMAT,
    Service,
    Unparseable,
    is_one_shot,
    parse_docker_services,
)
from tasks.servers.runner import RemoteRun
from tasks.session.state import now_iso

MIGRATION_SERVICE = "opencrvs_migration"
GATEWAY_SERVICES = (
    "auth",
    "search",
    "user-mgnt",
    "metrics",
    "notification",
    "countryconfig",
    "workflow",
)
PINGS = ("auth", "config", "countryconfig")
MIGRATED = regex(r"MIGRATED UP:\s*(\S+)")
_LOG_ERROR = regex(r"\b(ERROR|Error:|MongoServerError|E11000|UnhandledPromiseRejection|FATAL)\b")

PASS, WARN, FAIL, UNKNOWN = "pass", "warn", "fail", "unknown"

FIX_ENCRYPTED_DATA = (
    "After a reboot the encrypted /data is not mounted and every service is down: on each "
    "node run `bash /opt/opencrvs/infrastructure/decrypt.sh -key <file holding "
    "DISK_ENCRYPTION_KEY=...>`, then deploy again with --clear_data=no."
)
FIX_REDEPLOY_AFTER_RESTORE = (
    "After a restore the services hold database secrets the restore replaced, and search "
    "may refuse connections: take the stack down (`docker stack down opencrvs` on the "
    "manager) and deploy again with --clear_data=no (the 1.3 restore docs, step 5)."
)
FIX_METABASE = (
    "Metabase (opencrvs_dashboards) does not start when its H2 file "
    "/data/metabase/metabase.mv.db is damaged or was restored from another installation: "
    "move it aside (`mv /data/metabase/metabase.mv.db /root/metabase.mv.db.bak` on the node "
    "with label data1); it is recreated from metabase.init.db.sql at the next start "
    "(`docker service update --force opencrvs_dashboards`)."
)
FIX_UNIQUE_INDEX = (
    "The user-mgnt migration email-mobile-unique-index fails when two users share an email "
    "or a mobile number: make them unique in the user-mgnt database, then re-run the "
    "migrations (`docker service update --force opencrvs_migration`)."
)
FIX_MIGRATION = (
    "Read the migration log (`docker service logs opencrvs_migration`); fix its cause, then "
    "re-run it (`docker service update --force opencrvs_migration`)."
)


@dataclass
class CheckResult:
    id: str
    title: str
    status: str
    summary: str
    details: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status in (PASS, WARN)


@dataclass
class MigrationProgress:
    """What the migration service has done so far (shown while it runs)."""

    state: str = "unknown"  # finished, running, failed, not found, unknown
    applied: list[str] = field(default_factory=list)
    last_line: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class PostDeployChecks:
    """One run of the checks after a deploy, as kept in the deploy record."""

    environment: str
    manager: str
    domain: str
    checked_at: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def result(self, check_id: str) -> CheckResult | None:
        return next((r for r in self.results if r.id == check_id), None)


def curl_argv(domain: str, service: str, path: str) -> list[str]:
    """curl on the manager through its own traefik, the real name kept for TLS."""
    name = f"{service}.{validate_host(domain)}" if service else validate_host(domain)
    return [
        "curl",
        "-sS",
        "--max-time",
        "15",
        "--resolve",
        f"{name}:443:127.0.0.1",
        "-w",
        "\\n%{http_code}",
        f"https://{name}{path}",
    ]


def _http(text: str) -> tuple[int, str]:
    body, _, code = text.rstrip("\n").rpartition("\n")
    return (int(code), body) if code.isdigit() else (0, text)


def migration_state(ps_text: str) -> str:
    """From ``docker service ps --format '{{.CurrentState}}'`` (newest task first)."""
    lines = [ln.strip() for ln in ps_text.splitlines() if ln.strip()]
    if not lines:
        return "not found"
    state = lines[0].split()[0].lower()
    if state == "complete":
        return "finished"
    if state in ("failed", "rejected", "shutdown", "orphaned"):
        return "failed"
    if state in ("running", "starting", "preparing", "pending", "assigned", "accepted", "ready"):
        return "running"
    return "unknown"


async def migration_progress(run: RemoteRun, tail: int = 400) -> MigrationProgress:
    from tasks.text import strip_control

    progress = MigrationProgress()
    ps = await run(
        [
            "docker",
            "service",
            "ps",
            "--no-trunc",
            "--format",
            "{{.CurrentState}}",
            MIGRATION_SERVICE,
        ]
    )
    progress.state = migration_state(ps.stdout) if ps.exit_status == 0 else "not found"
    logs = await run(["docker", "service", "logs", "--raw", "--tail", str(tail), MIGRATION_SERVICE])
    if logs.exit_status == 0:
        lines = [strip_control(x) for x in (logs.stdout + logs.stderr).splitlines() if x.strip()]
        progress.applied = [m.group(1) for x in lines if (m := MIGRATED.search(x))]
        progress.errors = [x[:200] for x in lines if _LOG_ERROR.search(x)][-5:]
        progress.last_line = lines[-1][:200] if lines else ""
    return progress


def _services_check(services: list[Service], data_fs: str) -> CheckResult:
    title = "Every service at n/n"
    down = [s for s in services if not is_one_shot(s) and s.running != s.desired]
    others = [s for s in services if not is_one_shot(s)]
    if not services:
        return CheckResult(
            "services", title, FAIL, "no service of the stack is listed", [], [FIX_ENCRYPTED_DATA]
        )
    if not down:
        return CheckResult("services", title, PASS, f"{len(others)}/{len(others)} services n/n")
    fixes: list[str] = []
    names = {s.name for s in down}
    if len(down) > len(others) // 2 or (data_fs and not data_fs.startswith("/dev/mapper/")):
        fixes.append(FIX_ENCRYPTED_DATA)
    if "opencrvs_dashboards" in names:
        fixes.append(FIX_METABASE)
    if names & {
        "opencrvs_search",
        "opencrvs_elasticsearch",
        "opencrvs_gateway",
        "opencrvs_workflow",
    }:
        fixes.append(FIX_REDEPLOY_AFTER_RESTORE)
    return CheckResult(
        "services",
        title,
        FAIL,
        f"{len(others) - len(down)}/{len(others)} services n/n",
        [f"{s.name} {s.running}/{s.desired}" for s in down],
        fixes,
    )


def _migration_check(progress: MigrationProgress) -> CheckResult:
    title = "Migrations finished"
    applied = f"{len(progress.applied)} applied" if progress.applied else "none applied"
    details = [f"MIGRATED UP: {name}" for name in progress.applied]
    if progress.state == "finished" and not progress.errors:
        return CheckResult("migrations", title, PASS, f"finished, {applied}", details)
    fixes = []
    if any("E11000" in e or "unique" in e.lower() for e in progress.errors):
        fixes.append(FIX_UNIQUE_INDEX)
    if progress.state == "running":
        return CheckResult("migrations", title, FAIL, f"still running, {applied} so far", details)
    fixes.append(FIX_MIGRATION)
    return CheckResult(
        "migrations",
        title,
        FAIL,
        f"{progress.state}, {applied}"
        + (f"; {len(progress.errors)} error line(s)" if progress.errors else ""),
        details + progress.errors,
        fixes,
    )


async def _gateway_check(run: RemoteRun, domain: str) -> CheckResult:
    title = "Gateway /ping (core services)"
    result = await run(curl_argv(domain, "gateway", "/ping"))
    code, body = _http(result.stdout)
    if result.exit_status != 0 or code != 200:
        why = (result.stderr.strip().splitlines() or [f"HTTP {code}"])[-1][:200]
        return CheckResult(
            "gateway", title, FAIL, f"no answer ({why})", [], [FIX_REDEPLOY_AFTER_RESTORE]
        )
    try:
        answers = json.loads(body)
    except ValueError:
        return CheckResult("gateway", title, FAIL, "the gateway's answer is not JSON")
    if not isinstance(answers, dict):
        return CheckResult("gateway", title, FAIL, "the gateway's answer is not a table")
    down = [s for s in GATEWAY_SERVICES if answers.get(s) is not True]
    if down:
        return CheckResult(
            "gateway",
            title,
            FAIL,
            f"{len(GATEWAY_SERVICES) - len(down)}/{len(GATEWAY_SERVICES)} services answer",
            [f"{s}: not answering" for s in down],
            [FIX_REDEPLOY_AFTER_RESTORE],
        )
    return CheckResult(
        "gateway", title, PASS, f"{len(GATEWAY_SERVICES)}/{len(GATEWAY_SERVICES)} answer"
    )


async def _pings_check(run: RemoteRun, domain: str) -> CheckResult:
    title = "/ping of auth, config, countryconfig"
    bad = []
    for service in PINGS:
        result = await run(curl_argv(domain, service, "/ping"))
        code, _body = _http(result.stdout)
        if result.exit_status != 0 or code != 200:
            bad.append(f"{service}: {'HTTP ' + str(code) if code else 'no answer'}")
    if bad:
        return CheckResult(
            "pings", title, FAIL, f"{len(PINGS) - len(bad)}/{len(PINGS)} answer", bad
        )
    return CheckResult("pings", title, PASS, f"{len(PINGS)}/{len(PINGS)} answer")


async def _login_check(run: RemoteRun, domain: str) -> CheckResult:
    title = "Login page reachable"
    result = await run(curl_argv(domain, "login", "/"))
    code, _body = _http(result.stdout)
    if result.exit_status == 0 and code == 200:
        return CheckResult("login", title, PASS, f"https://login.{domain}/ answers 200")
    why = (
        f"HTTP {code}" if code else (result.stderr.strip().splitlines() or ["no answer"])[-1][:200]
    )
    return CheckResult("login", title, FAIL, f"https://login.{domain}/: {why}")


async def _data_fs(run: RemoteRun) -> str:
    result = await run(["df", "-P", "/data"])
    lines = [ln for ln in result.stdout.splitlines()[1:] if ln.strip()]
    return lines[-1].split()[0] if result.exit_status == 0 and lines else ""


async def run_post_deploy_checks(
    run: RemoteRun, environment: str, manager: str, domain: str
) -> PostDeployChecks:
    """Every check, on the manager; never raises for a failed check (it is a result)."""
    from tasks.text import strip_control

    checks = PostDeployChecks(environment, manager, domain, now_iso())
    ls = await run(["docker", "service", "ls", "--format", DOCKER_SERVICE_FORMAT])
    data_fs = await _data_fs(run)
    if ls.exit_status != 0:
        said = strip_control((ls.stderr or ls.stdout).strip()[:200])
        checks.results.append(
            CheckResult(
                "services", "Every service at n/n", UNKNOWN, f"docker service ls failed: {said}"
            )
        )
    else:
        try:
            checks.results.append(_services_check(parse_docker_services(ls.stdout), data_fs))
        except Unparseable as exc:
            checks.results.append(
                CheckResult(
                    "services", "Every service at n/n", UNKNOWN, f"docker service ls: {exc}"
                )
            )
    checks.results.append(_migration_check(await migration_progress(run)))
    checks.results.append(await _gateway_check(run, domain))
    checks.results.append(await _pings_check(run, domain))
    checks.results.append(await _login_check(run, domain))
    if data_fs.startswith("/dev/mapper/"):
        checks.results.append(CheckResult("data", "Encrypted /data mounted", PASS, data_fs))
    else:
        checks.results.append(
            CheckResult(
                "data",
                "Encrypted /data mounted",
                WARN,
                f"/data is on {data_fs or 'an unknown device'}, not an encrypted volume",
                [],
                [FIX_ENCRYPTED_DATA],
            )
        )
    return checks
