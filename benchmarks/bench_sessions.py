"""Benchmark: player sessions over a year of synthetic polls, full rebuild and incremental batch.

    .venv/bin/python benchmarks/bench_sessions.py [--days 365] [--players 150] [--pool 2000]
                                                  [--batch 10] [--repeat 5] [--quick]
                                                  [--workdir DIR]

Generates, in bulk SQL straight into DuckDB warehouses (DDL applied by `connection.connect`), one
poll a minute (1,440 a day) with about ``--players`` names online at each poll, drawn from a pool
of ``--pool`` names (players chosen by hashing, so the stream is deterministic): "seats" (about
1.25 per player online) host sessions back to back, 3 min to 8 h, mostly under an hour; 30 % of
the time the same player comes back after a pause of 2–61 min (so some pauses merge within the
45-min gap and some do not), otherwise a new player takes the seat after 1–5 min. About 0.5 % of
the polls know no names (``unreachable`` or ``count_only``). Two warehouses are built once each,
1 day and ``--days`` days of history, with `player_sessions` and `server_online` derived from
every poll by the project's own transforms (so laid out as a full rebuild leaves them). The next
``--batch`` polls of the same stream are the incremental batch.

Every measurement runs in its own child process on a fresh copy of the warehouse file, so the
peak RSS (VmHWM, else ``ru_maxrss``) is that operation's and every run starts from the same state:

- full rebuild: ``derive_sessions(conn, PLAYER_SESSIONS, None, gap)`` + ``write_frame(merge)``;
- the batch: append the raw polls; then (each on its own, after an untimed append of them)
  ``derive_sessions`` / ``derive_server_online`` on the batch's window + ``write_frame(merge)``.

Incremental times are the median of ``--repeat`` runs (peak RSS: the highest). Generated
warehouses are kept in ``--workdir`` when given (and reused by a later run with the same
parameters); otherwise a temporary folder is used and removed.
"""

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = "2025-01-01 00:00:00"
GAP_SECONDS = 2700
GENERATOR_VERSION = 3
CHUNK_DAYS = 30
MEAN_SESSION_MIN = 57.5  # mean of least(480, 3 + floor(55 · Exp(1)))
MEAN_PAUSE_MIN = 0.3 * 31.5 + 0.7 * 3.0  # comes back: 2 + U{0..59}; new player: 1 + U{0..4}
OVERLAP_CORRECTION = 1.04  # measured: a player now and then holds two seats, listed once

SEAT_SESSIONS_SQL = """
CREATE OR REPLACE TEMP TABLE seat_sessions AS
WITH draws AS (
    SELECT seat, i,
           (hash(seat, i, 'length') % 1000003) / 1000003.0 AS u_length,
           (hash(seat, i, 'pause') % 1000003) / 1000003.0 AS u_pause,
           (hash(seat, i, 'back') % 1000003) / 1000003.0 AS u_back
    FROM range($seats) AS s(seat), range($draws) AS r(i)
), shaped AS (
    SELECT seat, i,
           least(480, 3 + floor(-ln(1 - u_length) * 55))::BIGINT AS length_min,
           u_back < 0.3 AS comes_back,
           (CASE WHEN u_back < 0.3 THEN 2 + floor(u_pause * 60)
                 ELSE 1 + floor(u_pause * 5) END)::BIGINT AS pause_min
    FROM draws
), placed AS (
    SELECT seat, length_min,
           (sum(pause_min + length_min) OVER seat_order - length_min
               - hash(seat, 'offset') % 240)::BIGINT AS start_min,
           sum(CASE WHEN comes_back THEN 0 ELSE 1 END) OVER seat_order AS occupant
    FROM shaped
    WINDOW seat_order AS (PARTITION BY seat ORDER BY i ROWS UNBOUNDED PRECEDING)
)
SELECT seat,
       'Player_' || (hash(seat, occupant, 'who') % $pool) AS player,
       start_min,
       start_min + length_min AS end_min  -- exclusive: listed at polls start_min .. end_min - 1
FROM placed
"""

# Polls of minutes [$lo, $hi): names listed at each minute, and the poll's status.
POLLS_SQL = """
WITH listed AS (
    SELECT m, list(DISTINCT player ORDER BY player) AS names
    FROM (
        SELECT player,
               unnest(range(greatest(start_min, $lo::BIGINT), least(end_min, $hi::BIGINT))) AS m
        FROM seat_sessions
        WHERE start_min < $hi AND end_min > $lo
    )
    GROUP BY m
), minutes AS (
    SELECT m, CASE hash(m, 'status') % 1000
                  WHEN 0 THEN 'unreachable' WHEN 1 THEN 'unreachable' WHEN 2 THEN 'unreachable'
                  WHEN 3 THEN 'count_only' WHEN 4 THEN 'count_only'
                  ELSE 'ok' END AS status
    FROM range($lo::BIGINT, $hi::BIGINT) AS r(m)
)
SELECT TIMESTAMP '{start}' + to_minutes(m) AS polled_at,
       status,
       CASE WHEN status <> 'unreachable' THEN len(coalesce(names, []))::INTEGER END AS online,
       CASE WHEN status <> 'unreachable' THEN 300 END AS max_players,
       CASE WHEN status = 'ok' THEN coalesce(names, []) END AS player_names,
       CASE WHEN status <> 'unreachable' THEN 'TRAINING SANDBOX (bench)' END AS hostname,
       CASE WHEN status = 'unreachable' THEN 'timeout'
            WHEN status = 'count_only' THEN 'no answer to c' END AS error,
       CASE WHEN status <> 'unreachable' THEN 12.5 END AS latency_ms
FROM minutes LEFT JOIN listed USING (m)
ORDER BY m
""".replace("{start}", START)

OPERATIONS = {
    "rebuild_sessions": "full rebuild: player sessions",
    "batch_append": "batch: append raw polls",
    "batch_server_online": "batch: server_online",
    "batch_sessions": "batch: player sessions",
}
BATCH_OPERATIONS = ["batch_append", "batch_server_online", "batch_sessions"]


# --- generation (parent process) -------------------------------------------------------------


def _seats(players: int) -> int:
    cycle = MEAN_SESSION_MIN + MEAN_PAUSE_MIN
    return max(1, round(players * cycle / MEAN_SESSION_MIN * OVERLAP_CORRECTION))


def generate(database: Path, batch_file: Path, days: int, players: int, pool: int, batch: int):
    """Build a warehouse of `days` days of polls with sessions derived, and the next batch."""
    from tai_assets.common.sql_files import read_sql
    from tai_assets.core.derive import OUTAGE_POLLS
    from tai_assets.warehouse import connection

    history = days * 1440
    total = history + batch
    partial = database.with_name(database.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    with connection.connect(str(partial)) as conn:
        seats = _seats(players)
        draws = int(total / (MEAN_SESSION_MIN + MEAN_PAUSE_MIN) * 1.5) + 50
        conn.execute(SEAT_SESSIONS_SQL, {"seats": seats, "draws": draws, "pool": pool})
        ((covered,),) = conn.execute(
            "SELECT min(reach) FROM (SELECT max(end_min) AS reach FROM seat_sessions GROUP BY seat)"
        ).fetchall()
        if covered < total:
            raise RuntimeError(f"seat sessions reach minute {covered} only, need {total}")
        insert = (
            "INSERT INTO raw.raw_server_polls (polled_at, status, online, max_players, "
            f"player_names, hostname, error, latency_ms) {POLLS_SQL}"
        )
        for lo in range(0, history, CHUNK_DAYS * 1440):
            conn.execute(insert, {"lo": lo, "hi": min(history, lo + CHUNK_DAYS * 1440)})
        conn.sql(POLLS_SQL, params={"lo": history, "hi": total}).pl().write_parquet(batch_file)

        # Sessions and the online series as a full rebuild leaves them: the same SQL (and so the
        # same row order, which decides how the table is clustered), run inside DuckDB.
        window = conn.execute(
            "SELECT min(polled_at) AS window_start, max(polled_at) AS window_end "
            "FROM raw.raw_server_polls"
        ).fetchall()[0]
        params = {"window_start": window[0], "window_end": window[1]}
        conn.execute(
            f"CREATE TEMP TABLE _points AS {read_sql('transforms/player_points.sql')}",
            {**params, "gap_seconds": GAP_SECONDS},
        )
        conn.execute(
            "CREATE TEMP TABLE _existing "
            "(entity VARCHAR, session_start TIMESTAMP, session_end TIMESTAMP)"
        )
        conn.execute(
            "INSERT INTO core.player_sessions (player, session_start, session_end) "
            f"SELECT entity, session_start, session_end FROM ("
            f"{read_sql('transforms/merge_sessions.sql')})",
            {"gap_seconds": GAP_SECONDS},
        )
        conn.execute(
            "INSERT INTO core.server_online (changed_at, status, online, max_players) "
            f"SELECT changed_at, status, online, max_players FROM ("
            f"{read_sql('transforms/server_online.sql')})",
            {**params, "outage_polls": OUTAGE_POLLS},
        )
        stats = conn.execute(
            """
            SELECT (SELECT count(*) FROM raw.raw_server_polls),
                   (SELECT sum(len(player_names)) FROM raw.raw_server_polls),
                   (SELECT avg(len(player_names)) FROM raw.raw_server_polls),
                   (SELECT count(DISTINCT entity) FROM _points),
                   (SELECT count(*) FROM core.player_sessions),
                   (SELECT count(*) FROM core.server_online)
            """
        ).fetchall()[0]
        conn.execute("DROP TABLE _points")
        conn.execute("DROP TABLE _existing")
        conn.execute("DROP TABLE seat_sessions")
        conn.execute("CHECKPOINT")
    info = dict(
        zip(
            ["polls", "poll_player_rows", "mean_online", "players", "sessions", "server_online"],
            [int(stats[0]), int(stats[1] or 0), float(stats[2] or 0), *map(int, stats[3:])],
            strict=True,
        )
    )
    info["seconds"] = round(time.monotonic() - started, 1)
    info["file_mib"] = round(partial.stat().st_size / 2**20)
    partial.rename(database)
    database.with_suffix(".json").write_text(json.dumps(info))
    return info


def cached_history(workdir: Path, days: int, args) -> tuple[Path, Path, dict]:
    """Return (warehouse, batch file, stats) for `days` days, generating them unless cached."""
    stem = f"history_v{GENERATOR_VERSION}_{days}d_{args.players}p_{args.pool}n_{args.batch}b"
    database, batch_file = workdir / f"{stem}.duckdb", workdir / f"{stem}.batch.parquet"
    stats_file = database.with_suffix(".json")
    if database.exists() and batch_file.exists() and stats_file.exists():
        info = json.loads(stats_file.read_text())
        print(f"{days} d history: reusing {database}", flush=True)
    else:
        print(f"{days} d history: generating {database} ...", flush=True)
        info = generate(database, batch_file, days, args.players, args.pool, args.batch)
        print(
            f"  {info['polls']:,} polls, {info['poll_player_rows']:,} poll-player rows "
            f"(mean {info['mean_online']:.1f} online), {info['players']:,} players, "
            f"{info['sessions']:,} sessions, {info['server_online']:,} server_online rows; "
            f"{info['file_mib']:,} MiB, generated in {info['seconds']} s",
            flush=True,
        )
    return database, batch_file, info


# --- one measurement (child process) ---------------------------------------------------------


def peak_rss_bytes() -> int:
    """Return this process's peak RSS: VmHWM on Linux, else ``ru_maxrss``.

    On Linux ``ru_maxrss`` keeps the high-water mark of the process image an ``exec`` replaced,
    so a child of a large parent would report the parent's peak; VmHWM starts afresh.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def measure(operation: str, database: str, batch_file: str, gap: int) -> dict:
    """Run one operation on `database` in this process; return its time, rows and peak RSS."""
    import polars as pl

    from tai_assets.core.derive import (
        PLAYER_SESSIONS,
        Window,
        derive_server_online,
        derive_sessions,
    )
    from tai_assets.warehouse import connection
    from tai_assets.warehouse.io_manager import WarehouseTable, write_frame

    batch = pl.read_parquet(batch_file)
    window = Window.covering(batch["polled_at"].to_list())
    with connection.connect(database) as conn:
        if operation in ("batch_server_online", "batch_sessions"):
            write_frame(conn, WarehouseTable.named("raw.raw_server_polls"), batch, "append")
        before = peak_rss_bytes()
        started = time.perf_counter()
        if operation == "batch_append":
            write_frame(conn, WarehouseTable.named("raw.raw_server_polls"), batch, "append")
            rows = f"{batch.height} polls"
        else:
            if operation == "batch_server_online":
                table, change = "core.server_online", derive_server_online(conn, window)
            else:
                full = operation == "rebuild_sessions"
                change = derive_sessions(conn, PLAYER_SESSIONS, None if full else window, gap)
                table = "core.player_sessions"
            write_frame(
                conn,
                WarehouseTable.named(table),
                change.upsert,
                change.write_mode("merge"),
                change.delete_keys,
            )
            deleted = 0 if change.delete_keys is None else change.delete_keys.height
            replaced = "the table replaced" if change.replaces_all else f"{deleted:,} deleted"
            rows = f"{change.upsert.height:,} upserted, {replaced}"
        seconds = time.perf_counter() - started
    peak = peak_rss_bytes()
    return {"seconds": seconds, "peak_rss": peak, "rss_before": before, "rows": rows}


def run_measurement(operation: str, source: Path, batch_file: Path, workdir: Path) -> dict:
    """Copy the warehouse and measure one operation on the copy in a fresh child process."""
    copy = workdir / "measured.duckdb"
    for path in (copy, copy.with_name(copy.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.copyfile(source, copy)
    try:
        command = [sys.executable, __file__, "--measure", operation, "--database", str(copy)]
        out = subprocess.run(
            [*command, "--batch-file", str(batch_file)],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{operation} on {source.name} failed:\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        for path in (copy, copy.with_name(copy.name + ".wal")):
            path.unlink(missing_ok=True)


# --- the table -------------------------------------------------------------------------------


def main() -> int:
    """Generate (or reuse) both histories, measure every operation, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of history (default 365)")
    parser.add_argument("--players", type=int, default=150, help="players online at each poll")
    parser.add_argument("--pool", type=int, default=2000, help="distinct player names")
    parser.add_argument("--batch", type=int, default=10, help="polls in the incremental batch")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each incremental step")
    parser.add_argument("--quick", action="store_true", help="smoke run: 7 days, 1 repeat")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the warehouses here")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--batch-file", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        print(json.dumps(measure(args.measure, args.database, args.batch_file, GAP_SECONDS)))
        return 0
    if args.quick:
        args.days, args.repeat = 7, 1

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tai-bench-sessions-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        histories = {days: cached_history(workdir, days, args) for days in sorted({1, args.days})}
        results = []  # (operation, days, measurement)
        for days, (database, batch_file, _) in histories.items():
            print(f"measuring on {days} d ...", flush=True)
            for operation in BATCH_OPERATIONS:
                runs = [
                    run_measurement(operation, database, batch_file, workdir)
                    for _ in range(args.repeat)
                ]
                results.append(
                    (
                        operation,
                        days,
                        {
                            "seconds": statistics.median(r["seconds"] for r in runs),
                            "peak_rss": max(r["peak_rss"] for r in runs),
                            "rss_before": max(r["rss_before"] for r in runs),
                            "rows": runs[0]["rows"],
                        },
                    )
                )
            results.append(
                (
                    "rebuild_sessions",
                    days,
                    run_measurement("rebuild_sessions", database, batch_file, workdir),
                )
            )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    for days, (_, _, info) in histories.items():
        print(
            f"- {days} d history: {info['polls']:,} polls, {info['poll_player_rows']:,} "
            f"poll-player rows (mean {info['mean_online']:.1f} online, {info['players']:,} "
            f"players), {info['sessions']:,} player sessions, {info['server_online']:,} "
            f"server_online rows, {info['file_mib']:,} MiB"
        )
    print(
        f"- batch: {args.batch} polls right after the history; incremental times are the median "
        f"of {args.repeat} run(s); gap {GAP_SECONDS} s\n"
    )
    print("| operation | history | rows | time (s) | peak RSS (MiB) |")
    print("|---|---:|---|---:|---:|")
    order = ["rebuild_sessions", *BATCH_OPERATIONS]
    for operation, days, m in sorted(results, key=lambda r: (order.index(r[0]), r[1])):
        print(
            f"| {OPERATIONS[operation]} | {days} d | {m['rows']} | {m['seconds']:.3f} "
            f"| {m['peak_rss'] / 2**20:,.0f} |"
        )
    before = [m["rss_before"] / 2**20 for _, _, m in results]
    print(
        f"\nRSS of a child before its operation starts (imports, connection): "
        f"{min(before):,.0f}–{max(before):,.0f} MiB."
    )
    if args.days != 1:
        print()
        timed = {(op, days): m["seconds"] for op, days, m in results}
        for operation in BATCH_OPERATIONS:
            ratio = timed[(operation, args.days)] / timed[(operation, 1)]
            verdict = "ok (< 2)" if ratio < 2 else "TOO HIGH (>= 2)"
            print(f"{OPERATIONS[operation]}: {args.days} d / 1 d = {ratio:.2f}  {verdict}")
        whole = sum(timed[(op, args.days)] for op in BATCH_OPERATIONS) / sum(
            timed[(op, 1)] for op in BATCH_OPERATIONS
        )
        print(f"whole batch (append + server_online + sessions): {whole:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
