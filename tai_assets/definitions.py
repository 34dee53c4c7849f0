"""The tai code location: the definitions of every domain, and the resources they share.

Each domain of `tai_assets.defs` returns its own `Definitions`; this module merges them and adds
the resources, all built from one reading of `Settings`.
"""

import logging

import dagster as dg

from tai_assets.defs.alerts import alerts_definitions
from tai_assets.defs.alerts.resources import alert_resources
from tai_assets.defs.analytics import analytics_definitions
from tai_assets.defs.analytics.resources import analytics_resources
from tai_assets.defs.exports import exports_definitions, exports_resources
from tai_assets.defs.history import history_definitions
from tai_assets.defs.maintenance import maintenance_definitions
from tai_assets.defs.players import players_definitions
from tai_assets.defs.players.resources import players_resources
from tai_assets.defs.polling import polling_definitions
from tai_assets.defs.polling.resources import polling_resources
from tai_assets.defs.resources import fixed_resources, warehouse_resources
from tai_assets.settings import Settings, current_settings


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Return every resource of the code location, filled from the settings (secrets only as
    EnvVar)."""
    return {
        **warehouse_resources(settings),
        **polling_resources(settings),
        **players_resources(settings),
        **analytics_resources(settings),
        **alert_resources(settings),
        **exports_resources(settings),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    """Return tai's Definitions for the given settings; no run can reconfigure their resources
    (see `fixed_resources`)."""
    resources = build_resources(settings)
    return dg.Definitions.merge(
        polling_definitions(settings, resources),
        players_definitions(),
        analytics_definitions(),
        maintenance_definitions(settings),
        history_definitions(),
        exports_definitions(),
        alerts_definitions(settings),
        dg.Definitions(resources=fixed_resources(resources)),
    )


SETTINGS = current_settings()
logging.getLogger("tai_assets").setLevel(SETTINGS.log_level)
defs = build_definitions(SETTINGS)
