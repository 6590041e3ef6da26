"""The crvs-migrate Textual application."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import WorkerFailed

from screens.frame import Frame
from screens.help import HelpScreen
from screens.messages import NavigateTo
from screens.modals.confirm import ConfirmModal
from screens.modals.error import ErrorModal
from screens.registry import make_screen
from screens.state_error import StateErrorScreen
from screens.widgets.sidebar import PhaseSidebar
from tasks.errors import CrvsError, StateFileError
from tasks.local.process import RunningSteps
from tasks.sections import new_session
from tasks.session.jumphost import jump_host_advice
from tasks.session.phases import PHASE_IDS, PHASES, VIEWS
from tasks.session.state import Session, new_session_path
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers
from tui.commands import CrvsCommands
from tui.themes import auto_theme

if TYPE_CHECKING:
    from tasks.demo.cluster import DemoCluster

CSS_FILE = Path(str(resources.files("assets").joinpath("app.tcss")))


class CrvsMigrateApp(App[int]):
    TITLE = "crvs-migrate"
    SUB_TITLE = "OpenCRVS v1.3 upgrade"
    CSS_PATH = CSS_FILE
    COMMANDS = App.COMMANDS | {CrvsCommands}
    # Below 100 columns the layout narrows (jump-host terminals are often 80x24).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

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
        for view_id in (*PHASE_IDS, *(v.id for v in VIEWS)):
            self.add_mode(view_id, partial(make_screen, view_id))

    def on_mount(self) -> None:
        self._apply_field_conditions()
        if self.workspace.demo is not None:
            # After the first paint: the first screen waits for neither git nor asyncssh.
            self.call_after_refresh(self._begin_demo)
        if self.state_error is not None:
            self.push_screen(
                StateErrorScreen(self.state_error, new_session_path(self.state_error.path))
            )
            return
        # A brand-new session is written at once, so the file exists to resume from.
        if not self.workspace.state_path.exists():
            self.save_session()
        self.switch_mode(self.session.current_view)

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
        if self.demo_cluster is not None:
            await self.demo_cluster.stop()

    def _handle_exception(self, error: Exception) -> None:
        # The one place errors are shown: a CrvsError raised in any handler or worker
        # is something the operator can act on, so it is a modal, not a crash.
        cause = error.error if isinstance(error, WorkerFailed) else error
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

    # -- services used by screens (see screens/base.py) --------------------

    def save_session(self) -> None:
        """Persist the session atomically and show any status change in the sidebar."""
        if self.state_error is not None:
            return  # never write over a file we could not read
        self.workspace.save(self.session)
        for sidebar in self.screen.query(PhaseSidebar):
            sidebar.refresh_statuses()

    def show_error(self, error: CrvsError) -> None:
        self.push_screen(ErrorModal(error.title, error.message))

    # -- navigation ---------------------------------------------------------

    def action_navigate(self, view_id: str) -> None:
        if self.state_error is not None:
            return
        if self.session.current_view != view_id:
            # Opening a phase is not starting it: the phase's own steps do that.
            self.session.current_view = view_id
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
        # Built on first use, then kept: the notes are rendered once per run.
        if not self.is_screen_installed("help"):
            self.install_screen(HelpScreen(), name="help")
        self.push_screen("help")

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
        self.workspace = Workspace(message.path, demo=self.workspace.demo)
        self.session = new_session(self.workspace)
        self.state_error = None
        self.save_session()
        self.pop_screen()
        self.notify(f"New session: {message.path}", title="Session started")
        self.switch_mode(self.session.current_view)


def _implements_frame(app: CrvsMigrateApp) -> Frame:
    """Never called: mypy checks here that the app gives screens every service of ``Frame``."""
    return app
