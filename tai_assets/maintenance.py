"""Keeps the Dagster instance bounded: purges old ingest and check runs with their event logs."""

from datetime import timedelta

import dagster as dg

from tai_assets.clock import utc_now


class PurgeConfig(dg.Config):
    """Which runs the purge removes: those of tai's frequent jobs older than `retention_days`."""

    retention_days: int = 30
    kinds: list[str] = ["ingest", "checks"]


def purge_old_runs(instance: dg.DagsterInstance, retention_days: int, kinds: list[str]) -> int:
    """Delete finished runs tagged `tai/kind` in `kinds` and older than the retention; count them.

    `delete_run` removes the run, its event log (asset history of that run included) and its
    compute logs, so the instance stays bounded however long tai runs.
    """
    cutoff = utc_now() - timedelta(days=retention_days)
    deleted = 0
    for kind in kinds:
        while True:
            records = instance.get_run_records(
                filters=dg.RunsFilter(
                    tags={"tai/kind": kind},
                    created_before=cutoff,
                    statuses=[
                        dg.DagsterRunStatus.SUCCESS,
                        dg.DagsterRunStatus.FAILURE,
                        dg.DagsterRunStatus.CANCELED,
                    ],
                ),
                limit=200,
            )
            if not records:
                break
            for record in records:
                instance.delete_run(record.dagster_run.run_id)
                deleted += 1
    return deleted


@dg.op(description="Deletes tai's ingest and check runs older than TAI_RUN_RETENTION_DAYS.")
def purge_old_runs_op(context: dg.OpExecutionContext, config: PurgeConfig) -> int:
    """Purge old runs and report how many went."""
    deleted = purge_old_runs(context.instance, config.retention_days, config.kinds)
    context.log.info(f"Purged {deleted} runs older than {config.retention_days} days.")
    return deleted


@dg.job(executor_def=dg.in_process_executor, tags={"tai/kind": "maintenance"})
def purge_old_runs_job():
    """Maintenance: purge old runs of the frequent jobs."""
    purge_old_runs_op()


def build_maintenance_schedule(retention_days: int) -> dg.ScheduleDefinition:
    """Return the daily schedule of the purge, with the configured retention."""
    return dg.ScheduleDefinition(
        name="purge_old_runs_daily",
        job=purge_old_runs_job,
        cron_schedule="17 4 * * *",
        run_config={"ops": {"purge_old_runs_op": {"config": {"retention_days": retention_days}}}},
        default_status=dg.DefaultScheduleStatus.RUNNING,
        execution_timezone="UTC",
    )
