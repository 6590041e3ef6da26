"""Report: the change record (number, window, approvers and their sign-off, a closing note),
then the whole session exported as Markdown and self-contained HTML for the change board.

Thin: the change record is ``tasks.report.change`` (every change journalled there), the
report ``tasks.report.export``. A sign-off is confirmed in a dialog naming exactly what it
covers; a change to the number or window after a sign-off asks first (the report shows it).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from screens.modals.confirm import ConfirmModal
from screens.release_parts import ReleasePhaseScreen
from screens.widgets.status_text import StatusText
from tasks.errors import CrvsError, ReadOnlySession
from tasks.report.change import (
    ChangeRecord,
    add_approver,
    record_sign_off,
    remove_approver,
    set_change_details,
    set_closing_note,
)
from tasks.report.export import ExportedReport, export_report
from tasks.report.words import when, when_local


def _local_zone() -> str:
    offset = datetime.now().astimezone().strftime("%z")
    return "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"


class ReportScreen(ReleasePhaseScreen):
    VIEW_ID = "report"

    def __init__(self, view_id: str | None = None) -> None:
        super().__init__(view_id)
        self.last_export: ExportedReport | None = None

    def compose_body(self) -> ComposeResult:
        change = ChangeRecord.of(self.session)
        with VerticalScroll(id="content"):
            yield StatusText(
                "The record a change board accepts: the change and its sign-off, the outcome, "
                "downtime, the versions running at the end, the rollback plan, incidents, every "
                "step and its evidence, every command and confirmation. Secret values are "
                "never written.",
                classes="hint",
            )
            yield StatusText("1. The change", classes="release-step")
            with Horizontal(classes="release-fields"):
                yield Input(
                    change.number, placeholder="change or ticket number", id="change-number"
                )
            with Horizontal(classes="release-fields"):
                yield Input(
                    _typed(change.window_start),
                    placeholder="window starts, e.g. 2024-05-04 22:00",
                    id="window-start",
                )
                yield Input(
                    _typed(change.window_end),
                    placeholder="window ends, e.g. 2024-05-05 02:00",
                    id="window-end",
                )
            yield StatusText(
                f"Maintenance window times are this machine's ({_local_zone()}) unless you add "
                "a zone: 22:00+03:00 or 22:00 UTC.",
                classes="hint",
            )
            with Horizontal(classes="release-buttons"):
                yield Button("Save the change", id="change-save")
            yield StatusText(id="change-result")

            yield StatusText("2. Approvers and their sign-off", classes="release-step")
            with Horizontal(classes="release-fields"):
                yield Input(placeholder="approver's name", id="approver-name")
                yield Input(placeholder="role (optional)", id="approver-role")
                yield Button("Add approver", id="approver-add")
            yield OptionList(id="approvers")
            with Horizontal(classes="release-buttons"):
                yield Button("Record sign-off…", id="sign-off", variant="primary")
                yield Button("Remove approver", id="approver-remove")
            yield StatusText(id="approvers-result", classes="hint")

            yield StatusText("3. Closing note (optional)", classes="release-step")
            with Horizontal(classes="release-fields"):
                yield Input(
                    change.closing_note,
                    placeholder="how it went, in a sentence or two",
                    id="closing-note",
                )
                yield Button("Save note", id="note-save")

            yield StatusText("4. Export", classes="release-step")
            yield StatusText(id="report-summary")
            yield Button("Export report", id="report-export", variant="primary")
            yield StatusText(id="report-paths")

    # -- display ---------------------------------------------------------------

    def refresh_body(self) -> None:
        change = ChangeRecord.of(self.session)
        result = Text()
        if change.number or change.window:
            result.append("✓ ", style="green")
            result.append(f"Change {change.number or '(no number)'}")
            if change.window is not None:
                result.append(
                    f", window {when_local(change.window_start)} to {when_local(change.window_end)}"
                )
            result.append(f" (saved {when(change.details_at)} by {change.details_by})", "dim")
        else:
            result.append("○ No change number or window yet.", style="dim")
        self.query_one("#change-result", Static).update(result)

        approvers = self.query_one("#approvers", OptionList)
        highlighted = approvers.highlighted
        approvers.clear_options()
        for n, a in enumerate(change.approvers):
            line = Text()
            if a.signed:
                line.append("✓ ", style="green")
                line.append(a.title, style="bold")
                line.append(f": signed off {when(a.signed_at)} (recorded by {a.signed_by})")
            else:
                line.append("○ ", style="dim")
                line.append(a.title, style="bold")
                line.append(": not signed off yet")
            approvers.add_option(Option(line, id=f"approver-{n}"))
        if change.approvers:
            approvers.highlighted = min(highlighted or 0, len(change.approvers) - 1)
        signed = sum(1 for a in change.approvers if a.signed)
        self.query_one("#approvers-result", Static).update(
            Text(
                f"{signed} of {len(change.approvers)} signed off. Highlight an approver, then "
                "record their sign-off: it is journalled with the time and who recorded it."
                if change.approvers
                else "No approver yet: type a name (and role) and add it."
            )
        )

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

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def _selected(self) -> str | None:
        change = ChangeRecord.of(self.session)
        index = self.query_one("#approvers", OptionList).highlighted
        if index is None or not 0 <= index < len(change.approvers):
            return None
        return change.approvers[index].name

    def _saved(self) -> None:
        self.save_session()
        self.refresh_from_session()

    def _writable(self) -> None:
        """The change record is the session's: a read-only window only exports."""
        if self.workspace.read_only:
            raise ReadOnlySession("Changing the change record")

    # -- the change ------------------------------------------------------------

    @on(Button.Pressed, "#change-save")
    def _change_save(self) -> None:
        self._writable()
        number = self._value("change-number")
        start, end = self._value("window-start"), self._value("window-end")
        change = ChangeRecord.of(self.session)
        signed = [a.title for a in change.approvers if a.signed]

        def save(ok: bool | None = True) -> None:
            if ok:
                set_change_details(self.session, self.journal, number, start, end)
                self._saved()

        if not signed:
            save()
            return
        self.app.push_screen(
            ConfirmModal(
                "Change what was signed off?",
                Text(
                    f"{', '.join(signed)} signed off {change.covers()}. Changing the number or "
                    "the window now is recorded, and the report shows these sign-offs as given "
                    "before the change."
                ),
                "Save the change",
            ),
            save,
        )

    @on(Button.Pressed, "#approver-add")
    def _approver_add(self) -> None:
        self._writable()
        add_approver(
            self.session, self.journal, self._value("approver-name"), self._value("approver-role")
        )
        for widget in ("approver-name", "approver-role"):
            self.query_one(f"#{widget}", Input).value = ""
        self._saved()
        approvers = self.query_one("#approvers", OptionList)
        approvers.highlighted = approvers.option_count - 1

    @on(Button.Pressed, "#approver-remove")
    def _approver_remove(self) -> None:
        self._writable()
        name = self._selected()
        if name is None:
            raise CrvsError("Highlight the approver to remove first.", "No approver chosen")
        remove_approver(self.session, self.journal, name)
        self._saved()

    @on(Button.Pressed, "#sign-off")
    @on(OptionList.OptionSelected, "#approvers")
    def _sign_off(self) -> None:
        self._writable()
        name = self._selected()
        if name is None:
            raise CrvsError("Add an approver and highlight them first.", "No approver chosen")
        change = ChangeRecord.of(self.session)
        approver = change.approver(name)
        if approver is None or approver.signed:
            return
        if not change.number:
            raise CrvsError(
                "Enter and save the change or ticket number first: a sign-off is for a change.",
                "No change number",
            )

        def done(ok: bool | None) -> None:
            if ok:
                record_sign_off(self.session, self.journal, name)
                self._saved()

        self.app.push_screen(
            ConfirmModal(
                f"Record the sign-off of {approver.title}?",
                Text(
                    f"This records that {approver.title} approved {change.covers()}, now. "
                    "It is journalled with the time and who recorded it (you), and it stays "
                    "in the record."
                ),
                "Record the sign-off",
            ),
            done,
        )

    @on(Button.Pressed, "#note-save")
    def _note_save(self) -> None:
        self._writable()
        set_closing_note(self.session, self.journal, self._value("closing-note"))
        self._saved()

    # -- export ------------------------------------------------------------------

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
        # The palette may call this before the body is mounted (a first visit, or a frame
        # built ahead): the body shows the paths when it is.
        if self.body_ready:
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


def _typed(value: str) -> str:
    """A stored window time as the operator would type it again (its own zone kept)."""
    from tasks.report.change import parse_aware

    when_ = parse_aware(value)
    if when_ is None:
        return ""
    offset = when_.strftime("%z")
    return f"{when_:%Y-%m-%d %H:%M}" + (f"{offset[:3]}:{offset[3:]}" if offset else "")


SCREEN = ReportScreen
