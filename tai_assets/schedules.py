"""Schedules of the polling pipeline: freshness (every half hour by default), the data-quality
checks (every 6 hours), the daily purge."""

import dagster as dg

from tai_assets.jobs import polling_checks_job, polling_freshness_job
from tai_assets.maintenance import build_maintenance_schedule
from tai_assets.settings import Settings


def build_polling_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """Return the schedules that keep the polling data checked and the instance bounded."""
    checks = dg.ScheduleDefinition(
        name="polling_checks_schedule",
        job=polling_checks_job,
        cron_schedule=settings.checks_cron,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        execution_timezone="UTC",
    )
    freshness = dg.ScheduleDefinition(
        name="polling_freshness_schedule",
        job=polling_freshness_job,
        cron_schedule=settings.freshness_cron,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        execution_timezone="UTC",
    )
    return [freshness, checks, build_maintenance_schedule(settings.run_retention_days)]
