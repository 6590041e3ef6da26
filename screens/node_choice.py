"""Before yarn runs with a node that is not OpenCRVS 1.3's: say so, let the operator choose.

Shared by Update opencrvs-core, Merge the country config (``yarn --force``) and Verify
locally (``yarn dev``): switch to node 16 and re-check (the safe choice: Cancel), run as it
is, or run with ``--ignore-engines``. The choice is journalled; Cancel says nothing ran.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App

from screens.modals.confirm import ChoiceModal
from tasks.local.process import Command
from tasks.local.steps import Step
from tasks.local.yarn import EXPECTED_NODE_MAJOR, IGNORE_ENGINES, Tools
from tasks.session.journal import Journal


def with_ignore_engines(step: Step) -> Step:
    """``yarn --force`` → ``yarn --force --ignore-engines``; ``yarn dev`` → ``yarn
    --ignore-engines dev`` (a yarn option goes before the script's name)."""
    argv = step.argv
    if len(argv) >= 2 and not argv[-1].startswith("-"):
        new = (*argv[:-1], IGNORE_ENGINES, argv[-1])
    else:
        new = (*argv, IGNORE_ENGINES)
    return Step(step.id, step.title, new, step.cwd, step.needs, step.why)


async def choose_node_engine(
    app: App, journal: Journal, phase_id: str, step: Step, tools: Tools
) -> Step | None:
    """``step`` as the operator chose to run it; None when they chose not to run it."""
    if tools.standin or not tools.node_mismatch:
        return step
    ignoring = with_ignore_engines(step)
    plain = Command(step.argv, step.cwd).display
    other = Command(ignoring.argv, step.cwd).display
    body = Text()
    body.append("\n".join(tools.warnings) + "\n\n", style="bold")
    body.append(
        "yarn refuses packages whose `engines` field asks for another node version. "
        f"Best: switch to node {EXPECTED_NODE_MAJOR} (for example `nvm use "
        f"{EXPECTED_NODE_MAJOR}`) and re-check (Cancel). Or run anyway:\n\n"
    )
    body.append(f"  {plain}\n  {other}\n")
    choice = await app.push_screen_wait(
        ChoiceModal(
            f"node {tools.node_version} is not node {EXPECTED_NODE_MAJOR}",
            body,
            [("plain", f"Run {plain}"), ("ignore", f"Run with {IGNORE_ENGINES}")],
        )
    )
    if choice is None:
        app.notify(
            f"Nothing ran. Switch to node {EXPECTED_NODE_MAJOR}, then re-check.",
            title="Not run",
        )
        return None
    journal.confirmation(
        f"yarn with node {tools.node_version}: {plain if choice == 'plain' else other}",
        phase=phase_id,
        step=step.id,
    )
    return step if choice == "plain" else ignoring
