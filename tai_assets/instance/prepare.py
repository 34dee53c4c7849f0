"""Prepares the Dagster instance before the deployment starts
(`python -m tai_assets.instance.prepare`, run by `./tai run`'s supervisor once the processes
of an earlier deployment are gone).

- Runs left in progress by that deployment (killed, or the machine restarted) are marked
  failed: no process of it is alive to finish them, and each would hold a place of
  `max_concurrent_runs` forever.
- The `warehouse` pool of earlier versions is removed: a pool slot held by a process that dies
  is never released. Writers now serialise on DuckDB's own file lock, which the kernel releases.
"""

import dagster as dg

from tai_assets.instance.dead_runs import fail_dead_runs

LEGACY_POOL = "warehouse"


def prepare_instance(instance: dg.DagsterInstance) -> list[str]:
    """Fail the runs whose workers are gone and drop the legacy pool; return the failed ids."""
    failed = fail_dead_runs(instance)
    storage = instance.event_log_storage
    if LEGACY_POOL in storage.get_concurrency_keys():
        storage.delete_concurrency_limit(LEGACY_POOL)
    return failed


if __name__ == "__main__":
    with dg.DagsterInstance.get() as current:
        failed = prepare_instance(current)
        print(f"tai: instance ready ({len(failed)} runs of an earlier deployment marked failed)")
