"""Phase 1, Prepare: every question of Step 1 of the migration notes, as a form.

Thin: the answers live in ``tasks.upgrade.answers.Answers`` (saved into the session on
every change), the checks are ``tasks.upgrade.answers`` / ``tasks.upgrade.detect`` functions
wrapped as Textual validators, and the plan is ``tasks.upgrade.plan``'s.
Keyboard: Tab / Shift+Tab move, Enter advances when the field is valid,
arrows choose, space or Enter ticks a box.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalGroup, VerticalScroll
from textual.message import Message
from textual.validation import ValidationResult
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, RadioSet, Static

from screens.base import PhaseHeading, PhaseScreen
from screens.modals.reason import ReasonModal
from screens.widgets.form import Choice, ProblemValidator, TickBox
from tasks.errors import CrvsError, ReadOnlySession
from tasks.names import remote_name_problem
from tasks.session.phases import PhaseStatus
from tasks.text import sanitize
from tasks.upgrade.answers import (
    INVENTORY_ENVIRONMENTS,
    Answers,
    CitizenRegistration,
    EnvironmentId,
    ServerKind,
    cluster_size_problem,
    format_server_free,
    installation_problem,
    parse_server_free,
    positive_int_problem,
    resolve_answer_path,
    suggested_inventory,
    version_problem,
)
from tasks.upgrade.catalogue import bundled_catalogue, latest_version
from tasks.upgrade.detect import (
    absolute_path,
    detect_current_version,
    file_problem,
    git_checkout_problem,
)
from tasks.upgrade.from_health import answers_from_health
from tasks.upgrade.plan import (
    PlanRecord,
    answers_done,
    answers_frozen,
    load_plan,
    record_detected_version,
    reopen_answers,
    update_plan,
)

W = TypeVar("W", bound=Widget)
YES_NO = [("yes", "Yes"), ("no", "No")]
PATH_FIELDS = ("config_path", "core_path", "core_fork_path")


def _server_free_problem(text: str) -> str | None:
    try:
        parse_server_free(text)
    except ValueError as exc:
        return str(exc)
    return None


def _bool_key(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


class PrepareScreen(PhaseScreen):
    DEFAULT_CSS = """
    PrepareScreen #answers-frozen {
        height: auto;
        padding: 0 1 0 0;
        background: $boost;
    }
    PrepareScreen #frozen-note {
        width: 1fr;
        height: auto;
    }
    PrepareScreen #answers-frozen Button {
        width: auto;
        min-width: 0;
        height: 1;
        border: none;
    }
    PrepareScreen .prepare-form {
        padding: 0 1 1 0;
    }
    PrepareScreen .prepare-form .section {
        width: 100%;
        text-style: bold underline;
        margin-top: 1;
    }
    PrepareScreen .prepare-form .question {
        height: auto;
        margin-top: 1;
    }
    PrepareScreen .prepare-form .question-label {
        width: 100%;
        color: $text;
    }
    PrepareScreen .prepare-form Input {
        width: 1fr;
        max-width: 60;
        background: $boost;
    }
    PrepareScreen .prepare-form Input:focus {
        background: $primary 30%;
    }
    PrepareScreen .prepare-form .choice {
        height: auto;
        width: auto;
        max-width: 100%;
    }
    PrepareScreen .prepare-form .field-error {
        height: auto;
        color: $error;
        display: none;
    }
    PrepareScreen .prepare-form .detected {
        height: auto;
        color: $success;
    }
    PrepareScreen .prepare-form .subfields {
        height: auto;
        padding-left: 2;
        border-left: vkey $primary-darken-2;
    }
    PrepareScreen .prepare-form Checkbox {
        border: none;
        padding: 0;
        height: 1;
    }
    PrepareScreen .prepare-form .health-actions {
        height: auto;
        margin-top: 1;
    }
    PrepareScreen .prepare-form .health-actions Button {
        min-width: 0;
        height: 1;
        border: none;
        margin-right: 1;
    }
    PrepareScreen #form-summary {
        margin-top: 1;
        height: auto;
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "cluster_health", "Health"),
        Binding("f3", "fill_from_health", "Fill from health"),
        Binding("f4", "change_answers", "Change answers"),
        Binding("ctrl+n", "done", "Make the plan"),
    ]

    def __init__(self, view_id: str | None = None) -> None:
        super().__init__(view_id or "prepare")
        # The answers as last saved: a change is saved only when they differ.
        self._saved: dict[str, object] = {}

    @property
    def answers(self) -> Answers:
        """The session's answers themselves (``tasks.upgrade.answers.Answers``)."""
        return Answers.of(self.session)

    # -- layout -------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        a = self.answers
        self._saved = a.to_state()
        self._frozen = answers_frozen(self.session)
        with Horizontal(id="answers-frozen"):
            yield Static(self._frozen_text(), id="frozen-note")
            yield Button("F4 Change answers", id="change-answers", classes="small")
        form = VerticalScroll(id="content", classes="prepare-form")
        # Tab goes from the sidebar straight to the first question (while the answers
        # are frozen, the form itself takes the focus: arrows and page keys scroll it).
        form.can_focus = self._frozen
        questions = Questions(id="questions")
        questions.disabled = self._frozen
        with form, questions:
            yield Static(
                "Answer what you know; everything is saved as you type. "
                "Enter moves on when an answer is valid.",
                classes="hint",
            )
            yield Label("Your checkouts", classes="section")
            yield from self.text_question(
                "config_path",
                "Where is your country config checkout (your fork)?",
                "The current version is read from it, and phase 4 merges the release into it.",
                a.config_path,
                self.checkout_problem,
                placeholder="e.g. ~/opencrvs-farajaland",
            )
            yield from self.text_question(
                "core_path",
                "Where is your opencrvs-core checkout?",
                "Phase 3 updates it to the release code.",
                a.core_path,
                self.checkout_problem,
                placeholder="e.g. ~/opencrvs-core",
            )
            yield Label("Versions", classes="section")
            yield from self.text_question(
                "current_version",
                "1. Which version are you on now?",
                "Detected from the country config; change it if it is wrong. "
                "Minor versions cannot be skipped.",
                a.current_version,
                lambda v: version_problem(v) if v.strip() else None,
                placeholder="e.g. 1.3.0",
                after=Static("", id="current_version-detected", classes="detected"),
            )
            yield from self.choice_question(
                "target_version",
                "2. Which version do you want to upgrade to?",
                f"Known 1.3.x releases; the latest is {latest_version()}.",
                [(r.version, f"{r.version}  {r.date}") for r in bundled_catalogue().releases],
                a.target_version,
            )
            # The rest of the form is mounted here after the first paint, part by part
            # (``form_ready``): two hundred widgets styled at once would hold the screen.
            yield VerticalGroup(id="form-rest")

    def later_parts(self) -> list[tuple[str, FormPart]]:
        """The form below the first screenful: (where it goes, the part), in order."""
        a = self.answers
        deployment = FormPart(self.deployment_questions, id="deployment", classes="subfields")
        return [
            ("#form-rest", FormPart(self.installation_questions)),
            ("#form-rest", _shown_if(bool(a.deployed), deployment)),
            *(
                ("#deployment", _shown_if(a.has(env), FormPart(
                    partial(self.environment_fields, env),
                    id=f"env-{env.value}", classes="subfields environment",
                )))
                for env in EnvironmentId
            ),
            ("#deployment", FormPart(self.backup_questions)),
            ("#form-rest", FormPart(self.form_end)),
        ]  # fmt: skip

    def installation_questions(self) -> ComposeResult:
        a = self.answers
        yield Label("Your installation", classes="section")
        yield from self.choice_question(
            "core_customised",
            "3. Have you customised opencrvs-core (NodeJS or React code)?",
            "If so, your core fork must be merged with the release too.",
            YES_NO,
            _bool_key(a.core_customised),
        )
        with _shown_if(bool(a.core_customised), Vertical(id="core-fork", classes="subfields")):
            yield from self.text_question(
                "core_fork_path",
                "Path of your opencrvs-core fork",
                "The checkout where your customisations live.",
                a.core_fork_path,
                self.checkout_problem,
                placeholder="e.g. ~/opencrvs-core",
            )
            yield from self.text_question(
                "core_upstream_remote",
                "Its upstream remote (the official opencrvs-core)",
                "The remote your fork merges the release from.",
                a.core_upstream_remote,
                lambda v: remote_name_problem(v) if v.strip() else None,
                placeholder="e.g. upstream",
            )
        yield from self.choice_question(
            "integrations",
            "4. Have you integrated other systems through the API or system clients?",
            "Integrations must be tested on QA before production.",
            YES_NO,
            _bool_key(a.integrations),
        )
        with _shown_if(
            bool(a.integrations), Vertical(id="integrations-details", classes="subfields")
        ):
            yield from self.text_question(
                "integrations_list",
                "Which systems?",
                "A comma-separated list, e.g. DHIS2, national ID.",
                a.integrations_list,
                None,
                placeholder="e.g. DHIS2, national ID",
            )
        yield from self.choice_question(
            "fully_configured",
            "5. Is OpenCRVS completely configured?",
            "A configured system has data worth protecting.",
            YES_NO,
            _bool_key(a.fully_configured),
        )
        yield from self.choice_question(
            "real_registrars",
            "6. Have you set up real registrar users?",
            "Real users make the production backup mandatory.",
            YES_NO,
            _bool_key(a.real_registrars),
        )
        yield from self.choice_question(
            "real_citizens",
            "7. Are you registering real citizens?",
            "Real records make the production backup mandatory.",
            [(c.value, c.label) for c in CitizenRegistration],
            a.real_citizens.value if a.real_citizens else None,
        )
        yield from self.choice_question(
            "deployed",
            "8. Have you deployed OpenCRVS to servers?",
            "If not, the upgrade ends once it runs locally.",
            YES_NO,
            _bool_key(a.deployed),
        )

    def deployment_questions(self) -> ComposeResult:
        a = self.answers
        yield from self.choice_question(
            "server_kind",
            "Dedicated or shared servers?",
            "Shared servers compete for RAM and disk during migrations.",
            [(k.value, k.value.capitalize()) for k in ServerKind],
            a.server_kind.value if a.server_kind else None,
        )
        with Vertical(classes="question", id="q-environments"):
            yield _question_text(
                "Which environments do you have?",
                "Test on a separate QA server before production.",
            )
            for env in EnvironmentId:
                yield TickBox(env.label, a.has(env), id=f"has-{env.value}")
            yield Static("", id="environments-error", classes="field-error")

    def backup_questions(self) -> ComposeResult:
        a = self.answers
        with Horizontal(classes="health-actions"):
            # Reached by F2 / F3 (or the mouse): kept out of the Tab and Enter
            # chain so that Enter never leaves the form by surprise.
            for label, button_id in (
                ("F2 Run Cluster health", "run-health"),
                ("F3 Fill from last health check", "fill-health"),
            ):
                button = Button(label, id=button_id, classes="small")
                button.can_focus = False
                yield button
        yield from self.choice_question(
            "backup_server",
            "Have you provisioned a backup server?",
            "Production must not be touched without an off-server backup.",
            YES_NO,
            _bool_key(a.backup_server),
        )
        yield from self.choice_question(
            "automated_backups",
            "Are automated emergency backups set up as documented?",
            "The nightly backup is your way back if the upgrade fails.",
            YES_NO,
            _bool_key(a.automated_backups),
        )

    def form_end(self) -> ComposeResult:
        yield from self.text_question(
            "installation",
            "What do you call this installation? (optional)",
            "It titles the upgrade report and the session, e.g. Farajaland production.",
            self.session.installation,
            installation_problem,
            placeholder="e.g. Farajaland production",
        )
        yield Static("", id="form-summary")
        yield Button("Done, make the plan", id="done", variant="primary")

    def environment_fields(self, env: EnvironmentId) -> ComposeResult:
        e = self.answers.environments.get(env)
        prefix = f"env-{env.value}"

        def val(v: object) -> str:
            return "" if v is None else str(v)

        yield Label(f"{env.label} servers", classes="section")
        yield from self.text_question(
            f"{prefix}-ram_gb",
            "RAM per server (GB)",
            "The docs ask for 16 GB.",
            val(e and e.ram_gb),
            lambda v: positive_int_problem(v, "RAM in GB") if v.strip() else None,
        )
        yield from self.text_question(
            f"{prefix}-cpus",
            "CPUs per server",
            "The docs ask for 8.",
            val(e and e.cpus),
            lambda v: positive_int_problem(v, "number of CPUs") if v.strip() else None,
        )
        yield from self.text_question(
            f"{prefix}-disk_gb",
            "Disk per server (GB)",
            "The docs ask for 320 GB.",
            val(e and e.disk_gb),
            lambda v: positive_int_problem(v, "disk in GB") if v.strip() else None,
        )
        yield from self.text_question(
            f"{prefix}-cluster_size",
            "How many servers in the cluster (1, 3 or 5)?",
            "1 server is for staging/QA only; 3 is normal production.",
            val(e and e.cluster_size),
            lambda v: cluster_size_problem(v) if v.strip() else None,
        )
        yield from self.text_question(
            f"{prefix}-servers",
            "Free disk / RAM per server (optional)",
            "name=free disk GB/free RAM GB, comma-separated; or F3 after a health check.",
            format_server_free(e.servers) if e else "",
            lambda v: _server_free_problem(v) if v.strip() else None,
            placeholder="e.g. manager1=200/12, worker1=180/10",
        )
        if env in INVENTORY_ENVIRONMENTS:
            yield from self.text_question(
                f"{prefix}-inventory_path",
                "Ansible inventory file (optional)",
                "Lets crvs-migrate check and reach these servers.",
                e.inventory_path if e else "",
                self.inventory_problem,
                placeholder="e.g. infrastructure/server-setup/qa.ini"
                if env is EnvironmentId.QA
                else "e.g. infrastructure/server-setup/production.ini",
            )

    def text_question(
        self,
        field_id: str,
        label: str,
        hint: str,
        value: str,
        check: Callable[[str], str | None] | None,
        placeholder: str = "",
        after: Widget | None = None,
    ) -> ComposeResult:
        with Vertical(classes="question", id=f"q-{field_id}"):
            yield _question_text(label, hint)
            field_input = Input(
                value,
                placeholder=placeholder,
                id=field_id,
                validators=[ProblemValidator(check)] if check else None,
                valid_empty=True,
                compact=True,
                select_on_focus=False,
            )
            # No blinking: every blink is a redraw sent over a slow SSH link.
            field_input.cursor_blink = False
            yield field_input
            if after is not None:
                yield after
            yield Static("", id=f"{field_id}-error", classes="field-error")

    def choice_question(
        self,
        field_id: str,
        label: str,
        hint: str,
        options: list[tuple[str, str]],
        value: str | None,
    ) -> ComposeResult:
        with Vertical(classes="question", id=f"q-{field_id}"):
            yield _question_text(label, hint)
            yield FormChoice(options, value, field_id)
            yield Static("", id=f"{field_id}-error", classes="field-error")

    # -- path checks: a served demo reads nothing outside its sandbox -----------

    def checkout_problem(self, value: str) -> str | None:
        if not value.strip():
            return None
        return self.workspace.path_problem(value) or git_checkout_problem(value)

    def inventory_problem(self, value: str) -> str | None:
        if not value.strip():
            return None
        # Relative to the country config checkout, where operators keep inventories.
        path = resolve_answer_path(value, self.answers.config_path)
        return self.workspace.path_problem(path) or file_problem(path)

    # -- life cycle --------------------------------------------------------

    def body_mounted(self) -> None:
        super().body_mounted()
        self.show_frozen()
        self.refresh_derived()
        # The rest of the form once this screenful is on screen.
        self.call_after_refresh(self.post_message, self.FormParts())
        self._check_paths_when_ready()

    class FormParts(Message):
        """Time to mount the rest of the form."""

    async def on_prepare_screen_form_parts(self, message: FormParts) -> None:
        # Handled in this screen's turn, so what comes after (a key's handler, a test's
        # pause) finds the whole form.
        await self.form_ready()

    def _start_form(self) -> None:
        if self._form is None:
            self._form = asyncio.ensure_future(self._mount_later_parts())

    async def form_ready(self) -> None:
        """Wait until every part of the form is mounted (handlers that need a field
        below the first screenful await this; keys typed meanwhile wait their turn)."""
        self._start_form()
        assert self._form is not None
        await asyncio.shield(self._form)

    @property
    def form_complete(self) -> bool:
        """Every part of the form is mounted."""
        return self._parts_mounted

    _form: asyncio.Future[None] | None = None
    _parts_mounted = False

    async def _mount_later_parts(self) -> None:
        for where, part in self.later_parts():
            if not self.still_shown():
                return  # the app is closing (quit right after start): nothing to finish
            await self.query_one(where).mount(part)
            # One part per turn of the loop: keys typed meanwhile are answered first.
            await asyncio.sleep(0)
        if self.still_shown():
            # Complete now, not when this coroutine returns: what depends on the whole
            # form (the conditional parts, the summary at its end) is shown here.
            self._parts_mounted = True
            self.show_conditionals()
            self.refresh_derived()

    def check_paths(self) -> None:
        for field_input in self.query(Input):
            if field_input.value:
                self.show_input_problem(field_input)
        if self.answers.config_path and not self.checkout_problem(self.answers.config_path):
            self.start_detection(self.answers.config_path)

    @work(group="paths")
    async def _check_paths_when_ready(self) -> None:
        # The demo's checkouts appear a moment after the first paint: no "does not exist".
        with contextlib.suppress(CrvsError):
            await self.frame.files_ready()
        await self.form_ready()
        self.check_paths()

    # -- reading and saving answers -------------------------------------------

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        field_id = event.input.id or ""
        if field_id == "installation":
            self.installation_changed(event)
            return
        self.store_input(field_id, event.value, event.validation_result)
        self.show_input_problem(event.input, event.validation_result)
        if (
            field_id == "config_path"
            and event.value.strip()
            and not self.checkout_problem(event.value)
        ):
            self.start_detection(event.value)
        self.answers_changed()

    def installation_changed(self, event: Input.Changed) -> None:
        """The installation's name is the session's own (the report's title reads it)."""
        self.show_input_problem(event.input, event.validation_result)
        if self._frozen or (event.validation_result and not event.validation_result.is_valid):
            return
        name = sanitize(event.value).strip()
        if name != self.session.installation:
            self.session.installation = name
            self.frame.save_session_soon()

    def store_input(self, field_id: str, value: str, result: ValidationResult | None) -> None:
        a = self.answers
        valid = result is None or result.is_valid
        if field_id.startswith("env-"):
            _, env_id, attr = field_id.split("-", 2)
            env = a.environments.get(EnvironmentId(env_id))
            if env is None:
                return
            if attr == "servers":
                if valid:
                    env.servers = parse_server_free(value) if value.strip() else []
            elif attr == "inventory_path":
                # Relative to the country config checkout, where operators keep inventories.
                env.inventory_path = (
                    str(resolve_answer_path(value, a.config_path)) if value.strip() else ""
                )
            else:
                setattr(env, attr, int(value) if valid and value.strip() else None)
            return
        # Text answers are kept as typed (even while invalid) so a half-done form resumes.
        if field_id in PATH_FIELDS:
            value = absolute_path(value)
        setattr(a, field_id, value.strip() if field_id != "integrations_list" else value)

    @on(RadioSet.Changed)
    def choice_changed(self, event: RadioSet.Changed) -> None:
        # Mouse clicks and space; Enter goes through Choice.Answered.
        if isinstance(event.radio_set, Choice):
            self.choice_answered(event.radio_set)

    @on(Choice.Answered)
    async def choice_entered(self, event: Choice.Answered) -> None:
        self.choice_answered(event.choice)
        if event.advance:
            await self.advance_from(event.choice)

    def choice_answered(self, choice: Choice) -> None:
        if choice.id is None:
            return
        key = choice.key
        a = self.answers
        if choice.id == "target_version":
            a.target_version = key or latest_version()
        elif choice.id == "real_citizens":
            a.real_citizens = CitizenRegistration(key) if key else None
        elif choice.id == "server_kind":
            a.server_kind = ServerKind(key) if key else None
        else:
            setattr(a, choice.id, None if key is None else key == "yes")
        self.set_error(choice.id, "")
        self.show_conditionals()
        self.answers_changed()

    @on(Checkbox.Changed)
    def environment_ticked(self, event: Checkbox.Changed) -> None:
        env = EnvironmentId((event.checkbox.id or "").removeprefix("has-"))
        if event.value:
            if env not in self.answers.environments:
                self.answers.environment(env)
                self.read_environment_inputs(env)
                self.suggest_inventory(env)
        else:
            self.answers.environments.pop(env, None)
        self.show_conditionals()
        self.answers_changed()

    def suggest_inventory(self, env: EnvironmentId) -> None:
        """An empty inventory field gets the one the country config keeps for ``env``."""
        if env not in INVENTORY_ENVIRONMENTS:
            return
        field_input = self.query_one(f"#env-{env.value}-inventory_path", Input)
        found = suggested_inventory(self.answers.config_path, env)
        if found and not field_input.value.strip():
            field_input.value = found

    def read_environment_inputs(self, env: EnvironmentId) -> None:
        """A re-ticked environment takes back what is still in its fields."""
        for field_input in self.query(f"#env-{env.value} Input").results(Input):
            result = field_input.validate(field_input.value)
            self.store_input(field_input.id or "", field_input.value, result)

    def answers_changed(self, by_operator: bool = True) -> None:
        """Save on every change; the operator's first answer starts the phase."""
        if self._frozen:
            return  # frozen with the accepted plan: nothing here changes them
        a = self.answers
        state = a.to_state()
        if state == self._saved:
            return  # e.g. a field showing its restored value: nothing changed
        self._saved = state
        record = self.session.phase("prepare")
        status_before = record.status
        if record.status is PhaseStatus.NOT_STARTED and by_operator:
            record.start()
        elif record.status is PhaseStatus.DONE and not a.complete:
            record.reopen()
        self.refresh_derived()
        # Saved on every change, once what was typed is on screen.
        self.frame.save_session_soon()
        if record.status is not status_before:
            self.query_one(PhaseHeading).refresh_heading(self.session)

    # -- showing -------------------------------------------------------------

    def show_conditionals(self) -> None:
        if not self.form_complete:
            return  # shown as the parts mount
        a = self.answers
        self.query_one("#core-fork").display = bool(a.core_customised)
        self.query_one("#integrations-details").display = bool(a.integrations)
        self.query_one("#deployment").display = bool(a.deployed)
        for env in EnvironmentId:
            self.query_one(f"#env-{env.value}").display = env in a.environments

    def show_input_problem(
        self, field_input: Input, result: ValidationResult | None = None
    ) -> None:
        if result is None:
            result = field_input.validate(field_input.value)
        message = ""
        if result is not None and not result.is_valid:
            message = "; ".join(result.failure_descriptions)
        self.set_error(field_input.id or "", message)

    def set_error(self, field_id: str, message: str) -> None:
        """Show why an answer is not accepted right under its field (hidden when fine)."""
        error = self.query_one(f"#{field_id}-error", Static)
        _set_text(error, f"✗ {message}" if message else "")
        error.display = bool(message)

    def refresh_derived(self) -> None:
        """What depends on several answers: the target's check, the detected note, the summary."""
        a = self.answers
        target_problem = a.problem("target_version") if a.current_version else None
        self.set_error("target_version", target_problem or "")
        note = self.query_one("#current_version-detected", Static)
        if a.detected_version:
            if a.current_version == a.detected_version:
                _set_text(note, f"✓ detected: {a.detected_version}  ({self._detected_note})")
            else:
                _set_text(note, f"✎ edited; detected was {a.detected_version}")
        else:
            _set_text(note, self._detected_note and f"? {self._detected_note}")
        if self._detection_kept:
            _set_text(note, f"✎ {self._detection_kept}")
        note.display = bool(str(note.content))
        if not self.form_complete:
            return  # the summary is at the end of the form
        problems = a.problems()
        summary = self.query_one("#form-summary", Static)
        if problems:
            _set_text(summary, f"{len(problems)} answer(s) still needed or invalid.")
        else:
            _set_text(summary, "✓ All answered. Make the plan when you are ready.")

    _detected_note = ""
    _detection_kept = ""
    # Frozen with the accepted plan (``tasks.upgrade.plan.answers_frozen``).
    _frozen = False

    # -- current version detection ------------------------------------------

    _detection_for = ""

    def start_detection(self, config_path: str) -> None:
        path = absolute_path(config_path)
        if path == self._detection_for:
            return  # the same checkout, spelled again (e.g. a restored field)
        self._detection_for = path
        self._detect_worker(config_path)

    @work(group="detect", exclusive=True)
    async def _detect_worker(self, config_path: str) -> None:
        await self.detect(config_path)

    async def detect(self, config_path: str) -> None:
        found = await detect_current_version(config_path, self.journal)
        if not self.still_shown():
            return  # quit while git answered: the form is being taken down
        if absolute_path(config_path) != self.answers.config_path:
            return  # the operator typed another path meanwhile
        a = self.answers
        outcome = record_detected_version(self.session, found.version)
        self._detected_note = found.note
        self._detection_kept = outcome.kept_because
        if outcome.filled:
            current_input = self.query_one("#current_version", Input)
            # Filled in, not answered: it must not start the phase on its own.
            with self.prevent(Input.Changed):
                current_input.value = a.current_version
            self.show_input_problem(current_input)
        self.answers_changed(by_operator=False)
        self.refresh_derived()

    # -- actions -------------------------------------------------------------

    @on(Input.Submitted)
    async def advance(self, event: Input.Submitted) -> None:
        """Enter moves on only when the answer is valid (and given, when it is required)."""
        field_input = event.input
        result = event.validation_result
        problem = None
        if result is not None and not result.is_valid:
            problem = "; ".join(result.failure_descriptions)
        else:
            problem = self.required_problem(field_input.id or "")
        if problem:
            self.set_error(field_input.id or "", problem)
            # Stay here, with the reason in view.
            error = self.query_one(f"#{field_input.id}-error")
            self.call_after_refresh(error.scroll_visible, animate=False)
            return
        await self.advance_from(field_input)

    async def advance_from(self, widget: Widget) -> None:
        """Focus the next field in form order.

        Not ``focus_next``: Textual sorts its focus chain by screen position, and
        sub-fields shown a moment ago have no position until the next layout.
        """
        await self.form_ready()
        fields = [w for w in self.query("*") if w.focusable and _shown(w)]
        if widget in fields:
            index = fields.index(widget)
            if index + 1 < len(fields):
                target = fields[index + 1]
                target.focus()
                self.call_after_refresh(target.scroll_visible)
                return
        self.focus_next()

    def action_next_field(self) -> None:
        self._move_field(+1)

    def action_previous_field(self) -> None:
        self._move_field(-1)

    def _move_field(self, step: int) -> None:
        """Up / down: the field before or after the focused one, in form order."""
        focused = self.focused
        fields = [w for w in self.query("#questions *") if w.focusable and _shown(w)]
        if focused not in fields:
            return
        index = fields.index(focused) + step
        if 0 <= index < len(fields):
            fields[index].focus()
            fields[index].scroll_visible(animate=False)

    def required_problem(self, field_id: str) -> str | None:
        a = self.answers
        if field_id.startswith("env-"):
            _, env_id, attr = field_id.split("-", 2)
            if attr in ("servers", "inventory_path"):
                return None
            return a.problem(f"env.{env_id}.{attr}")
        if field_id in PATH_FIELDS and (value := getattr(a, field_id)):
            if problem := self.workspace.path_problem(value):
                return problem
        if field_id in (
            "config_path",
            "core_path",
            "current_version",
            "core_fork_path",
            "core_upstream_remote",
            "integrations_list",
        ):
            return a.problem(field_id)
        return None

    @on(Button.Pressed, "#done")
    async def done_pressed(self) -> None:
        await self.action_done()

    @on(Button.Pressed, "#run-health")
    def health_pressed(self) -> None:
        self.action_cluster_health()

    @on(Button.Pressed, "#fill-health")
    async def fill_pressed(self) -> None:
        await self.action_fill_from_health()

    def action_cluster_health(self) -> None:
        self.frame.action_navigate("health")

    async def action_fill_from_health(self) -> None:
        """The server answers of every ticked environment from its last health run
        (``tasks.upgrade.from_health``: the backup server is not counted)."""
        await self.form_ready()
        if self._frozen:
            self.notify("The answers are frozen with the accepted plan: F4 to change them.")
            return
        filled = []
        for env in list(self.answers.environments):
            found = answers_from_health(self.session, env)
            if found is None:
                continue
            values = {
                "ram_gb": found.ram_gb,
                "cpus": found.cpus,
                "disk_gb": found.disk_gb,
                "cluster_size": found.cluster_size,
                "servers": format_server_free(found.servers) if found.servers else None,
                "inventory_path": found.inventory_path or None,
            }
            for attr, value in values.items():
                fields = self.query(f"#env-{env.value}-{attr}").results(Input)
                for field_input in fields:
                    if value is not None:
                        # Through the field, as if typed: checked and saved the same way.
                        field_input.value = str(value)
            backup = ", backup server left out" if found.backup_servers else ""
            count = f"{found.cluster_size} server(s)" if found.cluster_size else "free space"
            filled.append(f"{env.label} ({count}{backup})")
        if filled:
            self.notify(f"Filled from the last Cluster health check: {'; '.join(filled)}")
        else:
            self.notify(
                "No Cluster health results for these environments yet: press F2 to run one.",
                severity="warning",
            )

    async def action_done(self) -> None:
        if self._frozen:
            self.frame.action_navigate("plan")
            return
        a = self.answers
        problems = a.problems()
        if problems:
            await self.form_ready()
            self.show_all_problems(problems)
            return
        reopened = PlanRecord.of(self.session).answers_reopened
        stands = answers_done(self.session)
        self.save_session()
        self.journal.event("Preparation questions answered", phase="prepare")
        if reopened and stands:
            self.notify("The answers lead to the plan you accepted: it stands.")
            self.show_frozen()
        self.frame.action_navigate("plan")

    # -- frozen answers -------------------------------------------------------

    def _frozen_text(self) -> Text:
        return Text(
            "The answers are frozen: the plan made from them was accepted. "
            "Changing them makes the plan again, to be accepted again.",
            style="italic",
        )

    def show_frozen(self) -> None:
        """Read-only while frozen, with the way to reopen them."""
        self._frozen = answers_frozen(self.session)
        self.query_one("#answers-frozen").display = self._frozen
        self.query_one("#questions").disabled = self._frozen
        form = self.query_one("#content", VerticalScroll)
        form.can_focus = self._frozen
        if self._frozen and (self.focused is None or self.focused.is_disabled):
            self.query_one("#change-answers", Button).focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "change_answers":
            return self._frozen
        if action == "fill_from_health":
            return not self._frozen
        return super().check_action(action, parameters)

    def on_screen_resume(self) -> None:
        # (Textual calls PhaseScreen's own on_screen_resume as well.) A plan accepted
        # meanwhile freezes the answers; answers reopened stay open.
        if self.body_ready and answers_frozen(self.session) != self._frozen:
            self.show_frozen()

    @on(Button.Pressed, "#change-answers")
    def change_pressed(self) -> None:
        self.action_change_answers()

    @work(group="change-answers", exclusive=True)
    async def action_change_answers(self) -> None:
        if not answers_frozen(self.session):
            return
        if self.workspace.read_only:
            raise ReadOnlySession("Changing the answers")
        reason = await self.app.push_screen_wait(
            ReasonModal(
                "Change the answers",
                "The plan made from these answers was accepted, and the upgrade follows "
                "it. Changing an answer makes the plan again: what changed is shown, and "
                "the new plan must be accepted before the next phase.\n\n"
                "Why do the answers change? (kept in the journal)",
                "e.g. production has 5 servers, not 3",
                "Reopen the answers",
            )
        )
        if reason is None:
            return
        reopen_answers(self.session, reason, self.journal)
        self.save_session()
        self.show_frozen()
        self.notify("Answers reopened: change what is needed, then make the plan again.")

    def on_screen_suspend(self) -> None:
        # Leaving Prepare after a plan was made: keep the plan (and so the
        # sidebar) in step with the answers, even if Plan is not visited next.
        # Frozen answers leave the accepted plan as it was accepted.
        if load_plan(self.session) is not None and not answers_frozen(self.session):
            _, changed = update_plan(self.session)
            if changed:
                self.save_session()

    def show_all_problems(self, problems: list[tuple[str, str]]) -> None:
        first: Widget | None = None
        for name, reason in problems:
            widget_id = _widget_id(name)
            try:
                self.set_error(widget_id, reason)
                widget = self.query_one(
                    "#has-staging" if widget_id == "environments" else f"#{widget_id}"
                )
            except Exception:  # noqa: BLE001 - a problem without a field of its own
                continue
            if first is None and widget.focusable:
                first = widget
        self.query_one("#form-summary", Static).update(
            Text(f"✗ {len(problems)} answer(s) still needed or invalid: see the marked fields.")
        )
        if first is not None:
            first.focus()
            first.scroll_visible()
        self.notify(f"{len(problems)} answer(s) still needed.", severity="warning")


class Questions(VerticalGroup):
    """The form's questions. Up and down move between its fields (bound here, under the
    scrolling form, whose own arrows would scroll it; a choice's arrows go first)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "screen.next_field", "Next field", show=False),
        Binding("up", "screen.previous_field", "Previous field", show=False),
    ]


class FormChoice(Choice, inherit_bindings=False):
    """A question of the form: left and right choose; up and down choose too, and past
    the first or last answer move to the field before or after (as in the rest of the
    form)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            b
            for b in Choice.BINDINGS
            if isinstance(b, Binding) and b.action not in ("next_button", "previous_button")
        ),
        Binding("right", "next_button", "Next option", show=False),
        Binding("left", "previous_button", "Previous option", show=False),
        Binding("down", "down", "Next option or field", show=False),
        Binding("up", "up", "Previous option or field", show=False),
    ]

    def action_down(self) -> None:
        if self._selected is not None and self._selected >= len(self.keys) - 1:
            if isinstance(self.screen, PrepareScreen):
                self.screen.action_next_field()
        else:
            self.action_next_button()

    def action_up(self) -> None:
        if self._selected is not None and self._selected <= 0:
            if isinstance(self.screen, PrepareScreen):
                self.screen.action_previous_field()
        else:
            self.action_previous_button()


class FormPart(Vertical):
    """A part of the form composed when it is mounted (``PrepareScreen.later_parts``)."""

    DEFAULT_CSS = """
    FormPart {
        height: auto;
    }
    """

    def __init__(self, make: Callable[[], ComposeResult], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._make = make

    def compose(self) -> ComposeResult:
        yield from self._make()


def _shown_if(shown: bool, widget: W) -> W:
    """``widget``, displayed only if ``shown`` (a question that depends on an answer)."""
    widget.display = shown
    return widget


def _question_text(question: str, hint: str) -> Static:
    """The question and why it matters, in one widget (fewer widgets, faster layout)."""
    text = Text()
    text.append(question, style="bold")
    text.append("\n")
    text.append(hint, style="italic")
    return Static(text, classes="question-label")


def _shown(widget: Widget) -> bool:
    node = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent  # type: ignore[assignment]
    return True


def _set_text(widget: Static, text: str) -> None:
    """Update only on a change, and re-lay out the (long) form only when the
    text's height changes: a layout of the whole form per keystroke is the
    main cost of typing here."""
    old = str(widget.content)
    if old == text:
        return
    width = widget.content_size.width
    same_height = width > 0 and _lines(old, width) == _lines(text, width)
    widget.update(Text(text), layout=not same_height)


def _lines(text: str, width: int) -> int:
    return sum(max(1, -(-cell_len(line) // width)) for line in text.split("\n")) if text else 0


def _widget_id(field_name: str) -> str:
    if field_name.startswith("env."):
        _, env_id, attr = field_name.split(".", 2)
        return f"env-{env_id}-{attr}"
    return field_name


SCREEN = PrepareScreen
