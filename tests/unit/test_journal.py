"""The journal is append-only JSON lines and never holds secrets."""

from __future__ import annotations

import json
import stat

from tasks.session.journal import MASK, Journal, mask_argv, operator_identity


def test_commands_and_confirmations_are_appended(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.command(
        ["git", "fetch"],
        "/repo",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:01+00:00",
        0,
        duration_s=1.0,
        phase="update_core",
        step="git_fetch",
    )
    first = j.path.read_bytes()
    j.confirmation("abort the merge", phase="merge_config")
    second = j.path.read_bytes()
    # Append-only: what was written is never rewritten.
    assert second.startswith(first) and len(second) > len(first)
    entries = list(j.entries())
    assert [e["kind"] for e in entries] == ["command", "confirmation"]
    assert entries[0]["argv"] == ["git", "fetch"] and entries[0]["exit_code"] == 0
    assert entries[0]["cwd"] == "/repo"
    assert entries[1]["by"] == operator_identity() and "@" in entries[1]["by"]
    assert stat.S_IMODE(j.path.stat().st_mode) == 0o600


def test_secret_arguments_are_masked(tmp_path):
    argv = [
        "deploy.sh",
        "--host=qa.example",
        "SMTP_PASSWORD=hunter2",
        "--api-token",
        "abc123",
        "--version=v1.3.5",
    ]
    masked = mask_argv(argv)
    assert masked == [
        "deploy.sh",
        "--host=qa.example",
        f"SMTP_PASSWORD={MASK}",
        "--api-token",
        MASK,
        "--version=v1.3.5",
    ]
    j = Journal(tmp_path / "j.jsonl")
    j.command(argv, None, "a", "b", 0)
    text = j.path.read_text()
    assert "hunter2" not in text and "abc123" not in text


def test_a_damaged_line_is_reported_not_dropped(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.event("started")
    with j.path.open("a") as fh:
        fh.write("{not json\n")
    j.event("again")
    kinds = [e["kind"] for e in j.entries()]
    assert kinds == ["event", "damaged", "event"]
    assert json.loads(j.path.read_text().splitlines()[0])["what"] == "started"
