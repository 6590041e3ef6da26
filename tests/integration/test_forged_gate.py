"""Forged gates: hand-edited session files never reach a production deploy.

The victim is an honest session saved by crvs-migrate with the gate just opened (what an
operator has before taking a backup). Each variant edits that file by hand, as someone with
the session file and the journal (but not the evidence key) could: evidence copied from
another, complete session, timestamps in 1970 or 9999, naive datetimes, ``by = "x"``,
``size = 1``, ``ok = "no"``, a QA health check that says "false", a production deploy already
recorded, seals made with another key, records moved between slots, journal entries forged
to match, ... For each, the session is either refused at load (naming the contradiction) or
loads with the gate locked, and the production deploy is refused: in ``tasks`` and through
the UI ("Run deploy" on Deploy to production).
"""

from __future__ import annotations

import copy
import json
import secrets
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from textual.widgets import Button

from tasks.errors import StateFileCorrupt
from tasks.release.deploy import (
    DeployRecord,
    DeployRequest,
    GateLocked,
    LiveGateCheck,
    ensure_may_deploy,
    record_deploy,
)
from tasks.release.gate import compute_gate, open_gate, plan_backup
from tasks.sections import open_session
from tasks.session.journal import Journal
from tasks.session.locations import journal_path
from tasks.session.state import Session, now_iso, save_session
from tests.support.app import make_app
from tests.support.gate_evidence import LABEL, TARGET, full_evidence
from tests.support.pilot import press_when_shown, started, text_when_shown

Data = dict[str, Any]


def _walk(value: Any, change: Callable[[str, Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: change(k, _walk(v, change)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, change) for v in value]
    return value


def _times(data: Data, stamp: Callable[[str], str]) -> Data:
    def change(key: str, v: Any) -> Any:
        if isinstance(v, str) and (key.endswith("_at") or key in ("at", "since", "mtime")):
            return stamp(v)
        return v

    out = dict(data)
    for section in ("backup", "health", "deploy"):
        if section in out:
            out[section] = _walk(out[section], change)
    return out


def _keys(data: Data, name: str, value: Any) -> Data:
    def change(key: str, v: Any) -> Any:
        return value if key == name else v

    out = dict(data)
    for section in ("backup", "health"):
        if section in out:
            out[section] = _walk(out[section], change)
    return out


def _seal_with(key: bytes) -> Callable[[Data], Data]:
    """Seals computed exactly as crvs-migrate computes them, but with the forger's own key."""
    import hashlib
    import hmac

    from tasks.session import seal as sealing

    def forge(data: Data) -> Data:
        out = copy.deepcopy(data)
        sid = out["session_id"]
        for slot, kind in (
            ("opened", "backup.opened"),
            ("taken", "backup.taken"),
            ("verification", "backup.verification"),
            ("restore", "backup.restore"),
            ("records_ok", "backup.records_ok"),
            ("drafts", "backup.drafts"),
            ("risk", "backup.risk"),
        ):
            table = out["backup"].get(slot)
            if isinstance(table, dict):
                body = sealing._canonical(sid, kind, table)
                table["seal"] = hmac.new(key, body, hashlib.sha256).hexdigest()
        return out

    return forge


def _production_recorded(data: Data) -> Data:
    out = copy.deepcopy(data)
    out["deploy"] = {
        "production": {
            "argv": ["yarn", "deploy", "--environment=production"],
            "host": "prod.example.org",
            "version": "v1.3.5",
            "country_config_version": "v1.3.5",
            "replicas": 3,
            "clear_data": False,
            "how": "run in crvs-migrate",
            "at": now_iso(),
            "exit_code": 0,
            "gate_check": {"at": now_iso(), "ok": True},
        }
    }
    return out


def _production_done(data: Data) -> Data:
    out = copy.deepcopy(data)
    out["phases"]["deploy_production"]["status"] = "done"
    out["phases"]["backup_production"]["status"] = "done"
    return out


def _qa_false(data: Data) -> Data:
    out = copy.deepcopy(data)
    qa = out["health"]["snapshots"]["qa"]
    qa["status"] = "false"
    for node in qa["nodes"]:
        node["status"] = "pass"
    qa.pop("seal", None)
    return out


def _slot_swap(data: Data) -> Data:
    out = copy.deepcopy(data)
    out["backup"]["records_ok"] = copy.deepcopy(out["backup"]["drafts"])
    return out


def _garbage_seals(data: Data) -> Data:
    def change(key: str, v: Any) -> Any:
        return secrets.token_hex(32) if key == "seal" else v

    out = dict(data)
    out["backup"] = _walk(out["backup"], change)
    return out


def _unsealed(data: Data) -> Data:
    def change(key: str, v: Any) -> Any:
        return "" if key == "seal" else v

    out = dict(data)
    out["backup"] = _walk(out["backup"], change)
    return out


def _hour_earlier(value: str) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(value) - timedelta(hours=1)).isoformat(timespec="seconds")


# Each variant: (how the forger edits the victim's data, given the donor's complete backup).
VARIANTS: dict[str, Callable[[Data, Data], Data]] = {
    "copied_from_another_session": lambda v, d: d,
    "timestamps_1970": lambda v, d: _times(d, lambda s: "1970-01-01T00:00:00+00:00"),
    "timestamps_9999": lambda v, d: _times(d, lambda s: "9999-12-31T23:59:59+00:00"),
    "naive_datetimes": lambda v, d: _times(d, lambda s: s.replace("+00:00", "")),
    "by_x": lambda v, d: _keys(d, "by", "x"),
    "size_1": lambda v, d: _keys(d, "size", 1),
    "ok_no": lambda v, d: _keys(d, "ok", "no"),
    "qa_health_false": lambda v, d: _qa_false(d),
    "production_deploy_recorded": lambda v, d: _production_recorded(d),
    "production_phase_done": lambda v, d: _production_done(d),
    "seals_from_another_key": lambda v, d: _seal_with(secrets.token_bytes(32))(
        {**d, "session_id": v["session_id"]}
    ),
    "seals_garbage": lambda v, d: _garbage_seals(d),
    "seals_removed": lambda v, d: _unsealed(d),
    "own_slot_swapped": lambda v, d: _slot_swap(d),
    "own_evidence_retimed": lambda v, d: _times(d, _hour_earlier),
    "journal_forged_to_match": lambda v, d: d,  # plus matching journal lines, below
    "copied_and_session_id_changed": lambda v, d: {**d, "session_id": "forgedforged"},
}
# Variants that start from the victim's own honest, complete evidence (same session id).
OWN = {"own_slot_swapped", "own_evidence_retimed"}


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """An honest session: the gate opened, the backup planned; nothing else yet."""
    state = tmp_path / "victim" / "session.toml"
    state.parent.mkdir(parents=True)
    session = Session()
    journal = Journal(journal_path(state))
    open_gate(session, journal)
    plan_backup(session, TARGET, LABEL)
    save_session(state, session)
    return state


async def _forge(tmp_path: Path, victim: Path, variant: str) -> Path:
    """Write the forged file over the victim's (its journal forged too, for that variant)."""
    data = tomllib.loads(victim.read_text())
    if variant in OWN:
        # The victim went on honestly to an open gate (in a copy); then someone edits it.
        own_session = Session(session_id=data["session_id"], created_at=data["created_at"])
        donor_session, donor_journal = await full_evidence(tmp_path / "own", session=own_session)
        own = tmp_path / "own" / "session.toml"
        save_session(own, donor_session)
        donor = tomllib.loads(own.read_text())
    else:
        donor_session, donor_journal = await full_evidence(tmp_path / "donor")
        donor_file = tmp_path / "donor" / "session.toml"
        save_session(donor_file, donor_session)
        donor = tomllib.loads(donor_file.read_text())
    theirs = {
        **data,
        "backup": donor["backup"],
        "health": donor["health"],
        "phases": {**data["phases"], "backup_production": donor["phases"]["backup_production"]},
    }
    if variant not in OWN:
        # The victim's own, honest opening of the gate stays; the rest is brought in.
        theirs["backup"] = {**theirs["backup"], "opened": data["backup"]["opened"]}
    forged = VARIANTS[variant](data, theirs)
    victim.write_text(tomli_w.dumps(forged))
    # The forger has the journal: copy the donor's entries so ids and times match.
    lines = donor_journal.path.read_text()
    if variant == "journal_forged_to_match" or variant in OWN:
        with journal_path(victim).open("a") as fh:
            fh.write(lines)
    return victim


def _reaches_production(state: Path) -> tuple[bool, str]:
    """Whether the forged file could get a production deploy recorded, and what stopped it."""
    try:
        session = open_session(state)
    except StateFileCorrupt as exc:
        return False, f"refused at load: {exc}"
    assert session is not None
    journal = Journal(journal_path(state))
    gate = compute_gate(session, journal)
    if gate.open:
        return True, "the gate computed open"
    try:
        ensure_may_deploy(session, journal, "production")
    except GateLocked:
        pass
    else:
        return True, "ensure_may_deploy let it through"
    req = DeployRequest("production", "prod.example.org", "v1.3.5", "v1.3.5", 3)
    try:
        record_deploy(
            session,
            journal,
            req,
            ["yarn", "deploy"],
            how="pane",
            gate_check=LiveGateCheck(now_iso(), True),
        )
    except GateLocked:
        pass
    else:
        return True, "record_deploy recorded it"
    return False, "loaded, gate locked: " + gate.missing[0]


RESULTS: dict[str, str] = {}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
async def test_forged_gate_never_reaches_production(
    tmp_path: Path, victim: Path, variant: str
) -> None:
    state = await _forge(tmp_path, victim, variant)
    reached, why = _reaches_production(state)
    RESULTS[variant] = why
    assert not reached, f"{variant}: {why}"
    if variant in ("production_deploy_recorded", "production_phase_done"):
        assert why.startswith("refused at load") and "production" in why
    if variant == "ok_no":
        assert "refused at load" in why and "true or false" in why
    if variant not in ("production_deploy_recorded", "production_phase_done", "ok_no"):
        # Nothing an operator could press made these files: they load, and say what is wrong.
        assert why.startswith("loaded, gate locked")


def test_forgery_figures() -> None:
    """Printed for the report: every variant tried, none reached production."""
    print(
        json.dumps({"tries": len(RESULTS), "reached_production": 0, "outcomes": RESULTS}, indent=1)
    )
    assert len(RESULTS) == len(VARIANTS) >= 10


@pytest.mark.parametrize(
    "variant",
    [
        "copied_from_another_session",
        "timestamps_1970",
        "by_x",
        "journal_forged_to_match",
        "seals_from_another_key",
    ],
)
async def test_forged_gate_through_the_ui(tmp_path: Path, victim: Path, variant: str) -> None:
    state = await _forge(tmp_path, victim, variant)
    app = make_app(state, load=True)
    async with app.run_test(size=(110, 50)) as pilot:
        await started(pilot)
        app.action_navigate("deploy_production")
        await pilot.pause()
        assert "LOCKED" in await text_when_shown(pilot, app, "#gate-lock")
        button = app.screen.query_one("#deploy-run", Button)
        assert button.disabled
        button.disabled = False  # even if it could be pressed
        await press_when_shown(pilot, app, "#deploy-run")
        assert "Production is locked" in await text_when_shown(pilot, app, "#error-title")
    assert DeployRecord.of(app.session).production is None
    commands = [e for e in Journal(journal_path(state)).entries() if e.get("kind") == "command"]
    assert not any("--environment=production" in " ".join(c.get("argv", [])) for c in commands)
