"""One masking for argv and text: the journal, the report, step logs and shown commands."""

from __future__ import annotations

import json
import shlex

import pytest

from tasks.local.process import Command
from tasks.masking import MASK, is_secret_name, mask_argv, mask_text
from tasks.session.journal import Journal

SECRET = "S3cr3t-v4lue"

# The 11 forms that passed the old masking, as argv, and what must be left.
FORMS: list[tuple[list[str], list[str]]] = [
    (["ansible", f"ansible_ssh_pass={SECRET}"], ["ansible", f"ansible_ssh_pass={MASK}"]),
    (["ansible", "-e", f"ansible_become_pass={SECRET}"], ["ansible", "-e", f"ansible_become_pass={MASK}"]),
    (["x.sh", f"--ssh_pass={SECRET}"], ["x.sh", f"--ssh_pass={MASK}"]),
    (["mysql", f"-p{SECRET}", "-u", "root"], ["mysql", f"-p{MASK}", "-u", "root"]),
    (["tool", "--db-pass", SECRET, "--verbose"], ["tool", "--db-pass", MASK, "--verbose"]),
    (["tool", f"--api-key={SECRET}"], ["tool", f"--api-key={MASK}"]),
    (["tool", f"--key={SECRET}"], ["tool", f"--key={MASK}"]),
    (["curl", "-H", f"Authorization: Bearer {SECRET}", "https://h/x"],
     ["curl", "-H", f"Authorization: Bearer {MASK}", "https://h/x"]),
    (["tool", f"--credentials={SECRET}"], ["tool", f"--credentials={MASK}"]),
    (["tool", f"--passphrase={SECRET}"], ["tool", f"--passphrase={MASK}"]),
    (["git", "push", f"https://user:{SECRET}@github.example/o/r.git"],
     ["git", "push", f"https://{MASK}@github.example/o/r.git"]),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "masked"), FORMS, ids=[f[0][-1][:24] for f in FORMS])
def test_the_eleven_forms_are_masked(argv: list[str], masked: list[str]) -> None:
    assert mask_argv(argv) == masked


@pytest.mark.parametrize(
    "name",
    ["SMTP_PASSWORD", "ansible_ssh_pass", "CLIENT_SECRET", "GITHUB_TOKEN", "EMAIL_API_KEY",
     "X_AUTH", "Authorization", "GOOGLE_CREDENTIALS", "NATIONAL_ID_OIDP_CLIENT_PRIVATE_KEY",
     "SENTRY_DSN", "passphrase"],
)  # fmt: skip
def test_names_that_say_secret(name: str) -> None:
    assert is_secret_name(name)
    assert mask_argv([f"{name}={SECRET}"]) == [f"{name}={MASK}"]
    assert mask_argv([f"--{name.lower()}", SECRET]) == [f"--{name.lower()}", MASK]
    assert SECRET not in mask_text(f"set {name}={SECRET} then")


@pytest.mark.parametrize(
    "arg",
    ["--host=qa.example", "--version=v1.3.5", "--environment=production", "--author=Jo Doe",
     "--clear_data=no", "--replicas=3", "-p", "git", "/home/op/opencrvs-core"],
)  # fmt: skip
def test_ordinary_arguments_stay(arg: str) -> None:
    assert mask_argv([arg]) == [arg]


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {SECRET}",
        f"authorization: basic {SECRET}",
        f"Bearer {SECRET}",
        f"fetch https://ops:{SECRET}@git.example/x and go",
        f"ssh://{SECRET}@host:22/",
        f"run deploy.sh --db-pass {SECRET} now",
        f"SMTP_PASSWORD={SECRET} KIBANA_PASSWORD='{SECRET}'",
        f"mysql -p{SECRET}",
        f"password: {SECRET}",
        f"https://h/hook?token={SECRET}",
    ],
)
def test_free_text_is_masked(text: str) -> None:
    masked = mask_text(text)
    assert SECRET not in masked and MASK in masked


def test_masking_is_stable_when_applied_again() -> None:
    once = shlex.join(mask_argv(["deploy", f"--password={SECRET}", "--host=prod"]))
    assert once == f"deploy '--password={MASK}' --host=prod"
    assert mask_text(once) == once
    assert mask_argv(mask_argv(["tool", "--db-pass", SECRET])) == ["tool", "--db-pass", MASK]


def test_journal_masks_argv_confirmations_and_events(tmp_path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    for argv, _ in FORMS:
        j.command(argv, None, "a", "b", 0)
    j.confirmation(f"run again: mysql -p{SECRET} (token: {SECRET})")
    j.confirmation(f"add remote: git remote add up https://me:{SECRET}@h/r.git")
    j.event(f"cancel requested: tool --api-key={SECRET}")
    text = j.path.read_text()
    assert SECRET not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert len(entries) == len(FORMS) + 3
    assert entries[-2]["what"] == f"add remote: git remote add up https://{MASK}@h/r.git"


def test_shown_and_logged_commands_are_masked(tmp_path) -> None:
    cmd = Command(("deploy.sh", f"--password={SECRET}", "--host=qa"), tmp_path)
    assert SECRET not in cmd.display
    assert cmd.argv[1] == f"--password={SECRET}"  # what runs is untouched
