"""The daily schedule of the maintenance job."""

import dagster as dg

from tai_assets.defs.maintenance.jobs import purge_old_runs_job


def build_maintenance_schedule(
    retention_days: int, detail_retention_minutes: int
) -> dg.ScheduleDefinition:
    """Return the daily schedule of the purge, with the configured retentions."""
    return dg.ScheduleDefinition(
        name="purge_old_runs_daily",
        job=purge_old_runs_job,
        cron_schedule="17 4 * * *",
        run_config={
            "ops": {
                "purge_old_runs_op": {
                    "config": {
                        "retention_days": retention_days,
                        "detail_retention_minutes": detail_retention_minutes,
                    }
                }
            }
        },
        default_status=dg.DefaultScheduleStatus.RUNNING,
        execution_timezone="UTC",
    )
