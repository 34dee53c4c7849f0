"""One fault, as long as you like (an hour by default), against a real deployment.

The fault suite (`tai_assets_tests/test_faults_deployment.py`) applies every fault for 20-75 s,
which is longer than any retry or wait in tai. This runs one of them for `--seconds` to show
that nothing gives up over a long fault either: the simulator (60× clock), `python -m
tai_assets.deploy.serve` polling it every `--interval` s in batches of `--batch`, its data
folder on a small tmpfs, DAGSTER_HOME on a small ext4 disk (`home-read-only` is a disk error:
the kernel turns it read-only under open files; after the fault the operator's repair runs:
stop tai, fsck, mount, start tai). After the fault it prints the seconds until the
backlog was in the warehouse, then stops the deployment and prints the accounting: polls
served, lost and duplicated, derived tables against a full rebuild, runs left unfinished,
processes left alive, the instance's size, and the sensors' ticks during the fault.

    .venv/bin/python -u benchmarks/long_fault.py --fault warehouse-locked       # an hour
    .venv/bin/python -u benchmarks/long_fault.py --fault data-full --seconds 600
    faults: data-full, data-read-only, home-full, home-read-only, warehouse-locked

Needs root (it mounts tmpfs). Exits non-zero when a poll was lost or duplicated, the derived
tables differ from a rebuild, or a run or process was left behind.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

from tai_assets.core.spool import PollSpool
from tai_assets.dagster_internals.ticks import sensor_states
from tai_assets.defs.polling.sensors import SENSOR_OF_SOURCE
from tai_assets.settings import PROJECT_DIR
from tai_assets.simulator.launch import start_process
from tai_assets_tests.support.deployment import (
    Deployment,
    Faults,
    deployment_environment,
    deployment_processes,
    settle_accounts,
    simulator_stats,
    small_ext4,
    small_tmpfs,
    tear_down,
    wait_delivered_through,
    wait_first_batches,
    wait_for_runs_to_settle,
)

FAULTS = ("data-full", "data-read-only", "home-full", "home-read-only", "warehouse-locked")


def fail(message: str) -> None:
    """Stop the benchmark with `message`."""
    raise SystemExit(message)


def folder_bytes(path: Path) -> int:
    """Return the bytes of every file below `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def tick_statuses(instance: dg.DagsterInstance, since: float) -> dict[str, int]:
    """Return how many ticks of each status the polling sensors recorded after `since`."""
    counts: dict[str, int] = {}
    states = [s for name in SENSOR_OF_SOURCE.values() for s in sensor_states(instance, name)]
    for state in states:
        for tick in instance.get_ticks(
            state.instigator_origin_id, state.selector_id, after=since, limit=100_000
        ):
            key = f"{state.instigator_name} {tick.status.value}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fault", choices=FAULTS, required=True)
    parser.add_argument("--seconds", type=float, default=3600)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--lock-wait", type=int, default=15)
    parser.add_argument("--log", type=Path, help="keep the deployment's log here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tai-long-fault-") as scratch:
        scratch = Path(scratch)
        with (
            small_tmpfs(scratch / "data", fail) as data,
            small_ext4(scratch / "home", fail) as home,
        ):
            sys.exit(measure(args, scratch, data, home))


def measure(args: argparse.Namespace, scratch: Path, data: Path, home: Path) -> int:
    """Run the deployment through one long fault; print the numbers; return the exit status."""
    simulator, ports = start_process(speed=60)
    (home / "dagster.yaml").symlink_to(PROJECT_DIR / "deploy" / "dagster.yaml")
    database = data / "tai.duckdb"
    env = deployment_environment(ports, home, data, args.interval, args.batch, args.lock_wait)
    spool = PollSpool(data / "spool.sqlite3")
    deployment = Deployment(env, scratch / "deployment.log")
    faults = Faults(deployment, spool, ports, database, args.interval)
    apply = {
        "data-full": lambda: faults.fill(data, args.seconds),
        "data-read-only": lambda: faults.read_only(data, args.seconds),
        "home-full": lambda: faults.fill(home, args.seconds),
        "home-read-only": lambda: faults.disk_error(home, args.seconds),
        "warehouse-locked": lambda: faults.hold_warehouse_lock(args.seconds),
    }[args.fault]
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        deployment.start()
        deployment.wait_for(b"dagster-daemon")
        wait_first_batches(spool, 2 * args.batch)  # both sources' first batch is in
        before = simulator_stats(ports)
        fault_started = time.time()
        print(f"{args.fault} for {args.seconds:.0f} s, from {time.strftime('%H:%M:%S')}")
        apply()
        during = simulator_stats(ports)
        catch_up = wait_delivered_through(spool, faults.newest_spooled(), 1800)
        with dg.DagsterInstance.get() as instance:
            ticks = tick_statuses(instance, fault_started)
            unfinished = wait_for_runs_to_settle(instance)
            runs = {
                status.value: instance.get_runs_count(dg.RunsFilter(statuses=[status]))
                for status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
            }
        stop_seconds = deployment.stop()
        left = deployment_processes(home)
    finally:
        stats = tear_down(home, ports, simulator)
        if args.log and (scratch / "deployment.log").exists():
            shutil.copyfile(scratch / "deployment.log", args.log)
    accounting, unlike_rebuild = settle_accounts(env, database, stats, scratch, faults)
    polls_during = during["udp_polls"].get("i", 0) - before["udp_polls"].get("i", 0)
    print(f"server polls the simulator answered during the fault: {polls_during}")
    print(f"backlog in the warehouse {catch_up:.1f} s after the fault ended")
    print(f"polling ticks since the fault began: {ticks}")
    print(f"runs: {runs}; unfinished: {unfinished}; stop took {stop_seconds:.1f} s")
    print(f"instance (DAGSTER_HOME) size: {folder_bytes(home) / 1e6:.1f} MB")
    print(f"accounting: {accounting}")
    print(f"derived tables unlike a full rebuild: {unlike_rebuild}; processes left: {left}")
    good = (
        accounting["server_polls"] > 0
        and accounting["server_lost"] == accounting["server_duplicated"] == 0
        and accounting["worlds_lost"] == accounting["worlds_duplicated"] == 0
        and not unlike_rebuild
        and not unfinished
        and not left
    )
    print("OK" if good else "FAILED")
    return 0 if good else 1


if __name__ == "__main__":
    main()
