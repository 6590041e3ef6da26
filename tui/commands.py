"""Command palette (Ctrl+P): go to a phase, cluster health, export report, quit."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tasks.session.phases import PHASES


class CrvsCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        # Actions by name (the app's own bindings run the same ones).
        run = self.app.run_action
        commands: list[tuple[str, Callable[[], object], str]] = [
            (
                f"Go to {p.title}",
                partial(run, f"navigate('{p.id}')"),
                f"Phase {p.number}: {p.summary}",
            )
            for p in PHASES
        ]
        commands += [
            (
                "Cluster health",
                partial(run, "navigate('health')"),
                "Disk, memory and swarm state of every node",
            ),
            (
                "Export report",
                partial(run, "export_report"),
                "Write the session as Markdown and HTML",
            ),
            ("Quit", partial(run, "quit"), "Leave crvs-migrate; the session is saved"),
        ]
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
