"""Keys pressed while a phase's body is not mounted yet (or the first screen) wait for it.

A phase screen draws its frame (sidebar, heading, keys) at once and mounts its body a
frame later (``screens.base.PhaseBody``). A key pressed in that moment may be meant for
the body (Tab to its first field, Enter on the step list, a screen's own key), so it
waits, with every key after it. Once the body is there they are handled one by one,
each once the last has been handled on its whole way up the widgets (a Tab moves the
focus before the letters typed after it arrive), so nothing typed is lost or reordered.
Any other key is handled at once, and the keys that follow it wait the same way until it
has had its effect: while the app is busy (building frames ahead, on a slow jump host) a
Tab and the letters typed after it are a few turns of the loop apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from screens.base import PhaseScreen

# A widget that never answers (closing) does not hold the keys after it for longer.
SETTLE_AT_MOST_S = 1.0
# A body that is not mounted by then (it should take a frame) does not hold keys longer.
WAIT_FOR_BODY_AT_MOST_S = 2.0

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual import events
    from textual.app import App
    from textual.message_pump import MessagePump


class HeldKeys:
    def __init__(self, app: App) -> None:
        self.app = app
        self._held: list[events.Key] = []
        self._in_flight: events.Key | None = None  # posted again, not handled yet
        self._settling: asyncio.Task[None] | None = None  # handled; its effect not yet
        self._waiting_since: float | None = None

    def holds(self, key: events.Key) -> bool:
        """Whether ``key`` (not yet forwarded to any widget) waits instead of being
        handled now. The app asks for every key it receives."""
        if key is self._in_flight:
            self._in_flight = None
            self._settling = asyncio.ensure_future(self._settle())
            return False
        if self._held or self._in_flight is not None or self._settling or self._waiting():
            self._held.append(key)
            self.release()
            return True
        # Handled now, and the keys after it wait until it has had its effect: Textual
        # sends a key to the focused widget at once, but a Tab (a binding of the screen)
        # moves the focus only once the key has bubbled up to it, one widget per turn
        # of a busy loop; the letters typed after it would go to the old widget.
        self._settling = asyncio.ensure_future(self._settle())
        return False

    def release(self) -> None:
        """Post the next held key again, once nothing is waiting (a body was just
        mounted, or the last key posted again has had its effect)."""
        if not self._held or self._in_flight is not None or self._settling or self._waiting():
            return
        self._in_flight = self._held.pop(0)
        self.app.post_message(self._in_flight)

    async def _settle(self) -> None:
        """Until every widget has handled what the last key started: a key not bound
        where it was sent is passed to the parent's queue, one level per round (as
        Textual's own test pilot waits between keys)."""
        try:
            focused = self.app.focused
            path = [self.app, *(focused.ancestors_with_self if focused is not None else [])]
            for _ in range(len(path) + 1):
                await self._queues_handled(path)
        finally:
            self._settling = None
            if self.app.is_running:
                self.release()

    async def _queues_handled(self, path: Sequence[MessagePump]) -> None:
        """Every message queued so far on the key's way up (focus to app) is handled."""
        done: list[asyncio.Event] = []
        for node in path:
            handled = asyncio.Event()
            if node.call_later(handled.set):
                done.append(handled)
        if done:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SETTLE_AT_MOST_S):
                    await asyncio.gather(*(event.wait() for event in done))

    def _waiting(self) -> bool:
        screen = self.app.screen
        # The app's blank default screen: the first screen is shown a moment after start.
        starting = screen.id == "_default"
        if not starting and (not isinstance(screen, PhaseScreen) or screen.body_ready):
            self._waiting_since = None
            return False
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
            self.app.set_timer(WAIT_FOR_BODY_AT_MOST_S, self.release)
        return now - self._waiting_since < WAIT_FOR_BODY_AT_MOST_S
