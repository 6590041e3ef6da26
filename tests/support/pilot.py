"""Waiting helpers for Pilot tests of screens with modals and workers (bounded, no sleeps)."""

from __future__ import annotations

import asyncio

from textual.app import App
from textual.widgets import Button, Input, Static


def static_text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def text_when_shown(pilot, app, selector: str, timeout: float = 20.0) -> str:
    """The text of ``selector`` once it is on the active screen and shows some (a status
    line is mounted empty and filled from the session a moment later); after ``timeout``,
    whatever it shows."""
    async with asyncio.timeout(timeout):
        while not app.screen.query(selector):
            await pilot.pause(0.05)
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while not (text := static_text(app, selector)).strip() and loop.time() < until:
        await pilot.pause(0.05)
    return text


async def press_when_shown(pilot, app, selector: str, timeout: float = 20.0) -> None:
    """Press a button once it is on the active screen (a modal may still be opening)."""
    async with asyncio.timeout(timeout):
        while not app.screen.query(selector):
            await pilot.pause(0.05)
    button = app.screen.query_one(selector, Button)
    assert not button.disabled, selector
    before = app.screen
    button.press()
    await pilot.pause()
    await _body_if_new(app, before)
    if selector in ("#confirm", "#trust-yes"):
        # The modal closes and its callback runs: wait until it is gone.
        async with asyncio.timeout(timeout):
            while app.screen.query(selector):
                await pilot.pause(0.05)
        await pilot.pause()


async def _body_if_new(app: App, before: object) -> None:
    """A button that led to another phase: its body, a frame after its first show."""
    from screens.base import PhaseScreen

    shown = app.screen
    if shown is not before and isinstance(shown, PhaseScreen):
        async with asyncio.timeout(20):
            await shown.body_shown()


def screen_lines(app: App) -> list[str]:
    """The active screen as plain text, one string per terminal row (what the operator reads)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def app_phase_shown(app: App, timeout: float = 20.0) -> None:
    """Wait until the app shows a phase or view with its body (the first screen comes a
    moment after the app starts, its body a frame after the screen)."""
    from screens.base import PhaseScreen

    async with asyncio.timeout(timeout):
        while not isinstance(app.screen, PhaseScreen):
            await asyncio.sleep(0.01)
        await app.screen.body_shown()


async def phase_shown(pilot, timeout: float = 20.0) -> None:
    await app_phase_shown(pilot.app, timeout)


async def started(pilot, timeout: float = 20.0) -> None:
    """Wait until the app's first screen is there as the operator first reads it: a phase
    with its body (Prepare: the whole form), or the screen start-up shows instead (a
    damaged or locked session). One pause after start-up is a race on a busy machine."""
    from screens.base import PhaseScreen

    app = pilot.app
    async with asyncio.timeout(timeout):
        while len(app.screen_stack) < 2:  # the default screen, until the first is pushed
            await asyncio.sleep(0.01)
        if isinstance(app.screen, PhaseScreen):
            await app_phase_shown(app, timeout)
            form_ready = getattr(app.screen, "form_ready", None)
            if form_ready is not None:
                await form_ready()
    await pilot.pause()


async def until(pilot, predicate, timeout: float = 60.0) -> None:
    """Wait (bounded) until ``predicate()`` is true, letting the app run meanwhile."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await pilot.pause(0.1)


def errors(app: App) -> list[str]:
    """The messages of the app's error modal, when it is open."""
    return [str(w.render()) for w in app.screen.query("#error-message")]


async def type_answer(pilot, app: App, text: str) -> None:
    """Answer a typed confirmation (``#answer``) and confirm it."""
    async with asyncio.timeout(20):
        while not app.screen.query("#answer"):
            await pilot.pause(0.05)
    app.screen.query_one("#answer", Input).value = text
    await press_when_shown(pilot, app, "#confirm")


async def click(pilot, selector: str, timeout: float = 20.0) -> None:
    """Click a widget the operator sees: wait until it is shown and enabled, scroll it into
    view as the operator would, click it with the mouse (it must be under the pointer)."""
    app = pilot.app
    async with asyncio.timeout(timeout):
        while True:
            found = app.screen.query(selector)
            widget = found.first() if found else None
            if widget is not None and widget.display and not getattr(widget, "disabled", False):
                break
            await pilot.pause(0.05)
    from textual.pilot import OutOfBounds

    for attempt in range(3):
        widget.scroll_visible(animate=False, immediate=True)
        await pilot.pause()
        try:
            assert await pilot.click(widget), f"{selector} is not under the pointer"
            break
        except OutOfBounds:
            # The layout moved between the scroll and the click (an output pane growing,
            # a result line shown): scroll to it again, as the operator would.
            if attempt == 2:
                raise
    await pilot.pause()


def rendered(app: App, selector: str) -> str:
    """The text a widget of the active screen shows (its render, not the state behind it);
    a Rich renderable (a table, a group) is rendered as text, wide enough not to wrap."""
    import io

    from rich.console import Console
    from rich.text import Text
    from textual.content import Content

    widget = app.screen.query_one(selector)
    shown = widget.content if isinstance(widget, Static) else widget.render()
    if isinstance(shown, str | Text | Content):
        return str(shown)
    console = Console(file=io.StringIO(), width=400, color_system=None, record=True)
    console.print(shown)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def heading(app: App) -> str:
    """The phase heading of the active screen: title, status, summary."""
    return rendered(app, "#phase-heading")


def sidebar_line(app: App, view_id: str) -> str:
    """The sidebar's line for a phase, as shown (glyph, number, title)."""
    from textual.widgets import OptionList

    sidebar = app.screen.query_one("#sidebar", OptionList)
    option = sidebar.get_option(view_id)
    return str(option.prompt)
