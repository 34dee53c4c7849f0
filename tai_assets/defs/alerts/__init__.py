"""The alerts domain: the operator hears of incidents in their own Telegram chat."""

import dagster as dg

from tai_assets.defs.alerts.sensors import build_alerts_sensor
from tai_assets.settings import Settings


def alerts_definitions(settings: Settings) -> dg.Definitions:
    """Return the alerts sensor (its resource comes with the code location's)."""
    return dg.Definitions(sensors=[build_alerts_sensor(settings.alerts_configured)])
