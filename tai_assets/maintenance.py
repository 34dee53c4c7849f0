"""Keeps the Dagster instance small and bounded: thins the step detail of succeeded runs after
15 minutes, and purges old ingest and check runs with their event logs after 30 days."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log import SqlEventLogStorage, SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable

from tai_assets.clock import utc_now

# Events that only tell how a succeeded run went inside: its steps, outputs, engine and resource
# set-up. The run record, its lifecycle events (enqueued, started, succeeded), its planned and
# done asset materializations (the assets' history) are what is kept.
STEP_DETAIL_EVENTS = [
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_OUTPUT,
    DagsterEventType.HANDLED_OUTPUT,
    DagsterEventType.LOADED_INPUT,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.ENGINE_EVENT,
    DagsterEventType.RESOURCE_INIT_STARTED,
    DagsterEventType.RESOURCE_INIT_SUCCESS,
    DagsterEventType.LOGS_CAPTURED,
]
THIN_CHUNK = 500


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def thin_succeeded_runs(
    instance: dg.DagsterInstance,
    tags: dict[str, str],
    finished_before: datetime,
    finished_after: datetime | None = None,
) -> int:
    """Delete the step-detail events of succeeded runs with these tags that finished in the
    window; return how many events went (0 where the event log keeps one file per run).

    A succeeded ingest run's step detail (~20 KB: outputs, handled outputs, engine and
    resource events) is most of what the instance would grow by at ~290 runs a day, and once
    the run is a few minutes old nobody reads it (a failed run keeps all of it). The run, its
    status and timing, and its materializations stay until the run is purged.
    """
    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage) or isinstance(storage, SqliteEventLogStorage):
        return 0
    run_ids = list(
        instance.get_run_ids(
            filters=dg.RunsFilter(
                tags=tags,
                statuses=[dg.DagsterRunStatus.SUCCESS],
                updated_before=finished_before,
                updated_after=finished_after,
            )
        )
    )
    table = SqlEventLogStorageTable
    types = [event_type.value for event_type in STEP_DETAIL_EVENTS]
    deleted = 0
    with storage.index_connection() as conn:
        for chunk in _chunks(run_ids, THIN_CHUNK):
            result = conn.execute(
                table.delete()
                .where(table.c.run_id.in_(chunk))
                .where(table.c.dagster_event_type.in_(types))
            )
            deleted += result.rowcount
    return deleted


class PurgeConfig(dg.Config):
    """Which runs the purge removes: those of tai's frequent jobs older than `retention_days`;
    and after how many minutes their step detail goes (`detail_retention_minutes`)."""

    retention_days: int = 30
    detail_retention_minutes: int = 15
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


@dg.op(
    description="Deletes tai's ingest and check runs older than TAI_RUN_RETENTION_DAYS, and the "
    "step detail of succeeded ones older than TAI_RUN_DETAIL_RETENTION_MINUTES."
)
def purge_old_runs_op(context: dg.OpExecutionContext, config: PurgeConfig) -> int:
    """Purge old runs and report how many went."""
    deleted = purge_old_runs(context.instance, config.retention_days, config.kinds)
    context.log.info(f"Purged {deleted} runs older than {config.retention_days} days.")
    # The sensors thin their own runs batch by batch; this sweep catches the rest.
    cutoff = utc_now() - timedelta(minutes=config.detail_retention_minutes)
    thinned = sum(
        thin_succeeded_runs(context.instance, {"tai/kind": kind}, cutoff) for kind in config.kinds
    )
    context.log.info(f"Thinned {thinned} step-detail events of succeeded runs.")
    return deleted


@dg.job(executor_def=dg.in_process_executor, tags={"tai/kind": "maintenance"})
def purge_old_runs_job():
    """Maintenance: purge old runs of the frequent jobs."""
    purge_old_runs_op()


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
