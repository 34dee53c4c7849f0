"""Benchmark: `./tai import` of a year of the original service's files.

    .venv/bin/python benchmarks/bench_import.py [--accounts 100000] [--snapshots 52] [--keep DIR]

A child process writes the files in the old schema (a year: about 511k sessions, 526k online
rows, 55k world sessions, 1.1 M world-online rows, and `--snapshots` weekly snapshots of
`--accounts` accounts, a little more each week); this process then imports them into a fresh
DuckDB warehouse exactly as the job does (`dagster.materialize` of `legacy_history`), and prints
the wall and CPU time, the per-file counts and its peak RSS. Exits non-zero when the import
fails, a check fails, or the peak RSS is over the 2 GiB budget. With `--keep DIR` the files are
written once and reused.
"""

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

BUDGET_BYTES = 2 * 1024**3
YEAR_START = datetime(2025, 1, 6)


def _write_files(folder: Path, accounts: int, snapshots: int) -> None:
    from tai_assets_tests.support.legacy_files import synthetic_history

    synthetic_history(
        folder,
        YEAR_START,
        days=365,
        sessions_per_day=1400,
        online_rows_per_day=1441,
        world_sessions_per_day=150,
        world_rows_per_day=3000,
        snapshots=snapshots,
        accounts=accounts,
    )


def main() -> int:
    """Run the benchmark; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--snapshots", type=int, default=52)
    parser.add_argument("--keep", type=Path, help="write the files here once and reuse them")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tai-bench-import-"))
    folder = args.keep or work / "data"
    if not (folder / "players.db").exists():
        started = time.monotonic()
        writer = multiprocessing.get_context("spawn").Process(
            target=_write_files, args=(folder, args.accounts, args.snapshots)
        )
        writer.start()
        writer.join()
        print(f"files written:     {time.monotonic() - started:,.1f} s (not part of the import)")

    import dagster as dg

    from tai_assets.defs.history.assets import legacy_history
    from tai_assets.defs.polling.resources import PollingSettings
    from tai_assets.defs.resources import WarehouseResource
    from tai_assets.legacy.cli import import_run_config

    database = str(work / "tai.duckdb")
    try:
        cpu_before = time.process_time()
        started = time.monotonic()
        result = dg.materialize(
            [legacy_history],
            resources={
                "warehouse": WarehouseResource(database=database),
                "polling": PollingSettings(),
            },
            run_config=import_run_config(str(folder), "UTC"),
            raise_on_error=False,
        )
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_before
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    print(f"success:           {result.success}")
    if result.success:
        (materialization,) = [
            m
            for m in result.asset_materializations_for_node("legacy_history")
            if m.asset_key == dg.AssetKey("legacy_history")
        ]
        print(materialization.metadata["files"].value)
    print(f"import wall time:  {elapsed:,.1f} s (CPU {cpu:,.1f} s)")
    print(
        f"peak RSS:          {peak / 1024**2:,.0f} MiB (budget {BUDGET_BYTES / 1024**2:,.0f} MiB)"
    )
    print(f"checks:            {checks}")
    ok = result.success and all(checks.values()) and peak <= BUDGET_BYTES
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
