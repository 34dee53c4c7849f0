"""Prepares the Dagster instance before the deployment starts
(`python -m tai_assets.instance.prepare`, run by `./tai run`'s supervisor once the processes
of an earlier deployment are gone).

- Runs left in progress by that deployment (killed, or the machine restarted) are marked
  failed: no process of it is alive to finish them, and each would hold a place of
  `max_concurrent_runs` forever.
- The `warehouse` pool of earlier versions is removed: a pool slot held by a process that dies
  is never released. Writers now serialise on DuckDB's own file lock, which the kernel releases.
- Polling sensor states of another code location name (earlier versions' daemon named the
  location `grpc:127.0.0.1:<port>`; it is `tai` now) are removed, after the polls their cursors
  held (taken while the spool could not be written) are appended to the spool.
"""

import dagster as dg

from tai_assets.core.spool import PollSpool, SpoolUnavailable
from tai_assets.dagster_internals.ticks import sensor_states
from tai_assets.defs.polling.sensors import SENSOR_OF_SOURCE, PollingCursor
from tai_assets.instance.dead_runs import fail_dead_runs
from tai_assets.settings import LOCATION_NAME, Settings

LEGACY_POOL = "warehouse"


def spool_cursors_of_other_locations(instance: dg.DagsterInstance, spool: PollSpool) -> int:
    """Move the polls held in the cursors of polling-sensor states of any location but `tai`
    to the spool, then delete those states; return how many polls were moved. A state whose
    polls the spool cannot take now is kept for the next start."""
    moved = 0
    for source, sensor_name in SENSOR_OF_SOURCE.items():
        for state in sensor_states(instance, sensor_name):
            location = state.origin.repository_origin.code_location_origin.location_name
            if location == LOCATION_NAME:
                continue
            cursor = PollingCursor.decode(getattr(state.instigator_data, "cursor", None))
            if cursor.unspooled:
                try:
                    spool.append(source, cursor.unspooled)
                except SpoolUnavailable:
                    continue
                moved += len(cursor.unspooled)
            instance.delete_instigator_state(state.instigator_origin_id, state.selector_id)
    return moved


def prepare_instance(instance: dg.DagsterInstance, spool: PollSpool) -> tuple[list[str], int]:
    """Fail the runs whose workers are gone, drop the legacy pool and carry over the polls of
    renamed locations' cursors; return the failed run ids and the polls carried over."""
    failed = fail_dead_runs(instance)
    storage = instance.event_log_storage
    if LEGACY_POOL in storage.get_concurrency_keys():
        storage.delete_concurrency_limit(LEGACY_POOL)
    return failed, spool_cursors_of_other_locations(instance, spool)


if __name__ == "__main__":
    with dg.DagsterInstance.get() as current:
        failed, moved = prepare_instance(current, PollSpool(Settings().spool_path))
        print(
            f"tai: instance ready ({len(failed)} runs of an earlier deployment marked failed, "
            f"{moved} polls from an earlier location's sensor cursors spooled)"
        )
