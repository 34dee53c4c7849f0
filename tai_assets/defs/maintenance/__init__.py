"""The maintenance domain: the daily purge that keeps the Dagster instance bounded."""

import dagster as dg

from tai_assets.defs.maintenance.jobs import purge_old_runs_job
from tai_assets.defs.maintenance.schedules import build_maintenance_schedule
from tai_assets.settings import Settings


def maintenance_definitions(settings: Settings) -> dg.Definitions:
    """Return the purge job and its daily schedule, with the settings' retentions."""
    schedule = build_maintenance_schedule(
        settings.run_retention_days, settings.run_detail_retention_minutes
    )
    return dg.Definitions(jobs=[purge_old_runs_job], schedules=[schedule])
