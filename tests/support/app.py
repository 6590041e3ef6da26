"""The one way tests build the app: ``make_app`` (and the ``app_factory`` fixture).

It builds the app as the CLI does: a workspace for the state path (with the demo
sandbox when given), the session read through ``tasks.sections.open_session`` when
``load`` is asked (an unusable file gives the state-error screen, as in real use),
or a fresh session with the view and answers given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tasks.demo.sandbox import DemoSandbox
from tasks.errors import StateFileError
from tasks.sections import new_session, open_session
from tasks.session.state import Session
from tasks.session.workspace import Workspace
from tasks.upgrade.answers import Answers
from tui.app import CrvsMigrateApp


def make_app(
    state_path: Path,
    *,
    session: Session | None = None,
    view: str | None = None,
    answers: Mapping[str, Any] | Answers | None = None,
    demo: DemoSandbox | None = None,
    load: bool = False,
    installation: str = "",
    theme: str | None = None,
    environ: Mapping[str, str] | None = None,
    build_ahead: bool = False,
) -> CrvsMigrateApp:
    workspace = Workspace(state_path, demo=demo)
    state_error: StateFileError | None = None
    if load:
        try:
            session = open_session(workspace.state_path)
        except StateFileError as exc:
            state_error = exc
    elif session is None and (view or answers or installation):
        session = new_session(workspace)
    if session is not None:
        if view:
            session.current_view = view
        if installation:
            session.installation = installation
        if isinstance(answers, Answers):
            session.replace_section(answers)
        elif answers:
            given = Answers.of(session)
            for name, value in answers.items():
                setattr(given, name, value)
    return CrvsMigrateApp(
        workspace,
        session=session,
        state_error=state_error,
        theme=theme,
        environ=environ,
        build_ahead=build_ahead,
    )


def demo_inventories(sandbox: DemoSandbox) -> Answers:
    """Prepare's answers of a demo operator who named the demo cluster's inventories."""
    from tasks.upgrade.answers import EnvironmentId

    answers = Answers(config_path=str(sandbox.config_path), core_path=str(sandbox.core_path))
    answers.deployed = True
    for env in (EnvironmentId.QA, EnvironmentId.PRODUCTION):
        answers.environment(env).inventory_path = str(sandbox.cluster_dir / f"{env.value}.ini")
    return answers
