"""Prepares the Dagster instance tai runs on (`python -m tai_assets.instance`).

The `warehouse` pool must exist with limit 1 before two runs race for it: a pool that only has
the config's default limit is created lazily, and two processes creating it at once can both get
a slot. `./tai run` calls this before starting Dagster.
"""

import dagster as dg

WAREHOUSE_POOL = "warehouse"


def ensure_warehouse_pool(instance: dg.DagsterInstance) -> int:
    """Create (or reset) the warehouse pool with one slot; return the limit now in force."""
    instance.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
    return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).slot_count


if __name__ == "__main__":
    with dg.DagsterInstance.get() as current:
        print(f"pool {WAREHOUSE_POOL}: limit {ensure_warehouse_pool(current)}")
