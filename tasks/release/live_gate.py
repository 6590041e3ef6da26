"""The gate verified, not believed: re-checked over SSH at the moment production is deployed.

Before ``deploy.sh --environment=production`` runs, ``verify_gate_live``:

1. lists the backup again on the backup server (every part present, its size, newer than
   the gate's opening) and keeps that fresh verification as the evidence of condition 2;
2. runs Cluster health on QA again (a check made now is after the restore), which is the
   evidence of condition 3's health;
3. recomputes the gate from the evidence, seals and journal included.

The production deploy runs only on a ``LiveGateCheck`` that passed (``tasks.release.deploy``
refuses the deploy otherwise, and the deploy record keeps the check it stood on). It also
reads what production runs now (``read_previous_versions``): the way back.
"""

from __future__ import annotations

from tasks.errors import CrvsError
from tasks.release.backup import Verification, verify_backup
from tasks.release.deploy import LiveGateCheck, PreviousVersions
from tasks.release.gate import BackupRecord, compute_gate, record_verification
from tasks.servers.environments import check_environment, manager_runner, ssh_options
from tasks.servers.runner import RemoteRun, ssh_runner
from tasks.session.journal import Journal
from tasks.session.state import Session, now_iso
from tasks.session.workspace import Workspace


async def verify_backup_now(session: Session, workspace: Workspace) -> Verification | None:
    """List the gate's backup on the backup server now (None when none is planned)."""
    from tasks.text import strip_control

    b = BackupRecord.of(session)
    target = b.target
    if target is None or not b.label or not b.gate_opened_at:
        return None
    try:
        async with ssh_runner(
            target.ssh_host, target.ssh_port, target.ssh_user, ssh_options(workspace)
        ) as run:
            return await verify_backup(
                run, target.ssh_host, target.remote_dir, b.label, b.gate_opened_at
            )
    except CrvsError as exc:
        return Verification(
            target.ssh_host,
            target.remote_dir,
            b.label,
            b.gate_opened_at,
            error=f"the backup server did not answer: {strip_control(exc.message)[:300]}",
        )


async def verify_gate_live(
    session: Session, journal: Journal, workspace: Workspace
) -> LiveGateCheck:
    verification = await verify_backup_now(session, workspace)
    if verification is not None:
        record_verification(session, verification)
    qa_at, qa_status, qa_problem = "", "", ""
    try:
        snapshot = await check_environment(session, workspace, "qa")
        qa_at, qa_status = snapshot.checked_at, snapshot.status.value
    except CrvsError as exc:
        qa_problem = f"QA could not be checked: {exc.message}"
    gate = compute_gate(session, journal)
    missing = list(gate.missing) + ([qa_problem] if qa_problem else [])
    return LiveGateCheck(
        at=now_iso(),
        ok=gate.open and not qa_problem,
        missing=missing,
        verification=verification,
        qa_checked_at=qa_at,
        qa_status=qa_status,
    )


SERVICE_IMAGES = ["docker", "service", "ls", "--format", "{{.Name}}\t{{.Image}}"]


async def read_previous_versions(run: RemoteRun) -> PreviousVersions:
    """The images production runs now: the core tag (gateway's) and the country config's."""
    from tasks.text import strip_control

    result = await run(SERVICE_IMAGES)
    images: dict[str, str] = {}
    if result.exit_status == 0:
        for line in result.stdout.splitlines():
            name, sep, image = line.partition("\t")
            if sep and name.strip():
                images[strip_control(name.strip())] = strip_control(image.strip())
    previous = PreviousVersions(now_iso(), images=images)
    previous.core = _tag(images.get("opencrvs_gateway", ""))
    previous.country_config = _tag(images.get("opencrvs_countryconfig", ""))
    return previous


def _tag(image: str) -> str:
    # repo/name:tag@sha256:...
    image = image.split("@", 1)[0]
    name, sep, tag = image.rpartition(":")
    return tag if sep and "/" not in tag else ""


async def production_before_deploy(session: Session, workspace: Workspace) -> PreviousVersions:
    try:
        async with manager_runner(session, workspace, "production") as run:
            return await read_previous_versions(run)
    except CrvsError:
        return PreviousVersions(now_iso())
