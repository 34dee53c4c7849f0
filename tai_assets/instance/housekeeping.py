"""Keeps the Dagster instance small and bounded: thins succeeded runs down to their asset events
after 15 minutes, and purges old ingest and check runs with their event logs after 30 days."""

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log import SqlEventLogStorage, SqliteEventLogStorage
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    SqlEventLogStorageTable,
)
from sqlalchemy import func, select

from tai_assets.common.clock import utc_now
from tai_assets.common.procfs import is_live, proc_stat

# What a succeeded run keeps once thinned: the assets' history (materializations, observations,
# check evaluations). Its status, timing, config and tags are in the run record, not in events.
KEPT_RUN_EVENTS = [
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_OBSERVATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
]
THIN_CHUNK = 500


def _consolidated_sql_storage(instance: dg.DagsterInstance) -> SqlEventLogStorage | None:
    """Return the instance's event log storage when all its events are in one SQL database."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage) or isinstance(storage, SqliteEventLogStorage):
        return None
    return storage


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def thin_succeeded_runs(
    instance: dg.DagsterInstance,
    tags: dict[str, str],
    finished_before: datetime,
    finished_after: datetime | None = None,
) -> int:
    """Delete the run-detail events of succeeded runs with these tags that finished in the
    window; return how many events went (0 where the event log keeps one file per run).

    At ~290 ingest runs a day, a run's own events are most of what the instance grows by: step
    and output events (~20 KB), planned materializations and lifecycle events (~5 KB). Once a
    succeeded run is a few minutes old nobody reads them: its status, timing, config and tags
    stay in the run record, and its materializations (the assets' history) stay in the event
    log until the run is purged. Failed runs keep everything; so do log messages (they have no
    event type).
    """
    storage = _consolidated_sql_storage(instance)
    if storage is None:
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
    kept = [event_type.value for event_type in KEPT_RUN_EVENTS]
    deleted = 0
    with storage.index_connection() as conn:
        for chunk in _chunks(run_ids, THIN_CHUNK):
            result = conn.execute(
                table.delete()
                .where(table.c.run_id.in_(chunk))
                .where(table.c.dagster_event_type.not_in(kept))
            )
            deleted += result.rowcount
    return deleted


class PurgeConfig(dg.Config):
    """Which runs the purge removes: those of tai's frequent jobs older than `retention_days`;
    and after how many minutes succeeded ones are thinned (`detail_retention_minutes`)."""

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


def purge_old_check_evaluations(instance: dg.DagsterInstance, retention_days: int) -> int:
    """Delete asset check executions older than the retention, except each check's latest,
    with the run-less evaluation events they recorded; return how many executions went.

    Dagster's `delete_run` leaves a run's check executions in place, and the freshness
    sensor's evaluations belong to no run, so without this both would pile up forever.
    """
    storage = _consolidated_sql_storage(instance)
    if storage is None:
        return 0
    cutoff = (utc_now() - timedelta(days=retention_days)).astimezone(UTC).replace(tzinfo=None)
    executions, events = AssetCheckExecutionsTable, SqlEventLogStorageTable
    latest = select(func.max(executions.c.id)).group_by(
        executions.c.asset_key, executions.c.check_name
    )
    recorded = select(executions.c.evaluation_event_storage_id).where(
        executions.c.evaluation_event_storage_id.is_not(None)
    )
    with storage.index_connection() as conn:
        deleted = conn.execute(
            executions.delete()
            .where(executions.c.evaluation_event_timestamp < cutoff)
            .where(executions.c.id.not_in(latest))
        ).rowcount
        conn.execute(
            events.delete()
            .where(events.c.run_id == "")
            .where(events.c.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION.value)
            .where(events.c.timestamp < cutoff)
            .where(events.c.id.not_in(recorded))
        )
    return deleted


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


# A run still STARTING after this long has no worker: its launch died with the process that
# made it.
STARTING_TIMEOUT_SECONDS = 120
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
_WORKER_PID = re.compile(r"Started process for run \(pid: (\d+)\)")


def process_started_at(pid: int) -> float | None:
    """Return when process `pid` started (epoch seconds), or None if there is no such live
    process (a zombie counts as dead)."""
    fields = proc_stat(pid)
    if not is_live(fields):
        return None
    try:
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """Return the pid of the process that executes the run, from its engine event."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        match = _WORKER_PID.search(record.event_log_entry.message or "")
        if match:
            return int(match.group(1))
    return None


def fail_dead_runs(instance: dg.DagsterInstance, now: datetime | None = None) -> list[str]:
    """Mark failed every run whose worker process is gone; return their run ids.

    Dagster's default run launcher cannot tell that a run worker died (kill -9, a machine
    restart): such a run stays STARTED or STARTING forever, and each one takes a place of
    `max_concurrent_runs`. A run counts as dead when its worker pid names no live process,
    or one started after the run (the pid was reused), or when it has been STARTING for
    STARTING_TIMEOUT_SECONDS. Its failure lets the retry policy take it up; polls it held
    are still pending in the spool either way.
    """
    now_ts = (now or datetime.now(UTC)).timestamp()
    failed = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        created = record.create_timestamp.timestamp()
        pid = run_worker_pid(instance, run.run_id)
        if pid is None:
            dead = now_ts - created > STARTING_TIMEOUT_SECONDS
            why = f"no run worker started within {STARTING_TIMEOUT_SECONDS} s"
        else:
            started = process_started_at(pid)
            dead = started is None or started > (record.start_time or created) + 5
            why = f"its run worker (pid {pid}) is gone"
        if dead:
            instance.report_run_failed(run, message=f"tai: {why}; marked failed")
            failed.append(run.run_id)
    return failed
