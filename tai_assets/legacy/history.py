"""Imports the old service's sessions and online counts into `raw.legacy_*`, and folds them into
the core tables.

Each file's valid rows are staged one per key (`sql/legacy/<table>.sql`), compared with what the
warehouse holds, and only the new or grown ones are written; the core table is then recomputed
over the stretch of time those rows cover, with the same derivation the polls use (see
`tai_assets.core.derive`). Importing a file twice therefore changes nothing, and a newer copy
adds what is new. Nothing here commits: the caller holds one transaction for the whole import.
"""

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from tai_assets.common.sql_files import read_sql
from tai_assets.core.changes import TableChange
from tai_assets.core.derive import (
    PLAYER_SESSIONS,
    WORLD_SESSIONS,
    Window,
    derive_server_online,
    derive_sessions,
    derive_worlds_online,
    refresh_world_session_stats,
)
from tai_assets.legacy.files import ONLINE, SESSIONS, WORLDS_ONLINE, AttachedFile, LegacyFile
from tai_assets.legacy.files import WORLD_SESSIONS as WORLD_SESSIONS_FILE
from tai_assets.legacy.report import TableReport
from tai_assets.warehouse.connection import scalar
from tai_assets.warehouse.io_manager import WarehouseTable, write_rows

# The core tables core.world_session_stats is computed from.
WORLD_STATS_INPUTS = ("core.world_sessions", "core.worlds_online")
_STAGED = "legacy_staged"
_CHANGED = "legacy_changed"


@dataclass(frozen=True)
class SessionGaps:
    """The session gaps (seconds) the derivation of sessions uses."""

    player_seconds: int
    world_seconds: int


@dataclass(frozen=True)
class HistoryTable:
    """How one legacy file lands: its staging SQL, the raw table, its key, the value that grows
    (a later end, a larger count), the columns that bound a row in time, and the core table it
    is derived into."""

    file: LegacyFile
    staging_sql: str
    target: str
    key: tuple[str, ...]
    grows: str
    followers: tuple[str, ...]
    start_column: str
    end_column: str
    core_table: str
    derive: Callable[[duckdb.DuckDBPyConnection, Window, SessionGaps], TableChange]
    skip_rule: str

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column written to the raw table."""
        return (*self.key, self.grows, *self.followers)


HISTORY_TABLES = (
    HistoryTable(
        SESSIONS,
        "legacy/player_sessions.sql",
        "raw.legacy_player_sessions",
        ("player", "session_start"),
        "session_end",
        (),
        "session_start",
        "session_end",
        "core.player_sessions",
        lambda conn, window, gaps: derive_sessions(
            conn, PLAYER_SESSIONS, window, gaps.player_seconds
        ),
        "no player name, no start, or an end before the start",
    ),
    HistoryTable(
        WORLD_SESSIONS_FILE,
        "legacy/world_sessions.sql",
        "raw.legacy_world_sessions",
        ("name", "session_start"),
        "session_end",
        (),
        "session_start",
        "session_end",
        "core.world_sessions",
        lambda conn, window, gaps: derive_sessions(
            conn, WORLD_SESSIONS, window, gaps.world_seconds
        ),
        "no world name (once colour codes are removed), no start, or an end before the start",
    ),
    HistoryTable(
        ONLINE,
        "legacy/server_online.sql",
        "raw.legacy_server_online",
        ("queried_at",),
        "online_count",
        (),
        "queried_at",
        "queried_at",
        "core.server_online",
        lambda conn, window, gaps: derive_server_online(conn, window),
        "no instant or no count",
    ),
    HistoryTable(
        WORLDS_ONLINE,
        "legacy/worlds_online.sql",
        "raw.legacy_worlds_online",
        ("name", "saved_at"),
        "players",
        ("static", "ssmp"),
        "saved_at",
        "saved_at",
        "core.worlds_online",
        lambda conn, window, gaps: derive_worlds_online(conn, window),
        "no world name, no instant or no count",
    ),
)


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(scalar(conn, sql) or 0)


def import_history_table(
    conn: duckdb.DuckDBPyConnection, spec: HistoryTable, file: AttachedFile, gaps: SessionGaps
) -> TableReport:
    """Import one legacy file into its raw table and fold it into its core table; return what
    was read, imported (new), merged (duplicates in the file, or rows already held) and skipped.
    """
    read = _count(conn, f"SELECT count(*) FROM {file.table}")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGED} AS {read_sql(spec.staging_sql)}")
    valid = _count(conn, f"SELECT sum(copies) FROM {_STAGED}")
    join = " AND ".join(f"s.{c} = t.{c}" for c in spec.key)
    columns = ", ".join(f"s.{c}" for c in spec.columns)
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {_CHANGED} AS SELECT {columns} FROM {_STAGED} AS s "
        f"LEFT JOIN {spec.target} AS t ON {join} "
        f"WHERE t.{spec.key[0]} IS NULL OR s.{spec.grows} > t.{spec.grows}"
    )
    new = _count(
        conn,
        f"SELECT count(*) FROM {_CHANGED} AS s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {spec.target} AS t WHERE {join})",
    )
    updates = ", ".join(f"{c} = excluded.{c}" for c in (spec.grows, *spec.followers))
    conn.execute(
        f"INSERT INTO {spec.target} ({', '.join(spec.columns)}) "
        f"SELECT {', '.join(spec.columns)} FROM {_CHANGED} "
        f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {updates}"
    )
    ((start, end, changed),) = conn.execute(
        f"SELECT min({spec.start_column}), max({spec.end_column}), count(*) FROM {_CHANGED}"
    ).fetchall()
    ((first, last),) = conn.execute(
        f"SELECT min({spec.start_column}), max({spec.end_column}) FROM {_STAGED}"
    ).fetchall()
    core_rows = 0
    if changed:
        window = Window(start, end)
        change = spec.derive(conn, window, gaps)
        write_rows(
            conn,
            WarehouseTable.named(spec.core_table),
            change.upsert,
            change.write_mode("merge"),
            change.delete_keys,
        )
        core_rows = change.upsert.height
        if spec.core_table in WORLD_STATS_INPUTS:
            refresh_world_session_stats(conn, window, gaps.world_seconds)
    conn.execute(f"DROP TABLE {_STAGED}")
    conn.execute(f"DROP TABLE {_CHANGED}")
    skipped = read - valid
    return TableReport(
        file=spec.file.file_name,
        table=spec.target,
        read=read,
        imported=new,
        merged=valid - new,
        skipped=skipped,
        notes=f"skipped: {spec.skip_rule}" if skipped else "",
        core_table=spec.core_table,
        core_rows=core_rows,
        extra={"grown": int(changed) - new},
        first=first,
        last=last,
    )
