"""Benchmark: a weekly players snapshot of 1,000,000 accounts from the simulator.

    .venv/bin/python benchmarks/bench_snapshot.py [--accounts 1000000] [--keep DIR]

The simulator runs in a child process (its memory is not ours); this process crawls every page
(no politeness delay), stages it, assembles, validates and writes the partition into a fresh
DuckDB file, exactly as the asset does in production (`dagster.materialize`). Prints the wall
time of each step and this process's peak RSS, and exits non-zero above the 2 GiB budget.
"""

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BUDGET_BYTES = 2 * 1024**3
PARTITION = "2026-11-02"


def _serve_simulator(accounts: int, ports, stop) -> None:
    from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig, http_api

    # The simulator's handler sends headers and body in separate writes; with Nagle's algorithm
    # and the client's delayed ACK every response then stalls ~40 ms, which would make this a
    # benchmark of TCP timers. Switch Nagle off in the simulator process (TCP_NODELAY).
    http_api._Handler.disable_nagle_algorithm = True

    sim = Simulator(
        SimulatorConfig(seed=1, accounts=accounts, per_page=100),
        clock=ManualClock(datetime(2026, 11, 9, tzinfo=UTC)),
    )
    with sim.serve(host="127.0.0.1") as running:
        ports.put(running.http_base_url)
        stop.wait()


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def main() -> int:
    """Run the benchmark; return the process exit code (1 if over the memory budget)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()

    import dagster as dg

    from tai_assets.defs.players.assets import SNAPSHOT_ASSETS
    from tai_assets.defs.players.resources import TrainingApiResource
    from tai_assets.defs.resources import WarehouseResource
    from tai_assets.warehouse.io_manager import TaiWarehouseIOManager

    spawn = multiprocessing.get_context("spawn")
    ports, stop = spawn.Queue(), spawn.Event()
    server = spawn.Process(target=_serve_simulator, args=(args.accounts, ports, stop))
    server.start()
    work = args.keep or Path(tempfile.mkdtemp(prefix="tai-bench-snapshot-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        base_url = ports.get(timeout=120)
        database = str(work / "tai.duckdb")
        resources = {
            "training_api": TrainingApiResource(
                base_url=base_url,
                min_interval_seconds=0.0,
                staging_dir=str(work / "staging"),
            ),
            "warehouse": WarehouseResource(database=database),
            "io_manager": TaiWarehouseIOManager(database=database),
        }
        started = time.monotonic()
        result = dg.materialize(SNAPSHOT_ASSETS, partition_key=PARTITION, resources=resources)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    steps = {
        event.step_key: event
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS"
    }
    durations = {key: event.event_specific_data.duration_ms / 1000 for key, event in steps.items()}
    pages = result.asset_materializations_for_node("players_snapshot_pages")[0].metadata
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    peak = _peak_rss_bytes()
    print(f"accounts:          {args.accounts:,}")
    print(f"success:           {result.success}")
    print(f"pages crawled:     {pages['pages'].value:,}")
    for key, seconds in durations.items():
        print(f"step {key}: {seconds:,.1f} s")
    print(f"total wall time:   {elapsed:,.1f} s")
    print(
        f"peak RSS:          {peak / 1024**2:,.0f} MiB (budget {BUDGET_BYTES / 1024**2:,.0f} MiB)"
    )
    print(f"checks:            {checks}")
    return 0 if result.success and peak <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
