"""The analytics schedules: shortly after local midnight, each runs the period just ended."""

import dagster as dg

from tai_assets.defs.analytics.jobs import (
    analytics_daily_job,
    analytics_refresh_job,
    monthly_digest_job,
    weekly_digest_job,
    yearly_digest_job,
)
from tai_assets.defs.analytics.partitions import REPORT_TZ, YEARLY


def _schedule(job, minute: int):
    """Return the schedule of a partitioned job at 00:`minute` local time."""
    return dg.build_schedule_from_partitioned_job(
        job, minute_of_hour=minute, hour_of_day=0, default_status=dg.DefaultScheduleStatus.RUNNING
    )


@dg.schedule(
    cron_schedule="30 0 1 1 *",
    job=yearly_digest_job,
    execution_timezone=REPORT_TZ,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def yearly_digest_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """On 1 January at 00:30 local time, run the digest of the year that has just ended."""
    key = YEARLY.get_last_partition_key(current_time=context.scheduled_execution_time)
    if key is None:
        return dg.SkipReason("no complete year since TAI_ANALYTICS_START_DATE yet")
    return dg.RunRequest(run_key=key, partition_key=key)


analytics_refresh_daily = dg.ScheduleDefinition(
    name="analytics_refresh_daily",
    job=analytics_refresh_job,
    cron_schedule="5 0 * * *",
    execution_timezone=REPORT_TZ,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="At 00:05 local time, before the daily job (whose genre popularity reads the "
    "tags): re-tags the worlds, refreshes profiles, name history and the 28-day heatmap.",
)

# Shortly after local midnight, each schedule runs the period that has just ended.
ANALYTICS_SCHEDULES = [
    _schedule(analytics_daily_job, 15),
    _schedule(weekly_digest_job, 20),
    _schedule(monthly_digest_job, 25),
    yearly_digest_schedule,
    analytics_refresh_daily,
]
