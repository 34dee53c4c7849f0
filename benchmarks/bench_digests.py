"""Benchmark: the digests' compute (no picture) over a synthetic year, cold and warm.

    .venv/bin/python benchmarks/bench_digests.py [--repeats 7] [--keep DIR]

The year is `bench_analytics.py`'s (786k player sessions, 527k online changes, 35k world
sessions, 947k world points), with `world_tags` materialized first so that digests name their
genres. Each measurement runs in a fresh child process:

- cold: the wall time of a whole `python` process that imports tai and computes one day's
  digest (interpreter start, imports and the first query included);
- warm: per period (day, week, month, year), one untimed digest, then the median CPU time
  (`time.process_time`, every thread of the process, DuckDB's included) and wall time of
  `--repeats` more; the peak RSS of the child that computed the year.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_analytics import YEAR, _resources, generate

PERIODS = {
    "day": date(YEAR, 6, 15),
    "week": date(YEAR, 6, 16),
    "month": date(YEAR, 6, 1),
    "year": date(YEAR, 1, 1),
}
COLD = f"""
from datetime import date
from tai_assets.analytics.digest import compute_digest
from tai_assets.analytics.periods import Period
from tai_assets.warehouse import connection
with connection.connect({{database!r}}) as conn:
    compute_digest(conn, Period("day", date({YEAR}, 6, 15)))
"""


def tag_worlds(database: str) -> None:
    """Materialize `world_tags` into the warehouse (untimed), as a deployment would have."""
    import dagster as dg

    from tai_assets.defs.analytics import ANALYTICS_ASSETS

    (asset,) = [a for a in ANALYTICS_ASSETS if dg.AssetKey("world_tags") in a.keys]
    assert dg.materialize([asset], resources=_resources(database)).success


def warm(kind: str, database: str, repeats: int) -> dict:
    """In this (child) process: the median CPU and wall seconds of `kind`'s digest, warm."""
    from tai_assets.analytics.digest import compute_digest
    from tai_assets.analytics.periods import Period
    from tai_assets.warehouse import connection

    period = Period(kind, PERIODS[kind])
    cpu, wall = [], []
    with connection.connect(database) as conn:
        compute_digest(conn, period)
        for _ in range(repeats):
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            compute_digest(conn, period)
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started_wall)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"cpu": statistics.median(cpu), "wall": statistics.median(wall), "peak_rss": peak}


def child(args: list[str], env: dict) -> str:
    """Run this script (or code) in a fresh Python; return its last line of output."""
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def main() -> int:
    """Generate the year, measure cold and warm digests in child processes, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--warm", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm:
        print(json.dumps(warm(args.warm, args.database, args.repeats)))
        return 0
    if args.generate:
        generate(args.database, seats=150, players=3000, worlds=30, accounts=20000)
        tag_worlds(args.database)
        return 0

    work = args.keep or Path(tempfile.mkdtemp(prefix="tai-bench-digests-"))
    work.mkdir(parents=True, exist_ok=True)
    database = str(work / "tai.duckdb")
    env = {**os.environ, "TAI_ANALYTICS_START_DATE": f"{YEAR}-01-01"}
    try:
        if not os.path.exists(database):
            # In a child: a child's peak RSS starts from its parent's (Linux keeps ru_maxrss
            # across fork and exec), and generating the year takes ~470 MiB.
            child([__file__, "--generate", "--database", database], env)
        child(["-c", COLD.format(database=database)], env)  # untimed: the OS caches the files
        colds = []
        for _ in range(3):
            started = time.perf_counter()
            child(["-c", COLD.format(database=database)], env)
            colds.append(time.perf_counter() - started)
        rows = {}
        for kind in PERIODS:
            line = child(
                [__file__, "--warm", kind, "--database", database, "--repeats", str(args.repeats)],
                env,
            )
            rows[kind] = json.loads(line)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    cold = statistics.median(colds)
    print(f"cold: a fresh process computing one day's digest, median of 3: {cold:.2f} s")
    print(f"{'digest':8} {'CPU (s)':>8} {'wall (s)':>9} {'peak RSS (MiB)':>15}")
    for kind, m in rows.items():
        print(f"{kind:8} {m['cpu']:8.3f} {m['wall']:9.3f} {m['peak_rss'] / 2**20:15.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
