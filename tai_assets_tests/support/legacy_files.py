"""Writes DuckDB files in the original tai service's schema, for the import tests and benchmark.

The DDL below is the old service's, column for column; `synthetic_history` fills a folder with
a generated stretch of history at any scale, inside DuckDB (fast enough for 52 M accounts).
"""

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

SESSIONS_DDL = """CREATE TABLE sessions (player TEXT, session_start TIMESTAMP_S,
    session_end TIMESTAMP_S, PRIMARY KEY (player, session_start))"""
ONLINE_DDL = "CREATE TABLE online (online_count USMALLINT, queried_at TIMESTAMP_S)"
WORLD_SESSIONS_DDL = """CREATE TABLE world_sessions (name TEXT, session_start TIMESTAMP_S,
    session_end TIMESTAMP_S, PRIMARY KEY (name, session_start))"""
WORLDS_ONLINE_DDL = """CREATE TABLE worlds_online (name TEXT, players INTEGER, static BOOLEAN,
    ssmp BOOLEAN, saved_at TIMESTAMP_S)"""
PLAYERS_DDL = """CREATE TABLE players (id INTEGER, login TEXT NOT NULL, lastlogin TIMESTAMP_S,
    regdate TIMESTAMP_S, moder INTEGER, mute INTEGER, verify INTEGER, verify_text TEXT,
    warn STRUCT(admin TEXT, bantime TIMESTAMP_S, reason TEXT)[], snapshot_time TIMESTAMP_S,
    bonuspoints UINTEGER, premium BOOLEAN, premium_expdate TIMESTAMP_S, chase_rating INTEGER,
    PRIMARY KEY (id, snapshot_time))"""
# Before bonuspoints, premium, premium_expdate and chase_rating were added.
OLD_PLAYERS_DDL = """CREATE TABLE players (id INTEGER, login TEXT NOT NULL, lastlogin TIMESTAMP_S,
    regdate TIMESTAMP_S, moder INTEGER, mute INTEGER, verify INTEGER, verify_text TEXT,
    warn STRUCT(admin TEXT, bantime TIMESTAMP_S, reason TEXT)[], snapshot_time TIMESTAMP_S,
    PRIMARY KEY (id, snapshot_time))"""

DDL = {
    "sessions.db": SESSIONS_DDL,
    "online.db": ONLINE_DDL,
    "world_sessions.db": WORLD_SESSIONS_DDL,
    "worlds_online.db": WORLDS_ONLINE_DDL,
    "players.db": PLAYERS_DDL,
}


def write_file(path: Path, rows: list[tuple], ddl: str | None = None) -> Path:
    """Write (or extend) one old-service file with `rows`, in the file's original schema."""
    ddl = ddl or DDL[path.name]
    table = ddl.split()[2]
    with duckdb.connect(str(path)) as conn:
        conn.execute(ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    return path


def synthetic_history(
    folder: Path,
    start: datetime,
    days: int,
    sessions_per_day: int,
    online_rows_per_day: int,
    world_sessions_per_day: int,
    world_rows_per_day: int,
    snapshots: int,
    accounts: int,
) -> dict[str, int]:
    """Fill `folder` with `days` of generated history in the old schema and `snapshots` weekly
    snapshots of `accounts` accounts; return the rows written per file."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    seconds = days * 86400
    generated = {
        "sessions.db": (
            f"SELECT 'Player_' || (i % 20000) AS player, "
            f"$start::TIMESTAMP_S + to_seconds(i * {seconds} // $n) AS session_start, "
            f"$start::TIMESTAMP_S + to_seconds(i * {seconds} // $n + 300 + (i * 7919) % 5400) "
            "AS session_end FROM range($n) t(i)",
            days * sessions_per_day,
        ),
        "online.db": (
            f"SELECT (50 + (i * 31) % 120)::USMALLINT AS online_count, "
            f"$start::TIMESTAMP_S + to_seconds(i * {seconds} // $n) AS queried_at "
            "FROM range($n) t(i)",
            days * online_rows_per_day,
        ),
        "world_sessions.db": (
            f"SELECT '{{FF0000}}World ' || (i % 3000) AS name, "
            f"$start::TIMESTAMP_S + to_seconds(i * {seconds} // $n) AS session_start, "
            f"$start::TIMESTAMP_S + to_seconds(i * {seconds} // $n + 600 + (i * 104729) % 7200) "
            "AS session_end FROM range($n) t(i)",
            days * world_sessions_per_day,
        ),
        "worlds_online.db": (
            f"SELECT 'World ' || (i % 3000) AS name, (i * 13) % 40 AS players, i % 5 = 0 "
            f"AS static, i % 7 = 0 AS ssmp, $start::TIMESTAMP_S + to_seconds(i * {seconds} // $n) "
            "AS saved_at FROM range($n) t(i)",
            days * world_rows_per_day,
        ),
    }
    for name, (select, n) in generated.items():
        with duckdb.connect(str(folder / name)) as conn:
            conn.execute(DDL[name])
            table = DDL[name].split()[2]
            conn.execute(f"INSERT INTO {table} {select}", {"start": start, "n": n})
            counts[name] = n
    with duckdb.connect(str(folder / "players.db")) as conn:
        conn.execute("SET preserve_insertion_order = false")
        conn.execute(PLAYERS_DDL)
        for week in range(snapshots):
            conn.execute(
                "INSERT INTO players SELECT i, 'Login_' || i, "
                "$taken - to_seconds((i * 3571) % 8640000), "
                "$taken - to_seconds(8640000 + (i * 7907) % 86400000), "
                "(i % 50 = 0)::INTEGER, 0, (i % 3)::INTEGER, NULL, "
                "CASE WHEN i % 100 = 0 THEN [{'admin': 'Admin', 'bantime': $taken, "
                "'reason': 'dm'}] ELSE [] END, $taken, (i % 1000)::UINTEGER, i % 9 = 0, NULL, "
                "(i % 2000)::INTEGER FROM range($n) t(i)",
                {
                    "taken": start.replace(hour=12) + timedelta(days=7 * week),
                    "n": accounts + week * max(1, accounts // 200),
                },
            )
        counts["players.db"] = conn.execute("SELECT count(*) FROM players").fetchall()[0][0]
    return counts
