"""Raw deletes on Dagster's SQL event-log tables: the one place tai writes Dagster's storage
directly, because Dagster has no public call to drop a run's step events or old check
executions. Both work only where the event log is one SQL database (consolidated SQLite or
PostgreSQL); elsewhere they do nothing and say so by returning 0.

Assumptions pinned by `tai_assets_tests/test_dagster_internals.py`: the table objects and
columns named here, and the event types' string values.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log import SqlEventLogStorage, SqliteEventLogStorage
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    SqlEventLogStorageTable,
)
from sqlalchemy import func, select

from tai_assets.common.clock import utc_now

# What a succeeded run keeps once thinned: the assets' history (materializations, observations,
# check evaluations). Its status, timing, config and tags are in the run record, not in events.
KEPT_RUN_EVENTS = [
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_OBSERVATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
    # The UI reads a step's status from its events: without this one, a thinned run that
    # succeeded shows its step as "Not executed".
    DagsterEventType.STEP_SUCCESS,
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
