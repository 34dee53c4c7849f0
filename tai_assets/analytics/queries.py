"""Reads of the core tables for one window, by SQL with parameters (never whole tables).

Each function takes an open DuckDB connection (``WarehouseResource.connect()``) and returns a
polars DataFrame with naive-UTC timestamps. The SQL lives in ``sql/transforms/analytics_*.sql``.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from tai_assets.common.sql_files import read_sql


def small_frame(conn, sql: str, params: dict | None = None) -> pl.DataFrame:
    """Return a query's result as a polars DataFrame built from Python rows, for results of
    hundreds of rows (thousands at most). Why not DuckDB's `.pl()`: it goes through pyarrow,
    whose import costs a fresh process ~70 MiB and ~0.2 s of CPU, more than such a result."""
    cursor = conn.execute(sql, params or {})
    names = [column[0] for column in cursor.description]
    return pl.DataFrame(cursor.fetchall(), schema=names, orient="row", infer_schema_length=None)


def _window(conn: duckdb.DuckDBPyConnection, name: str, start: datetime, end: datetime):
    params = {"start": start, "end": end}
    return conn.sql(read_sql(f"transforms/{name}.sql"), params=params).pl()


def player_sessions_overlapping(conn, start: datetime, end: datetime) -> pl.DataFrame:
    """Return player sessions overlapping ``[start, end)``: (player, session_start, session_end)."""
    return _window(conn, "analytics_player_sessions_overlapping", start, end)


def player_sessions_starting(conn, start: datetime, end: datetime) -> pl.DataFrame:
    """Return player sessions that start in ``[start, end)``."""
    return _window(conn, "analytics_player_sessions_starting", start, end)


def first_sessions(conn, start: datetime, end: datetime) -> pl.DataFrame:
    """Return (player, first_start): first session ever of each player active in the window."""
    return _window(conn, "analytics_first_sessions", start, end)


def server_online_window(conn, start: datetime, end: datetime) -> pl.DataFrame:
    """Return server_online changes in the window plus the last one before it."""
    return _window(conn, "analytics_server_online_window", start, end)


def poll_statuses(conn, start: datetime, end: datetime) -> pl.DataFrame:
    """Return (status, polls) counts of the server polls in the window."""
    return _window(conn, "analytics_poll_statuses", start, end)


def world_sessions_starting(conn, start: datetime, end: datetime) -> pl.DataFrame:
    """Return world sessions that start in the window: (name, session_start, session_end)."""
    return _window(conn, "analytics_world_sessions_starting", start, end)


def latest_players_snapshot(conn) -> pl.DataFrame:
    """Return (snapshot_week, snapshot_time, regdate, lastlogin) of the latest players snapshot."""
    return conn.sql(read_sql("transforms/analytics_latest_players_snapshot.sql")).pl()
