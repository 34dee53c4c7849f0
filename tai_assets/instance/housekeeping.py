"""Keeps the Dagster instance small and bounded through its public API: purges old ingest and
check runs with their event logs. (The deletes Dagster has no call for are in
`tai_assets.dagster_internals.event_log`.)"""

from datetime import timedelta

import dagster as dg

from tai_assets.common.clock import utc_now


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
