"""The maintenance job: purges old runs and check executions and thins succeeded runs."""

from datetime import timedelta

import dagster as dg

from tai_assets.common.clock import utc_now
from tai_assets.dagster_internals.event_log import purge_old_check_evaluations, thin_succeeded_runs
from tai_assets.instance.housekeeping import purge_old_runs


class PurgeConfig(dg.Config):
    """Which runs the purge removes: those of tai's frequent jobs older than `retention_days`;
    and after how many minutes succeeded ones are thinned (`detail_retention_minutes`)."""

    retention_days: int = 30
    detail_retention_minutes: int = 15
    kinds: list[str] = ["ingest", "checks"]


@dg.op(
    description="Deletes tai's ingest and check runs, and asset check executions, older than "
    "TAI_RUN_RETENTION_DAYS; thins succeeded runs older than TAI_RUN_DETAIL_RETENTION_MINUTES."
)
def purge_old_runs_op(context: dg.OpExecutionContext, config: PurgeConfig) -> None:
    """Purge old runs and check executions, thin succeeded runs, and log how many of each.

    It has no output: the code location's default IO manager is the warehouse's, which stores
    tables, not counts."""
    deleted = purge_old_runs(context.instance, config.retention_days, config.kinds)
    context.log.info(f"Purged {deleted} runs older than {config.retention_days} days.")
    checks = purge_old_check_evaluations(context.instance, config.retention_days)
    context.log.info(f"Purged {checks} asset check executions older than that.")
    # The sensors thin their own runs batch by batch; this sweep catches the rest.
    cutoff = utc_now() - timedelta(minutes=config.detail_retention_minutes)
    thinned = sum(
        thin_succeeded_runs(context.instance, {"tai/kind": kind}, cutoff) for kind in config.kinds
    )
    context.log.info(f"Thinned {thinned} run-detail events of succeeded runs.")


@dg.job(executor_def=dg.in_process_executor, tags={"tai/kind": "maintenance"})
def purge_old_runs_job():
    """Maintenance: purge old runs of the frequent jobs."""
    purge_old_runs_op()
