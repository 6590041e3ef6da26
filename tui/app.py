"""The crvs-migrate Textual application."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from importlib import resources
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import App
from textual.binding import Binding, BindingType

from screens.help import HelpScreen
from screens.messages import NavigateTo
from screens.modals.confirm import ConfirmModal
from screens.modals.error import ErrorModal
from screens.registry import make_screen
from screens.session_guard import SessionUnavailableScreen, StorageErrorScreen
from screens.state_error import StateErrorScreen
from screens.widgets.node_table import NodeTable
from screens.widgets.output_pane import OutputPane
from screens.widgets.sidebar import PhaseSidebar
from tasks.errors import CrvsError, ReadOnlySession, StateFileError, StorageError
from tasks.local.process import RunningSteps
from tasks.session.jumphost import jump_host_advice
from tasks.session.phases import PHASE_IDS, PHASES, VIEWS, PhaseStatus
from tasks.session.state import Session, new_session_path
from tasks.session.workspace import Workspace
from tui.commands import CrvsCommands
from tui.themes import auto_theme

CSS_FILE = Path(str(resources.files("assets").joinpath("app.tcss")))


class WidgetKit:
    """Factories for the shared widgets that screens compose (they never import tui)."""

    def __init__(self, app: CrvsMigrateApp) -> None:
        self.app = app

    def sidebar(self, current: str) -> PhaseSidebar:
        return PhaseSidebar(self.app.session, current)

    def output_pane(self, *, id: str | None = None, max_lines: int = 5000) -> OutputPane:
        return OutputPane(id=id, max_lines=max_lines)

    def node_table(self, *, id: str | None = "node-table") -> NodeTable:
        return NodeTable(id=id)


class CrvsMigrateApp(App[int]):
    TITLE = "crvs-migrate"
    SUB_TITLE = "OpenCRVS v1.3 upgrade"
    CSS_PATH = CSS_FILE
    COMMANDS = App.COMMANDS | {CrvsCommands}
    # Below 100 columns the layout narrows (jump-host terminals are often 80x24).
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (100, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
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
        self.session = session or Session(demo=workspace.demo is not None)
        self.kit = WidgetKit(self)
        # Steps running in any phase (git, yarn): quitting asks first while any runs.
        self.running_steps = RunningSteps()
        # The demo cluster (tasks.demo.cluster.DemoCluster) while in demo mode.
        self.demo_cluster = None
        self.crash_report: Path | None = None
        for view_id in (*PHASE_IDS, *(v.id for v in VIEWS)):
            self.add_mode(view_id, partial(make_screen, view_id))

    def on_mount(self) -> None:
        self._apply_field_conditions()
        if self.unavailable is not None:
            self.push_screen(SessionUnavailableScreen(self.unavailable), self._unavailable_chosen)
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
            self.run_worker(self._start_demo_cluster(), group="demo-cluster", exit_on_error=False)
        if self.state_error is not None:
            self.push_screen(
                StateErrorScreen(self.state_error, new_session_path(self.state_error.path))
            )
            return
        self._note_journal_and_lock()
        # A brand-new session is written at once, so the file exists to resume from.
        if not self.workspace.state_path.exists():
            self.save_session()
        self.switch_mode(self.session.current_view)

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

    async def _start_demo_cluster(self) -> None:
        """Start the demo cluster; its servers run on the app's loop until the app unmounts.

        The worker ends once they listen, so waiting for workers never waits on them.
        """
        from tasks.demo.cluster import DemoCluster

        assert self.workspace.demo is not None
        self.demo_cluster = DemoCluster(self.workspace.demo.cluster_dir)
        await self.demo_cluster.start()

    async def on_unmount(self) -> None:
        if self.demo_cluster is not None:
            await self.demo_cluster.stop()

    def _handle_exception(self, error: Exception) -> None:
        from textual.worker import WorkerFailed

        # A worker that could not write a file (full disk, read-only directory) or that
        # tried to change a read-only session: a clear screen, not a crash. A message
        # handler's failure stops its widget, so from there only quitting is offered.
        cause = error.error if isinstance(error, WorkerFailed) else error
        if isinstance(cause, StorageError):
            self.show_storage_error(
                cause, can_retry=False, can_continue=isinstance(error, WorkerFailed)
            )
            return
        if isinstance(cause, ReadOnlySession) and isinstance(error, WorkerFailed):
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
        """Persist the session atomically and show any status change in the sidebar.

        Read-only (another instance holds the session): nothing is saved. A write that
        fails (full disk, read-only directory) shows the storage screen; the file keeps
        the previous state.
        """
        if self.state_error is not None or self.workspace.read_only:
            return  # never write over a file we could not read, or another's session
        try:
            self.workspace.save(self.session)
        except StorageError as exc:
            self.show_storage_error(exc, can_retry=True, can_continue=False)
            return
        try:
            sidebar = self.screen.query_one("#sidebar", PhaseSidebar)
        except Exception:  # noqa: BLE001 - screens without a sidebar (modals)
            return
        sidebar.refresh_statuses()

    def show_error(self, error: CrvsError) -> None:
        self.push_screen(ErrorModal(error.title, error.message))

    def show_storage_error(
        self, error: StorageError, *, can_retry: bool, can_continue: bool
    ) -> None:
        """The storage screen (once: a second failure while it shows only updates it)."""
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
        if isinstance(self.screen, StorageErrorScreen):
            return  # answer it first: the session is not saved
        if self.session.current_view != view_id:
            self.session.current_view = view_id
            record = self.session.phases.get(view_id)
            if record is not None and record.status is PhaseStatus.NOT_STARTED:
                pass  # opening a phase is not starting it; the phase's own steps do that
            self.save_session()
        self.switch_mode(view_id)

    def on_navigate_to(self, message: NavigateTo) -> None:
        self.action_navigate(message.view_id)

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
        body.append("\nQuitting cancels them (their whole process groups are stopped).")
        if not await self.push_screen_wait(
            ConfirmModal("Steps are running", body, "Cancel them and quit", danger=True)
        ):
            return
        self.workspace.journal.confirmation(
            "quit while running: " + "; ".join(self.running_steps.describe())
        )
        self.running_steps.cancel_all()
        await self.running_steps.wait_idle(timeout=10)
        self.exit()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

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
        self.session = Session(demo=self.workspace.demo is not None)
        self.state_error = None
        self.save_session()
        self.pop_screen()
        self.notify(f"New session: {message.path}", title="Session started")
        self.switch_mode(self.session.current_view)
