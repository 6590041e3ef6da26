"""Waiting helpers for Pilot tests of screens with modals and workers (bounded, no sleeps)."""

from __future__ import annotations

import asyncio

from textual.app import App
from textual.widgets import Button, Static


def static_text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def text_when_shown(pilot, app, selector: str, timeout: float = 20.0) -> str:
    """The text of ``selector`` once it is on the active screen."""
    async with asyncio.timeout(timeout):
        while not app.screen.query(selector):
            await pilot.pause(0.05)
    return str(app.screen.query_one(selector, Static).render())


async def press_when_shown(pilot, app, selector: str, timeout: float = 20.0) -> None:
    """Press a button once it is on the active screen (a modal may still be opening)."""
    async with asyncio.timeout(timeout):
        while not app.screen.query(selector):
            await pilot.pause(0.05)
    button = app.screen.query_one(selector, Button)
    assert not button.disabled, selector
    button.press()
    await pilot.pause()
    if selector in ("#confirm", "#trust-yes"):
        # The modal closes and its callback runs: wait until it is gone.
        async with asyncio.timeout(timeout):
            while app.screen.query(selector):
                await pilot.pause(0.05)
        await pilot.pause()


def screen_lines(app: App) -> list[str]:
    """The active screen as plain text, one string per terminal row (what the operator reads)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]
