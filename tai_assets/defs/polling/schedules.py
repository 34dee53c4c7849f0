"""Schedules of the polling pipeline: the data-quality checks (every 6 hours by default).
(Freshness is reported by a sensor, without runs.)"""

import dagster as dg

from tai_assets.defs.polling.jobs import polling_checks_job
from tai_assets.settings import Settings


def _utc_schedule(name: str, job, cron: str) -> dg.ScheduleDefinition:
    """Return a schedule that is on from the start and reads its cron in UTC."""
    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=cron,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        execution_timezone="UTC",
    )


def build_polling_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """Return the schedule of the polling tables' data-quality checks (TAI_CHECKS_CRON)."""
    return [_utc_schedule("polling_checks_schedule", polling_checks_job, settings.checks_cron)]
