"""Report: the whole session as Markdown and self-contained HTML, for change management."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from screens.release_parts import ReleasePhaseScreen
from tasks.errors import CrvsError
from tasks.report.export import ExportedReport, export_report


class ReportScreen(ReleasePhaseScreen):
    VIEW_ID = "report"

    def __init__(self, view_id: str | None = None) -> None:
        super().__init__(view_id)
        self.last_export: ExportedReport | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="content"):
            yield Static(
                "Writes the answers, the plan and its reasons, every command with its exit code "
                "and duration, health snapshots, the backup evidence and every confirmation with "
                "who and when. Secret values are never written.",
                classes="hint",
            )
            yield Static(id="report-summary")
            yield Button("Export report", id="report-export", variant="primary")
            yield Static(id="report-paths")

    def refresh_body(self) -> None:
        entries = list(self.journal.entries())
        commands = sum(1 for e in entries if e.get("kind") == "command")
        confirmations = sum(1 for e in entries if e.get("kind") == "confirmation")
        self.query_one("#report-summary", Static).update(
            Text(
                f"Journal: {commands} command(s), {confirmations} confirmation(s). "
                f"Reports go to {self.workspace.reports_dir}"
            )
        )
        self._show_paths()

    @on(Button.Pressed, "#report-export")
    def _pressed(self) -> None:
        self.export_report()

    def export_report(self) -> ExportedReport | None:
        """Called by the button and by the palette's "Export report"."""
        try:
            out = export_report(self.workspace, self.session)
        except OSError as exc:
            raise CrvsError(
                f"{exc.filename or self.workspace.reports_dir}: {exc.strerror or exc}",
                "The report could not be written",
            ) from exc
        self.last_export = out
        # The palette may call this before the screen is composed: shown on mount then.
        if self.is_mounted:
            self._show_paths()
        self.notify(f"Report written to {out.html.parent}", title="Report exported")
        return out

    def _show_paths(self) -> None:
        out = self.last_export
        if out is None:
            return
        text = Text("✓ Report written:\n", style="bold green")
        text.append(f"  {out.markdown}\n  {out.html}")
        self.query_one("#report-paths", Static).update(text)


SCREEN = ReportScreen
