"""A job that holds the warehouse's write lock for a while, for the concurrency test.

`python -m tai_assets_tests.support.slow_writer DATABASE NAME` executes it as its own run, in its
own process, on the instance in DAGSTER_HOME.
"""

import os
import sys
import time
from datetime import datetime

import dagster as dg
import polars as pl

from tai_assets.defs.resources import WarehouseResource
from tai_assets.settings import Settings
from tai_assets.warehouse.io_manager import WRITE_MODE_KEY, TaiWarehouseIOManager

HOLD_SECONDS = float(os.environ.get("TAI_TEST_HOLD_SECONDS", "3"))


@dg.asset(
    name="player_sessions",
    metadata={"schema": "core", WRITE_MODE_KEY: "merge"},
)
def slow_sessions(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pl.DataFrame:
    """Keep a warehouse connection open for HOLD_SECONDS, then add one session."""
    name = context.run.tags["writer"]
    with warehouse.connect() as conn:
        conn.execute("SELECT count(*) FROM core.player_sessions").fetchall()
        time.sleep(HOLD_SECONDS)
    day = datetime(2026, 1, 1)
    return pl.DataFrame({"player": [name], "session_start": [day], "session_end": [day]})


def main(database: str, writer: str) -> int:
    """Execute the job on the DAGSTER_HOME instance; return 0 when the run succeeded."""
    wait = Settings().warehouse_lock_wait_seconds
    defs = dg.Definitions(
        assets=[slow_sessions],
        resources={
            "io_manager": TaiWarehouseIOManager(database=database, lock_wait_seconds=wait),
            "warehouse": WarehouseResource(database=database, lock_wait_seconds=wait),
        },
    )
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, tags={"writer": writer})
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
