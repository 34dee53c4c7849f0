"""Derives the core tables (sessions, change points) from the raw polls, incrementally.

The history imported from the original service (`raw.legacy_*`) is derived from as well: its
sessions are spans next to the polls' sightings, its counts observations next to the polls.

Each function recomputes only what a window of polls can affect, and returns a `TableChange`
whose deletes and upserts bring the stored table to exactly what a full recomputation from all
raw polls gives, whatever order the windows arrive in. `window=None` is that full recomputation.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import polars as pl

from tai_assets.common.sql_files import read_sql
from tai_assets.core.changes import TableChange


@dataclass(frozen=True)
class Window:
    """An inclusive range of poll instants (naive UTC) whose polls are new or changed."""

    start: datetime
    end: datetime

    @classmethod
    def covering(cls, instants: list[datetime]) -> "Window | None":
        """Return the smallest window holding every instant, or None when there are none."""
        return cls(min(instants), max(instants)) if instants else None

    def params(self) -> dict[str, datetime]:
        """Return the window as the named SQL parameters the transforms use."""
        return {"window_start": self.start, "window_end": self.end}


@dataclass(frozen=True)
class Source:
    """A table the core tables are derived from, and the columns that bound its rows in time."""

    table: str
    start_column: str
    end_column: str


SERVER_POLLS = Source("raw.raw_server_polls", "polled_at", "polled_at")
WORLD_POLLS = Source("raw.raw_world_polls", "polled_at", "polled_at")
# History imported from the original service (ddl/12_legacy.sql), next to the polls.
LEGACY_SERVER_ONLINE = Source("raw.legacy_server_online", "queried_at", "queried_at")
LEGACY_WORLDS_ONLINE = Source("raw.legacy_worlds_online", "saved_at", "saved_at")
LEGACY_PLAYER_SESSIONS = Source("raw.legacy_player_sessions", "session_start", "session_end")
LEGACY_WORLD_SESSIONS = Source("raw.legacy_world_sessions", "session_start", "session_end")


@dataclass(frozen=True)
class SessionKind:
    """Which sessions: where the sightings come from and where sessions are stored."""

    points_sql: str
    sources: tuple[Source, ...]
    table: str
    entity_column: str


PLAYER_SESSIONS = SessionKind(
    "transforms/player_points.sql",
    (SERVER_POLLS, LEGACY_PLAYER_SESSIONS),
    "core.player_sessions",
    "player",
)
WORLD_SESSIONS = SessionKind(
    "transforms/world_points.sql",
    (WORLD_POLLS, LEGACY_WORLD_SESSIONS),
    "core.world_sessions",
    "name",
)


def source_window(conn: duckdb.DuckDBPyConnection, *sources: Source) -> Window | None:
    """Return the window spanning every row of the sources (None when all are empty): what a
    full recomputation covers."""
    bounds = " UNION ALL ".join(
        f"SELECT min({s.start_column}) AS lo, max({s.end_column}) AS hi FROM {s.table}"
        for s in sources
    )
    ((start, end),) = conn.execute(f"SELECT min(lo), max(hi) FROM ({bounds})").fetchall()
    return None if start is None else Window(start, end)


def _frame(conn: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> pl.DataFrame:
    return conn.sql(sql, params=params).pl()


def derive_sessions(
    conn: duckdb.DuckDBPyConnection, kind: SessionKind, window: Window | None, gap_seconds: int
) -> TableChange:
    """Return the change to `kind`'s sessions for new polls in `window` (None: rebuild all).

    Sessions within the gap of the window are merged with the window's sightings by
    gaps-and-islands; sessions farther away cannot be affected, so the work is proportional to
    the window and the sessions open around it. A rebuild ignores (and replaces) what is stored.
    """
    entity = kind.entity_column
    if window is None:
        window = source_window(conn, *kind.sources)
        if window is None:
            return TableChange(_empty_sessions(entity), replaces_all=True)
        merge_with = _empty_sessions("entity")
        points = _points(conn, kind, window, gap_seconds)
        existing = None
    else:
        points = _points(conn, kind, window, gap_seconds)
        gap = timedelta(seconds=gap_seconds)
        conn.register("_points", points)
        try:
            existing = _frame(
                conn,
                f"SELECT {entity} AS entity, session_start, session_end FROM {kind.table} "
                f"WHERE session_end >= $lo AND session_start <= $hi "
                f"AND {entity} IN (SELECT entity FROM _points)",
                {"lo": window.start - gap, "hi": window.end + gap},
            )
        finally:
            conn.unregister("_points")
        merge_with = existing
    conn.register("_points", points)
    conn.register("_existing", merge_with)
    try:
        merged = _frame(
            conn, read_sql("transforms/merge_sessions.sql"), {"gap_seconds": gap_seconds}
        ).rename({"entity": entity})
    finally:
        conn.unregister("_points")
        conn.unregister("_existing")
    if existing is None:
        return TableChange(merged, replaces_all=True)
    return TableChange(merged, _session_keys(existing, entity))


def _points(
    conn: duckdb.DuckDBPyConnection, kind: SessionKind, window: Window, gap_seconds: int
) -> pl.DataFrame:
    """Return the window's sightings as (entity, span_start, span_end), a span per gap."""
    params = {**window.params(), "gap_seconds": gap_seconds}
    return _frame(conn, read_sql(kind.points_sql), params)


def _session_keys(sessions: pl.DataFrame, entity: str) -> pl.DataFrame:
    return sessions.select(pl.col("entity").alias(entity), "session_start")


def _empty_sessions(entity: str) -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            entity: pl.String,
            "session_start": pl.Datetime("us"),
            "session_end": pl.Datetime("us"),
        }
    )


# How many consecutive failed polls make an outage in `core.server_online` (at the default
# 60 s interval: two minutes without an answer). One lost poll is not an outage.
OUTAGE_POLLS = 2


def outage_window(conn: duckdb.DuckDBPyConnection, window: Window) -> Window:
    """Return `window` widened to whole runs of failed server polls at its edges."""
    ((start, end),) = conn.execute(
        read_sql("transforms/server_outage_window.sql"), window.params()
    ).fetchall()
    return Window(start, end)


def derive_server_online(
    conn: duckdb.DuckDBPyConnection, window: Window | None, outage_polls: int = OUTAGE_POLLS
) -> TableChange:
    """Return the change to `core.server_online` for new server polls in `window` (None: all);
    `outage_polls` consecutive failed polls make an outage (see `server_online.sql`)."""
    if window is None:
        window = source_window(conn, SERVER_POLLS, LEGACY_SERVER_ONLINE)
        if window is None:
            empty = _frame(conn, "SELECT * FROM core.server_online LIMIT 0")
            return TableChange(empty, replaces_all=True)
        stored = None
    else:
        window = outage_window(conn, window)
        stored = _frame(conn, read_sql("transforms/server_online_superseded.sql"), window.params())
    params = {**window.params(), "outage_polls": outage_polls}
    changes = _frame(conn, read_sql("transforms/server_online.sql"), params)
    return TableChange(changes, stored, replaces_all=stored is None)


def derive_worlds_online(conn: duckdb.DuckDBPyConnection, window: Window | None) -> TableChange:
    """Return the change to `core.worlds_online` for new world polls in `window` (None: all)."""
    if window is None:
        window = source_window(conn, WORLD_POLLS, LEGACY_WORLDS_ONLINE)
        if window is None:
            empty = _frame(conn, "SELECT * FROM core.worlds_online LIMIT 0")
            return TableChange(empty, replaces_all=True)
        stored = None
    else:
        stored = _frame(conn, read_sql("transforms/worlds_online_superseded.sql"), window.params())
    changes = _frame(conn, read_sql("transforms/worlds_online.sql"), window.params())
    return TableChange(changes, stored, replaces_all=stored is None)


def refresh_world_session_stats(
    conn: duckdb.DuckDBPyConnection, window: Window | None, gap_seconds: int = 0
) -> int:
    """Recompute `core.world_session_stats` for what new world polls or history in `window`
    (None: everything) can change; return how many rows it wrote.

    Call it after writing `core.world_sessions` or `core.worlds_online` in the same
    transaction, with the world session gap: a session ending before the window's start less
    the gap is farther than the gap from every new row, so neither its points, nor its end, nor
    the count it opens with can have changed (a session merged into another ended within the
    gap, so its row goes too).
    """
    since = None if window is None else window.start - timedelta(seconds=gap_seconds)
    params = {"since": since}
    conn.execute(
        "DELETE FROM core.world_session_stats WHERE $since IS NULL OR session_end >= $since",
        params,
    )
    sql = "INSERT OR REPLACE INTO core.world_session_stats " + read_sql(
        "transforms/world_session_stats.sql"
    )
    ((written,),) = conn.execute(sql, params).fetchall()
    return int(written)


def world_sessions_without_stats(conn: duckdb.DuckDBPyConnection) -> int:
    """Return how many world sessions have no row in `core.world_session_stats` (all of them in
    a warehouse made before the table existed)."""
    ((missing,),) = conn.execute(
        "SELECT count(*) FROM core.world_sessions "
        "ANTI JOIN core.world_session_stats USING (name, session_start)"
    ).fetchall()
    return int(missing)
