"""Pilot tests of the Report screen: the change record typed in, each change journalled, a
sign-off confirmed in a dialog, a change after a sign-off asked first, then the export."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList

from tasks.report.change import ChangeRecord
from tasks.sections import open_session
from tests.support.app import make_app
from tests.support.pilot import press_when_shown, started, static_text, text_when_shown
from tui.app import CrvsMigrateApp


def _app(tmp_path: Path) -> CrvsMigrateApp:
    return make_app(
        tmp_path / "state" / "session.toml",
        view="report",
        installation="Ruritania CRVS",
        answers={"current_version": "1.3.0", "target_version": "1.3.5"},
    )


def _confirmations(app: CrvsMigrateApp) -> list[dict]:
    return [e for e in app.workspace.journal.entries() if e["kind"] == "confirmation"]


async def _type(pilot, app: CrvsMigrateApp, values: dict[str, str]) -> None:
    for widget, value in values.items():
        app.screen.query_one(widget, Input).value = value
    await pilot.pause()


async def test_change_record_typed_signed_off_and_exported(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        assert "No change number" in await text_when_shown(pilot, app, "#change-result")

        await _type(
            pilot,
            app,
            {
                "#change-number": "CHG-2024-0117",
                "#window-start": "2024-05-04 22:00+03:00",
                "#window-end": "2024-05-05 02:00+03:00",
            },
        )
        await press_when_shown(pilot, app, "#change-save")
        change = ChangeRecord.of(app.session)
        assert change.number == "CHG-2024-0117"
        assert change.window_start == "2024-05-04T22:00:00+03:00"
        assert "2024-05-04 22:00 (UTC+03:00)" in static_text(app, "#change-result")

        for name, role in (("Amina Okafor", "Change board chair"), ("Tomas Varga", "")):
            await _type(pilot, app, {"#approver-name": name, "#approver-role": role})
            await press_when_shown(pilot, app, "#approver-add")
        approvers = app.screen.query_one("#approvers", OptionList)
        assert approvers.option_count == 2

        # The sign-off of the highlighted approver, after a dialog naming what it covers.
        approvers.highlighted = 0
        await press_when_shown(pilot, app, "#sign-off")
        body = await text_when_shown(pilot, app, ".step-modal-body Static")
        assert "Amina Okafor (Change board chair) approved change CHG-2024-0117" in body
        await press_when_shown(pilot, app, "#confirm")
        amina = ChangeRecord.of(app.session).approver("Amina Okafor")
        assert amina is not None and amina.signed and "@" in amina.signed_by
        assert "1 of 2 signed off" in static_text(app, "#approvers-result")

        # Moving the window after a sign-off asks first; cancelled, nothing changes.
        await _type(pilot, app, {"#window-end": "2024-05-05 04:00+03:00"})
        await press_when_shown(pilot, app, "#change-save")
        await press_when_shown(pilot, app, "#cancel")
        assert ChangeRecord.of(app.session).window_end == "2024-05-05T02:00:00+03:00"

        await _type(pilot, app, {"#closing-note": "Went to plan; QA sign-off by Tomas pending."})
        await press_when_shown(pilot, app, "#note-save")
        await press_when_shown(pilot, app, "#report-export")
        out = app.screen.last_export
        assert out is not None

    whats = [e["what"] for e in _confirmations(app)]
    assert whats[0].startswith("Change details: number CHG-2024-0117, maintenance window ")
    assert "Approver added: Amina Okafor (Change board chair)" in whats
    assert "Approver added: Tomas Varga" in whats
    sign_off = next(w for w in whats if w.startswith("Sign-off:"))
    assert "Amina Okafor (Change board chair) approved change CHG-2024-0117" in sign_off
    assert whats[-1] == "Closing note: Went to plan; QA sign-off by Tomas pending."
    # Saved with the session, read back through the loader.
    saved = open_session(app.workspace.state_path)
    assert saved is not None and ChangeRecord.of(saved).approver("Amina Okafor").signed
    md = out.markdown.read_text()
    assert "**Ruritania CRVS · Change CHG-2024-0117**" in md
    assert "| Amina Okafor | Change board chair | ✓ " in md
    assert "| Tomas Varga |  | ○ not signed off |" in md
    assert "2024-05-04 19:00:00 UTC to 2024-05-04 23:00:00 UTC (4 h 00 min)" in md
    assert "Went to plan; QA sign-off by Tomas pending." in md


async def test_bad_window_and_duplicate_approver_are_refused(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await _type(
            pilot, app, {"#window-start": "2024-05-05 02:00", "#window-end": "2024-05-04 22:00"}
        )
        await press_when_shown(pilot, app, "#change-save")
        assert "must end after it starts" in await text_when_shown(pilot, app, "#error-message")
        await pilot.press("escape")
        assert ChangeRecord.of(app.session).window_start == ""

        await _type(pilot, app, {"#approver-name": "Amina Okafor"})
        await press_when_shown(pilot, app, "#approver-add")
        await _type(pilot, app, {"#approver-name": "amina  okafor"})
        await press_when_shown(pilot, app, "#approver-add")
        assert "already an approver" in await text_when_shown(pilot, app, "#error-message")
        await pilot.press("escape")
        assert len(ChangeRecord.of(app.session).approvers) == 1

        # A sign-off needs a change number.
        await press_when_shown(pilot, app, "#sign-off")
        assert "change or ticket number first" in await text_when_shown(
            pilot, app, "#error-message"
        )
    assert not any(e["what"].startswith("Sign-off") for e in _confirmations(app))


async def test_read_only_window_changes_nothing(tmp_path: Path) -> None:
    app = _app(tmp_path)
    app.workspace.open_read_only()
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await _type(pilot, app, {"#approver-name": "Amina Okafor"})
        await press_when_shown(pilot, app, "#approver-add")
        assert "read-only" in await text_when_shown(pilot, app, "#error-message")
    assert ChangeRecord.of(app.session).approvers == []
    assert _confirmations(app) == []
