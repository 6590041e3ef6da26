"""Deploy to QA: the exact deploy command, run here or recorded, then wait until it is up."""

from __future__ import annotations

from screens.deploy_common import DeployScreen


class DeployQaScreen(DeployScreen):
    VIEW_ID = "deploy_qa"
    ENVIRONMENT = "qa"


SCREEN = DeployQaScreen
