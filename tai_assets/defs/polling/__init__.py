"""The polling domain: the two collectors (sensors), the ingest of their spooled polls into the
raw and derived tables, and the checks that guard those tables."""

from collections.abc import Mapping

import dagster as dg

from tai_assets.defs.polling.assets import POLLING_ASSETS
from tai_assets.defs.polling.checks import POLLING_CHECKS
from tai_assets.defs.polling.jobs import POLLING_JOBS, ingest_job
from tai_assets.defs.polling.schedules import build_polling_schedules
from tai_assets.defs.polling.sensors import build_freshness_sensor, build_polling_sensors
from tai_assets.settings import Settings


def polling_definitions(
    settings: Settings, resources: Mapping[str, dg.ConfigurableResource]
) -> dg.Definitions:
    """Return the polling domain's definitions; its sensors poll through `resources` (the code
    location's, see `build_polling_sensors` for why they do not declare them)."""
    return dg.Definitions(
        assets=POLLING_ASSETS,
        asset_checks=POLLING_CHECKS,
        jobs=POLLING_JOBS,
        sensors=[
            *build_polling_sensors(settings, ingest_job, resources),
            build_freshness_sensor(settings),
        ],
        schedules=build_polling_schedules(settings),
    )
