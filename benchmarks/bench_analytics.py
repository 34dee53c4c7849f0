"""Benchmark: the digests and every other analytics asset over a year of synthetic history.

    .venv/bin/python benchmarks/bench_analytics.py [--seats 150] [--players 3000] [--worlds 30]
                                                   [--accounts 20000] [--only STEP,...] [--keep DIR]

Generates 2025 (Moscow time) straight into a fresh DuckDB warehouse, shaped as the polling
assets leave it: about ``--seats`` players online at every minute (sessions of 10–180 minutes
back to back, drawn from ``--players`` names), one ``server_online`` change and one raw poll per
minute (1,440 a day, with short outages), and ``--worlds`` worlds opening sessions of 20–240
minutes whose ``worlds_online`` history has a point every 5 minutes, and 52 weekly snapshots
of ``--accounts`` accounts (a third with role-play names, 1 % renamed mid-year). Each measured
step then runs in its own child process, so its peak RSS is its own; wall time and peak RSS
are printed as a table ("of which imports" is the RSS before the step starts).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

YEAR = 2025
STEPS = {
    "yearly digest: compute + render + picture": "compute_year",
    "yearly digest: dagster materialize": "materialize_year",
    "monthly digest: dagster materialize": "materialize_month",
    "daily activity (1 day): dagster materialize": "materialize_day",
    "world_tags (every name)": "world_tags",
    "genre_popularity (1 day)": "genre_popularity",
    "online_heatmap (1 month)": "online_heatmap",
    "online_heatmap_recent (28 days)": "online_heatmap_recent",
    "player_profiles": "player_profiles",
    "name_history (52 snapshots)": "name_history",
    "player_base + cohorts": "player_base",
    "rp_names": "rp_names",
    "player_churn": "player_churn",
}
# The asset and partition each materialize step runs (None: unpartitioned).
MATERIALIZED = {
    "materialize_year": ("yearly_digest", str(YEAR)),
    "materialize_month": ("monthly_digest", f"{YEAR}-06-01"),
    "materialize_day": ("daily_activity", f"{YEAR}-06-15"),
    "world_tags": ("world_tags", None),
    "genre_popularity": ("genre_popularity", f"{YEAR}-06-15"),
    "online_heatmap": ("online_heatmap", f"{YEAR}-06-01"),
    "online_heatmap_recent": ("online_heatmap_recent", None),
    "player_profiles": ("player_profiles", None),
    "name_history": ("name_history", None),
    "player_base": ("player_base", None),
    "rp_names": ("rp_names", None),
    "player_churn": ("player_churn", None),
}

GENERATE_SQL = """
SELECT setseed(0.42);
CREATE TEMP TABLE seat_sessions AS
WITH draws AS (
    SELECT seat, i,
           10 + floor(random() * 171)::INTEGER AS length_min,
           1 + floor(random() * 10)::INTEGER AS gap_min,
           floor(random() * $players)::INTEGER AS who
    FROM range($seats) AS s(seat), range(6000) AS r(i)
), placed AS (
    SELECT seat, who, length_min,
           sum(length_min + gap_min) OVER (PARTITION BY seat ORDER BY i)
               - (length_min + gap_min) + (seat * 7) % 60 AS offset_min
    FROM draws
)
SELECT 'player_' || who AS player,
       TIMESTAMP '2024-12-31 21:00:00' + to_minutes(offset_min::BIGINT) AS session_start,
       TIMESTAMP '2024-12-31 21:00:00'
           + to_minutes((offset_min + length_min)::BIGINT) AS session_end
FROM placed
WHERE offset_min < 366 * 1440;
INSERT INTO core.player_sessions SELECT * FROM seat_sessions ON CONFLICT DO NOTHING;

CREATE TEMP TABLE minutes AS
SELECT TIMESTAMP '2024-12-31 21:00:00' + to_minutes(m::BIGINT) AS t, m
FROM range(366 * 1440) AS r(m);
CREATE TEMP TABLE polls AS
SELECT t,
       CASE WHEN m % 14400 BETWEEN 600 AND 609 THEN 'unreachable' ELSE 'ok' END AS status,
       CASE WHEN m % 14400 BETWEEN 600 AND 609 THEN NULL
            ELSE greatest(0, round($seats * (0.8 + 0.3 * sin(2 * pi() * ((m % 1440) - 600) / 1440))
                                   + random() * 10))::INTEGER END AS online
FROM minutes;
INSERT INTO raw.raw_server_polls (polled_at, status, online, max_players, hostname)
SELECT t, status, online, 300, 'bench' FROM polls;
INSERT INTO core.server_online
SELECT t, CASE WHEN status = 'ok' THEN 'up' ELSE 'down' END, online,
       CASE WHEN status = 'ok' THEN 300 END
FROM polls;

CREATE TEMP TABLE world_draws AS
WITH d AS (
    SELECT w, i,
           20 + floor(random() * 221)::INTEGER AS length_min,
           30 + floor(random() * 571)::INTEGER AS gap_min
    FROM range($worlds) AS ws(w), range(2000) AS r(i)
), placed AS (
    SELECT w, length_min,
           sum(length_min + gap_min) OVER (PARTITION BY w ORDER BY i)
               - (length_min + gap_min) + w * 13 AS offset_min
    FROM d
)
SELECT CASE WHEN w % 10 = 9 THEN 'world' || w || '.ru' ELSE 'World ' || w END AS name,
       TIMESTAMP '2024-12-31 21:00:00' + to_minutes(offset_min::BIGINT) AS session_start,
       TIMESTAMP '2024-12-31 21:00:00'
           + to_minutes((offset_min + length_min)::BIGINT) AS session_end,
       1 + floor(random() * 14)::INTEGER AS crowd
FROM placed
WHERE offset_min < 366 * 1440;
INSERT INTO core.world_sessions SELECT name, session_start, session_end FROM world_draws;
INSERT INTO core.players_snapshot (snapshot_week, snapshot_time, id, login, regdate, lastlogin)
SELECT DATE '2024-12-30' + (7 * w)::INTEGER,
       TIMESTAMP '2025-01-06 00:00:05' + to_days((7 * w)::INTEGER), i,
       CASE WHEN i % 3 = 0 THEN 'Name_Surname' || i
            WHEN i % 97 = 0 AND w > 26 THEN 'renamed_' || i ELSE 'player_' || i END,
       TIMESTAMP '2015-01-01' + to_days(((i * 7919) % 3650)::INTEGER),
       TIMESTAMP '2025-01-01' + to_days((((i * 104729) % 365) * w // 52)::INTEGER)
FROM range(52) AS weeks(w), range($accounts) AS ids(i);
INSERT INTO core.worlds_online (name, players, static, ssmp, saved_at)
SELECT name,
       greatest(1, crowd - 3 + floor(random() * 7)::INTEGER),
       false, false, t
FROM (
    SELECT name, crowd, unnest(generate_series(session_start, session_end, INTERVAL 5 MINUTE)) AS t
    FROM world_draws
);
"""


def generate(database: str, seats: int, players: int, worlds: int, accounts: int) -> dict:
    """Fill a fresh warehouse with a synthetic 2025; return row counts and the time it took."""
    from tai_assets.core.derive import refresh_world_session_stats
    from tai_assets.warehouse import connection

    started = time.monotonic()
    with connection.connect(database) as conn:
        params = {"seats": seats, "players": players, "worlds": worlds, "accounts": accounts}
        for statement in GENERATE_SQL.split(";"):
            if statement.strip():
                used = {k: v for k, v in params.items() if f"${k}" in statement}
                conn.execute(statement, used or None)
        refresh_world_session_stats(conn, None)  # as the ingest keeps them
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "core.player_sessions",
                "core.server_online",
                "raw.raw_server_polls",
                "core.world_sessions",
                "core.worlds_online",
                "core.players_snapshot",
            )
        }
        conn.execute("CHECKPOINT")
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def _resources(database: str) -> dict:
    from tai_assets.defs.analytics.resources import AnalyticsSettings, TelegramResource
    from tai_assets.defs.resources import WarehouseResource
    from tai_assets.warehouse.io_manager import TaiWarehouseIOManager

    return {
        "io_manager": TaiWarehouseIOManager(database=database),
        "warehouse": WarehouseResource(database=database),
        "analytics_settings": AnalyticsSettings(),
        "telegram": TelegramResource(),
    }


def run_step(step: str, database: str) -> dict:
    """Run one measured step in this (child) process; return its time and peak RSS."""
    import dagster as dg

    from tai_assets.analytics.digest import compute_digest
    from tai_assets.analytics.periods import Period
    from tai_assets.analytics.plots import digest_png
    from tai_assets.analytics.render import render_markdown
    from tai_assets.defs.analytics import ANALYTICS_ASSETS
    from tai_assets.warehouse import connection

    with connection.connect(database):
        pass  # DDL applied before the clock starts
    instance = dg.DagsterInstance.ephemeral()
    if step.startswith("materialize"):
        # Dagster's first run in a process costs seconds of one-off set-up; pay it untimed on a
        # trivial asset so the table shows what the analytics asset itself costs per run.
        dg.materialize([dg.asset(name="warm_up")(lambda: None)], instance=instance)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.monotonic()
    detail = ""
    if step == "compute_year":
        with connection.connect(database) as conn:
            data = compute_digest(conn, Period("year", __import__("datetime").date(YEAR, 1, 1)))
        text = render_markdown(data.content)
        png = digest_png(data.peaks, data.top_players, data.top_worlds, "2025")
        detail = f"{len(text)} chars, {len(png) // 1024} KiB png"
    else:
        name, key = MATERIALIZED[step]
        (asset,) = [a for a in ANALYTICS_ASSETS if dg.AssetKey(name) in a.keys]
        result = dg.materialize(
            [asset], partition_key=key, resources=_resources(database), instance=instance
        )
        assert result.success
        detail = "one run, after an untimed warm-up run"
    elapsed = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": elapsed, "peak_rss": peak, "baseline_rss": baseline, "detail": detail}


def main() -> int:
    """Generate the history, measure every step in a child process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=150, help="players online at any minute")
    parser.add_argument("--players", type=int, default=3000, help="distinct player names")
    parser.add_argument("--worlds", type=int, default=30)
    parser.add_argument("--accounts", type=int, default=20000, help="accounts per weekly snapshot")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--only", help="comma-separated steps to run (default: all)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:
        print(json.dumps(run_step(args.step, args.database)))
        return 0

    work = args.keep or Path(tempfile.mkdtemp(prefix="tai-bench-analytics-"))
    work.mkdir(parents=True, exist_ok=True)
    database = str(work / "tai.duckdb")
    if os.path.exists(database):
        os.remove(database)
    counts = generate(database, args.seats, args.players, args.worlds, args.accounts)
    print(f"synthetic {YEAR} generated in {counts.pop('seconds')} s:")
    for table, n in counts.items():
        print(f"  {table:24} {n:>12,} rows")
    print()
    env = {**os.environ, "TAI_ANALYTICS_START_DATE": f"{YEAR}-01-01"}
    only = [step for step in args.only.split(",")] if args.only else None
    rows = []
    try:
        for label, step in STEPS.items():
            if only and step not in only:
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--step", step, "--database", database],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            rows.append((label, json.loads(out.stdout.strip().splitlines()[-1])))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    width = max(len(label) for label, _ in rows)
    print(f"{'step':{width}}  {'time':>8}  {'peak RSS':>9}  {'of which imports':>16}  detail")
    for label, m in rows:
        print(
            f"{label:{width}}  {m['seconds']:7.2f}s  {m['peak_rss'] / 2**20:7.0f}MiB  "
            f"{m['baseline_rss'] / 2**20:14.0f}MiB  {m['detail']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
