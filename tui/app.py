"""The crvs-migrate Textual application."""

from __future__ import annotations

import asyncio
import gc
import importlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.worker import WorkerFailed

from assets import asset
from screens.base import PhaseScreen
from screens.frame import Frame
from screens.messages import NavigateTo
from screens.modals.confirm import ChoiceModal
from screens.modals.error import ErrorModal
from tasks.errors import CrvsError, ReadOnlySession, StateFileError, StorageError
from tasks.local.process import ProcessRun, RunningSteps
from tasks.sections import new_session
from tasks.session.jumphost import jump_host_advice
from tasks.session.phases import PHASES
from tasks.session.state import Session, new_session_path
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers
from tui.commands import CrvsCommands
from tui.held_keys import HeldKeys
from tui.themes import auto_theme
from tui.views import Views

if TYPE_CHECKING:
    from screens.state_error import StateErrorScreen
    from tasks.demo.cluster import DemoCluster

CSS_FILE = asset("app.tcss")


class CrvsMigrateApp(App[int]):
    TITLE = "crvs-migrate"
    SUB_TITLE = "OpenCRVS v1.3 upgrade"
    CSS_PATH = CSS_FILE
    COMMANDS = App.COMMANDS | {CrvsCommands}
    # Below 100 columns the layout narrows (jump-host terminals are often 80x24).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        # F1 everywhere: in a text field (where ? types) and over dialogs (priority).
        Binding("f1", "help", "Help", key_display="F1", show=False, priority=True),
        Binding("h", "navigate('health')", "Health"),
        Binding("R", "navigate('report')", "Report", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        *(
            Binding(str(p.number), f"navigate('{p.id}')", f"Go to {p.title}", show=False)
            for p in PHASES
        ),
    ]

    def __init__(
        self,
        workspace: Workspace,
        session: Session | None = None,
        state_error: StateFileError | None = None,
        *,
        unavailable: CrvsError | None = None,
        theme: str | None = None,
        environ: Mapping[str, str] | None = None,
        build_ahead: bool = False,
    ) -> None:
        super().__init__()
        # The terminal's environment (the CLI passes os.environ): drives the
        # 16-colour theme and the jump-host advice. None (tests, embedding): neither.
        self.environ = environ
        self.requested_theme = theme
        self.workspace = workspace
        self.state_error = state_error
        # Why this instance may only look (another instance holds the session, or the
        # lock cannot be made): asked first, then the session opens read-only or the
        # app quits. ``tui.cli`` holds the lock while the app runs.
        self.unavailable = unavailable
        # The last file-writing failure shown (full disk, read-only directory).
        self.storage_error: StorageError | None = None
        # False until the operator may work on the session (after the choice above).
        self.session_open = False
        self.session: Session = session or new_session(workspace)
        # Steps running in any phase (git, yarn): quitting asks first while any runs.
        self.running_steps = RunningSteps()
        # In the demo, the sandbox is built and the demo cluster started after the first
        # paint: screens wait for them through files_ready() and servers_ready().
        self.demo_sandbox_ready = asyncio.Event()
        self.demo_cluster: DemoCluster | None = None
        if workspace.demo is None or workspace.demo.built:
            self.demo_sandbox_ready.set()
        if workspace.demo is not None:
            from tasks.demo.cluster import DemoCluster

            self.demo_cluster = DemoCluster(workspace.demo.cluster_dir)
        self.crash_report: Path | None = None
        # The CLI turns the garbage collector off for the start-up (tui.cli.main).
        self._collector_held = not gc.isenabled()
        # Then each phase's widgets are kept out of the collector's scans once built
        # (only when the CLI manages the collector: never in a test's process).
        self._freeze_built = self._collector_held
        self.views = Views(self)
        # The CLI asks for every phase's frame to be built while the first screen is read
        # (``Views.build_ahead``); a test asks when it is what it tests.
        self._build_ahead = build_ahead
        self.held_keys = HeldKeys(self)
        # Changes not yet written (save_session_soon: written once the frame is drawn).
        self._save_soon = False

    async def on_event(self, event: events.Event) -> None:
        # A key pressed in the moment between a phase's first frame and its body waits
        # for the body, rather than meeting a screen without the widget it is meant for.
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.views.input_seen(typing=event.is_printable and self._typing_into_a_field())
            if self.held_keys.holds(event):
                return
        elif isinstance(event, events.MouseDown):
            self.views.input_seen()
        await super().on_event(event)

    def _typing_into_a_field(self) -> bool:
        # No field can have the focus before Input's module is imported: it is not
        # imported for this (the first key of a launch would wait for it).
        fields = sys.modules.get("textual.widgets._input")
        return fields is not None and isinstance(self.focused, fields.Input)

    def body_mounted(self) -> None:
        self.held_keys.release()
        if self._freeze_built and not self._collector_held:
            self.call_after_refresh(self._keep_built)

    @staticmethod
    def _keep_built() -> None:
        """A phase's screen is built and lives as long as the app: out of the collector's
        full scans, as start-up's objects are. Without it each full scan covers every
        screen built so far and grows with them (9, 35, 58, 80, 134 ms measured while
        visiting the phases), and one lands in the middle of a key's answer. Collected
        first (only what was made since the last freeze: about 10 ms, after the body is
        drawn), so no garbage is kept."""
        gc.collect()
        gc.freeze()

    def on_mount(self) -> None:
        self._apply_field_conditions()
        # The first screen once Textual's start-up is over: what is drawn before that is
        # never written to the terminal (start-up batches its updates), and what is drawn
        # after it reaches the terminal only where it changed. So the first screen was
        # shown a frame late, with its body, and its key bar two frames later still
        # (about 120 ms of a 460 ms launch at 120x40).
        self.call_later(self._show_first_screen)

    def _show_first_screen(self) -> None:
        # Keys typed since the start waited for a screen (a phase's wait for its body).
        self.call_after_refresh(self.held_keys.release)
        if self.unavailable is not None:
            # The screens that stand in for the phases (and Textual's Footer they show)
            # are imported only when one is needed: most launches show a phase.
            from screens.session_guard import SessionUnavailableScreen

            self.push_screen(SessionUnavailableScreen(self.unavailable), self._unavailable_chosen)
            self.call_after_refresh(self._collect_again)
            return
        self._open_session()

    def _unavailable_chosen(self, choice: str | None) -> None:
        if choice != "read-only":
            self.exit(1)
            return
        self.workspace.open_read_only()
        self._open_session()

    def _open_session(self) -> None:
        self.session_open = True
        if self.workspace.read_only:
            # A clear mode, on every screen: the header says so.
            self.title = f"{self.TITLE} · READ-ONLY"
            self.add_class("-read-only")
        elif self.workspace.demo is not None:
            # After the first paint: the first screen waits for neither git nor asyncssh.
            self.call_after_refresh(self._begin_demo)
        if self.state_error is not None:
            from screens.state_error import StateErrorScreen

            self.push_screen(
                StateErrorScreen(self.state_error, new_session_path(self.state_error.path))
            )
            self.call_after_refresh(self._collect_again)
            return
        self._note_journal_and_lock()
        if not self.workspace.read_only:
            self._reattach_steps()
        # A brand-new session is written at once, so the file exists to resume from.
        if not self.workspace.state_path.exists():
            self.save_session()
        self.show_view(self.session.current_view)
        self.call_after_refresh(self._first_paint_done)

    def _first_paint_done(self) -> None:
        """The first screen is up: what the next keys will need, off the app's loop."""
        self._collect_again()
        self.run_worker(self._ahead(), group="import-ahead", exit_on_error=False)

    async def _ahead(self) -> None:
        if not self._build_ahead:
            await self.views.import_ahead()
            return
        if not await self.views.build_ahead(lambda: self.closing):
            return  # the app is closing
        await self.views.import_help()
        if not await self.views.build_help(lambda: self.closing):
            return
        if self._freeze_built:
            self._keep_built()

    def _collect_again(self) -> None:
        """The CLI starts with the garbage collector off (tui.cli.main): on again once
        the first screen is drawn. What start-up made lives as long as the app: it is
        never scanned again (a scan of every module's objects takes a tenth of a second
        on a slow machine, at any moment)."""
        if self._collector_held:
            self._collector_held = False
            gc.freeze()
            gc.enable()

    def _reattach_steps(self) -> None:
        """Steps saved as running: follow again those that still run (they ran on while
        the app was away), record how the others ended."""
        from tasks.local.steps import reconcile_running

        found = reconcile_running(self.session, self.workspace)
        if found.changed:
            self.save_session()
        for phase_id, step_id in found.ended:
            rec = self.session.phase(phase_id).step(step_id)
            self.notify(
                f"{phase_id} / {step_id} ended while crvs-migrate was not running: "
                f"{rec.status.label} ({rec.note or 'exit code ' + str(rec.exit_code)}).",
                title="Step ended meanwhile",
                markup=False,
            )
        for phase_id, step_id in found.interrupted:
            self.notify(
                f"{phase_id} / {step_id} was interrupted: how it ended is not known (its log "
                "is kept).",
                title="Step interrupted",
                severity="warning",
                markup=False,
            )
        for phase_id, step_id, run in found.running:
            self.running_steps.add(phase_id, step_id, run)
            self.run_worker(
                self._follow_reattached(phase_id, step_id, run),
                group=f"reattached-{phase_id}-{step_id}",
            )
        if found.running:
            names = ", ".join(f"{p} / {s}" for p, s, _run in found.running)
            self.notify(
                f"Still running, followed again: {names}.", title="Steps reattached", markup=False
            )

    async def _follow_reattached(self, phase_id: str, step_id: str, run: ProcessRun) -> None:
        from tasks.local.steps import follow_step

        try:
            await follow_step(
                run,
                phase_id=phase_id,
                step_id=step_id,
                session=self.session,
                save=self.save_session,
            )
        finally:
            self.running_steps.remove(phase_id, step_id)

    def _note_journal_and_lock(self) -> None:
        """What opening found: a cut journal record, a stale lock taken over (told once:
        the note in the journal makes the record whole again)."""
        journal = self.workspace.journal
        tail = journal.damaged_tail()
        notes = []
        if tail is not None:
            self.notify(tail.describe(journal.path), title="Journal", severity="warning",
                        timeout=30, markup=False)  # fmt: skip
            notes.append(
                f"journal record at line {tail.line} found cut short ({tail.length} bytes)"
            )
        stale = self.workspace.lock.taken_over
        if stale is not None and not self.workspace.read_only:
            message = (
                f"took over a stale lock of {stale.describe()} (that process no longer holds it)"
            )
            self.notify(message[0].upper() + message[1:], title="Session lock", markup=False)
            notes.append(message)
        try:
            for note in notes:
                journal.event(note)
        except StorageError as exc:
            self.show_storage_error(exc, can_retry=False, can_continue=True)

    def _apply_field_conditions(self) -> None:
        """Theme for the terminal, and the jump-host advice: once per run, not stored
        (every start outside tmux is a new risk, and a toast that fades costs nothing)."""
        if self.requested_theme:
            self.theme = self.requested_theme
        elif self.environ is not None and (auto := auto_theme(self.console.color_system)):
            self.theme = auto
        if self.environ is None or self.is_web:
            return  # a browser session (crvs-migrate serve) has no SSH link to lose
        advice = jump_host_advice(self.environ)
        if advice is not None:
            self.notify(advice.message, title=advice.title, timeout=20, markup=False)

    def _begin_demo(self) -> None:
        self.run_worker(self._start_demo(), group="demo-cluster", exit_on_error=False)

    async def _start_demo(self) -> None:
        """Build the demo sandbox (git, in a thread), then start the demo cluster; its
        servers run on the app's loop until the app unmounts.

        The worker ends once they listen, so waiting for workers never waits on them.
        """
        from tasks.demo.sandbox import build_demo_sandbox
        from tasks.demo.seed import publish_demo_files

        assert self.workspace.demo is not None and self.demo_cluster is not None
        if not self.demo_sandbox_ready.is_set():
            try:
                await asyncio.to_thread(build_demo_sandbox, self.workspace.demo.root)
            except (OSError, RuntimeError) as exc:
                self.show_error(
                    CrvsError(
                        f"The demo sandbox cannot be built in {self.workspace.demo.root}: {exc}",
                        "Demo sandbox",
                    )
                )
                return
            self.demo_sandbox_ready.set()
        # asyncssh takes a few tenths of a second to import: not on the app's loop.
        await asyncio.to_thread(importlib.import_module, "asyncssh")
        await self.demo_cluster.start()
        publish_demo_files(self.workspace.demo, Answers.of(self.session).target_version)

    async def files_ready(self, timeout: float = 60.0) -> None:
        """Real checkouts are there to read; the demo's once its sandbox is built."""
        try:
            await asyncio.wait_for(self.demo_sandbox_ready.wait(), timeout)
        except TimeoutError:
            raise CrvsError("The demo sandbox was not built.", "Demo sandbox") from None

    async def servers_ready(self, timeout: float = 30.0) -> None:
        """Real servers are always there to try; the demo's once its cluster listens."""
        if self.demo_cluster is None:
            return
        await self.files_ready()
        try:
            await asyncio.wait_for(self.demo_cluster.ready.wait(), timeout)
        except TimeoutError:
            raise CrvsError("The demo cluster did not start.", "Demo cluster") from None

    async def on_unmount(self) -> None:
        self._save_waiting()
        if self.demo_cluster is not None:
            await self.demo_cluster.stop()

    def _handle_exception(self, error: Exception) -> None:
        # The one place errors are shown: a CrvsError raised in any handler or worker
        # is something the operator can act on, so it is shown, not a crash. A file that
        # could not be written (full disk, read-only directory) gets the storage screen;
        # a change tried on a read-only session, the error modal.
        cause = error.error if isinstance(error, WorkerFailed) else error
        if self.closing and isinstance(cause, NoMatches):
            return  # a worker finished while the screens were being taken down: no crash
        if isinstance(cause, CrvsError) and not isinstance(cause, StateFileError):
            self.show_error(cause)
            return
        # Leave a report the operator can send, then let Textual exit as usual.
        if self.crash_report is None:
            try:
                from tasks.session.crash import write_crash_report

                self.crash_report = write_crash_report(self.workspace.state_path.parent, error)
            except OSError:
                pass
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """Textual's crash traceback, without local variables (they can hold secrets)."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    # -- services used by screens (see screens/base.py) --------------------

    def save_session(self) -> None:
        """Persist the session atomically and show any status change (sidebar, heading).

        Read-only (another instance holds the session): nothing is saved. A write that
        fails (full disk, read-only directory) shows the storage screen; the file keeps
        the previous state.
        """
        if not self._write_session():
            return
        # The phase in view (under any dialog) shows the change at once: its heading and
        # the sidebar; the others re-read the session when they are shown again.
        shown = self.phase_screen
        if shown is not None and shown.is_attached:
            shown.refresh_frame()

    def save_session_soon(self) -> None:
        """Save once the next frame is drawn: what a key changed shows first, and the
        write (with its fsync, 5-20 ms on a slow disk) comes after it; changes before
        then are written together. Quitting writes what is still waiting."""
        if not self._save_soon:
            self._save_soon = True
            self.call_after_refresh(self._save_waiting)

    def _save_waiting(self) -> None:
        if self._save_soon:
            self.save_session()

    def _write_session(self) -> bool:
        if self.state_error is not None or self.workspace.read_only:
            return False  # never write over a file we could not read, or another's session
        self._save_soon = False
        try:
            self.workspace.save(self.session)
        except StorageError as exc:
            self.show_storage_error(exc, can_retry=True, can_continue=False)
            return False
        return True

    def show_error(self, error: CrvsError) -> None:
        """The one place errors are shown; a file that cannot be written gets its own screen."""
        if isinstance(error, StorageError):
            self.show_storage_error(error, can_retry=False, can_continue=True)
            return
        self.push_screen(ErrorModal(error.title, error.message))

    def show_storage_error(
        self, error: StorageError, *, can_retry: bool, can_continue: bool
    ) -> None:
        """The storage screen (once: a second failure while it shows only updates it)."""
        from screens.session_guard import StorageErrorScreen

        first = self.storage_error is None
        self.storage_error = error
        if not first or isinstance(self.screen, StorageErrorScreen):
            return

        def chosen(choice: str | None) -> None:
            if choice in ("retry", "continue"):
                self.storage_error = None
                if choice == "retry":
                    self.save_session()
            else:
                self.exit(1)  # storage_error stays: the CLI repeats it after the screen

        self.push_screen(
            StorageErrorScreen(error, can_retry=can_retry, can_continue=can_continue), chosen
        )

    # -- navigation ---------------------------------------------------------

    def action_navigate(self, view_id: str) -> None:
        if self.state_error is not None or not self.session_open:
            return
        if self.storage_error is not None:
            return  # its screen is shown: answer it first, the session is not saved
        self.show_view(view_id)
        if self.session.current_view != view_id and self.current_view == view_id:
            # Opening a phase is not starting it: the phase's own steps do that. Where
            # the operator is, is written once the screen is shown, not before.
            self.session.current_view = view_id
            self.save_session_soon()

    @property
    def phase_screen(self) -> PhaseScreen | None:
        """The phase or view screen in the stack (under any dialog), if one is shown."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, PhaseScreen):
                return screen
        return None

    @property
    def current_view(self) -> str | None:
        """The id of the phase or view on screen (``None`` before one is shown)."""
        shown = self.phase_screen
        return shown.view_id if shown is not None else None

    def show_view(self, view_id: str) -> None:
        """Show a phase or a view (``tui.views``: installed screens)."""
        self.views.show(view_id)

    def on_navigate_to(self, message: NavigateTo) -> None:
        self.action_navigate(message.view_id)

    # Quitting: the screens and their widgets are being taken down.
    closing = False

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self.closing = True
        super().exit(*args, **kwargs)

    async def action_quit(self) -> None:
        """Quit (ctrl+q, palette); while a step runs, ask first and stop it cleanly."""
        if self.running_steps.any():
            self.run_worker(self._confirm_quit(), group="quit", exclusive=True)
            return
        self.exit()

    async def _confirm_quit(self) -> None:
        body = Text("These steps are still running:\n\n")
        for line in self.running_steps.describe():
            body.append(f"  {line}\n")
        body.append(
            "\nThey run detached from this window: you may leave them running (the next "
            "crvs-migrate on this session follows them again, or records how they ended), "
            "or cancel them (their whole process groups are stopped)."
        )
        choice = await self.push_screen_wait(
            ChoiceModal(
                "Steps are running",
                body,
                [("leave", "Quit, leave them running"), ("stop", "Cancel them and quit")],
            )
        )
        if choice is None:
            self.notify("Nothing was stopped: crvs-migrate goes on.", title="Not quitting")
            return
        running = "; ".join(self.running_steps.describe())
        if choice == "leave":
            self.workspace.journal.confirmation(f"quit leaving steps running: {running}")
            self.exit()
            return
        self.workspace.journal.confirmation(f"quit while running: {running}")
        self.running_steps.cancel_all()
        await self.running_steps.wait_idle(timeout=10)
        self.exit()

    def action_help(self) -> None:
        # Made on first use, then kept: the notes are rendered once per run.
        self.views.show_help()

    def action_export_report(self) -> None:
        self.action_navigate("report")
        export = getattr(self.screen, "export_report", None)
        if callable(export):
            export()
        else:
            self.notify("The report view cannot export yet.", severity="warning")

    # -- the state-error screen --------------------------------------------

    def on_state_error_screen_start_new_session(
        self, message: StateErrorScreen.StartNewSession
    ) -> None:
        if self.workspace.read_only:
            self.show_error(ReadOnlySession("Starting a new session"))
            return
        self.workspace.lock.release()
        self.workspace = Workspace(
            message.path, demo=self.workspace.demo, confine_to=self.workspace.confine_to
        )
        try:
            self.workspace.lock.acquire()
        except CrvsError as exc:
            self.show_error(exc)
            return
        self.session = new_session(self.workspace)
        self.state_error = None
        self.save_session()
        self.pop_screen()
        self.notify(f"New session: {message.path}", title="Session started")
        self.show_view(self.session.current_view)


def _implements_frame(app: CrvsMigrateApp) -> Frame:
    """Never called: mypy checks here that the app gives screens every service of ``Frame``."""
    return app
