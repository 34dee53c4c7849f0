"""The alerts domain: the operator hears of incidents in their own Telegram chat."""

import dagster as dg

from tai_assets.defs.alerts.sensors import alerts_sensor


def alerts_definitions() -> dg.Definitions:
    """Return the alerts sensor (its resource comes with the code location's)."""
    return dg.Definitions(sensors=[alerts_sensor])
