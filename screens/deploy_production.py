"""Deploy to production: locked until the gate's evidence holds; always --clear_data=no."""

from __future__ import annotations

from screens.deploy_common import DeployScreen


class DeployProductionScreen(DeployScreen):
    VIEW_ID = "deploy_production"
    ENVIRONMENT = "production"


SCREEN = DeployProductionScreen
