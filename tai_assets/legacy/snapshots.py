"""Imports the old service's weekly player snapshots (`players.db`) as players_snapshot partitions.

Each distinct `snapshot_time` is one full crawl. Its time is the old machine's local wall time,
converted here with the zone the caller names; the snapshot becomes the partition of the week
(Monday 00:00 UTC) that holds that instant. A week keeps its latest snapshot; a week a live tai
crawl wrote is never replaced; one imported before with the same snapshot is left as it is.
Each snapshot is one `INSERT … SELECT` inside DuckDB, so no snapshot is ever held in Python.
Nothing here commits: the caller holds one transaction for the whole import.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import duckdb

from tai_assets.common.clock import monday_of
from tai_assets.legacy.files import AttachedFile, LegacyFileError
from tai_assets.legacy.report import TableReport
from tai_assets.warehouse.connection import scalar
from tai_assets.warehouse.io_manager import quote_ident

# Keeps one row per id of a snapshot, for a file whose own key does not already.
ONE_ROW_PER_ID = (
    " QUALIFY row_number() OVER (PARTITION BY id ORDER BY lastlogin DESC NULLS LAST, login) = 1"
)
# The type each column has in core.players_snapshot (ddl/30_snapshot.sql).
COLUMN_TYPES = {
    "id": "BIGINT",
    "login": "VARCHAR",
    "regdate": "TIMESTAMP",
    "lastlogin": "TIMESTAMP",
    "moder": "INTEGER",
    "mute": "BIGINT",
    "verify": "INTEGER",
    "verify_text": "VARCHAR",
    "warn": "STRUCT(admin VARCHAR, bantime TIMESTAMP, reason VARCHAR)[]",
    "bonuspoints": "BIGINT",
    "premium": "BOOLEAN",
    "premium_expdate": "TIMESTAMP",
    "chase_rating": "DOUBLE",
}


@dataclass(frozen=True)
class OldSnapshot:
    """One crawl in the file: its time as stored (local), in UTC, its week and its rows."""

    stored_time: datetime
    utc_time: datetime
    week: date
    rows: int


@dataclass(frozen=True)
class WrittenSnapshot:
    """A partition the import wrote: its week, the snapshot's UTC time, and its accounts."""

    week: date
    snapshot_time: datetime
    accounts: int


def week_of(instant: datetime) -> date:
    """Return the Monday (UTC) of the week holding a naive-UTC instant: the partition key."""
    return monday_of(instant.date())


def to_utc(local: datetime, zone: str) -> datetime:
    """Return a naive wall time of `zone` as naive UTC."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)


def _select_list(file: AttachedFile) -> str:
    expressions = []
    for column, sql_type in COLUMN_TYPES.items():
        source = quote_ident(column) if column in file.columns else "NULL"
        expressions.append(f"CAST({source} AS {sql_type}) AS {column}")
    extra = file.extra_columns
    if extra:
        fields = ", ".join(f"{quote_ident(c)} := {quote_ident(c)}" for c in extra)
        expressions.append(f"CAST(to_json(struct_pack({fields})) AS JSON) AS extra")
    else:
        expressions.append("NULL::JSON AS extra")
    return ", ".join(expressions)


def _snapshots(conn: duckdb.DuckDBPyConnection, file: AttachedFile, zone: str) -> list[OldSnapshot]:
    rows = conn.execute(
        f"SELECT CAST(snapshot_time AS TIMESTAMP), count(*) FROM {file.table} "
        "WHERE snapshot_time IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    snapshots = []
    for stored, count in rows:
        utc_time = to_utc(stored, zone)
        snapshots.append(OldSnapshot(stored, utc_time, week_of(utc_time), int(count)))
    return snapshots


def _held(conn: duckdb.DuckDBPyConnection, week: date) -> tuple[datetime | None, datetime | None]:
    """Return (the snapshot_time the warehouse holds for the week, the one an import wrote)."""
    stored = scalar(
        conn, "SELECT max(snapshot_time) FROM core.players_snapshot WHERE snapshot_week = ?", [week]
    )
    imported = scalar(
        conn, "SELECT snapshot_time FROM raw.legacy_snapshots WHERE snapshot_week = ?", [week]
    )
    return stored, imported


def import_snapshots(
    conn: duckdb.DuckDBPyConnection,
    file: AttachedFile,
    zone: str,
    first_week: date,
    imported_at: datetime,
) -> tuple[TableReport, list[WrittenSnapshot]]:
    """Write each old snapshot as the partition of its week; return the report and the weeks
    written (for their materializations)."""
    report = TableReport(file=file.spec.file_name, table="core.players_snapshot")
    report.read = int(scalar(conn, f"SELECT count(*) FROM {file.table}"))
    snapshots = _snapshots(conn, file, zone)
    no_time = report.read - sum(s.rows for s in snapshots)
    skips: dict[str, list[str]] = defaultdict(list)
    report.skipped = no_time
    if no_time:
        skips["rows without snapshot_time"].append(str(no_time))
    by_week: dict[date, list[OldSnapshot]] = defaultdict(list)
    for snapshot in snapshots:
        by_week[snapshot.week].append(snapshot)
    written: list[WrittenSnapshot] = []
    select_list = _select_list(file)
    one_per_id = "" if ids_unique_per_snapshot(conn, file) else ONE_ROW_PER_ID
    for week, candidates in sorted(by_week.items()):
        latest = max(candidates, key=lambda s: s.utc_time)
        for older in candidates:
            if older is not latest:
                report.skipped += older.rows
                skips["older snapshots of a week that has a later one"].append(
                    older.utc_time.isoformat()
                )
        if week < first_week:
            report.skipped += latest.rows
            skips[f"weeks before the first partition ({first_week})"].append(week.isoformat())
            continue
        stored, imported = _held(conn, week)
        if stored is not None and stored != imported:
            report.skipped += latest.rows
            skips["weeks tai crawled itself"].append(week.isoformat())
            continue
        if imported is not None and imported >= latest.utc_time:
            report.merged += latest.rows
            if imported > latest.utc_time:
                skips["weeks already imported from a later snapshot"].append(week.isoformat())
            continue
        conn.execute("DELETE FROM core.players_snapshot WHERE snapshot_week = ?", [week])
        inserted = _insert_snapshot(conn, file, select_list, one_per_id, week, latest)
        report.imported += inserted
        if inserted < latest.rows:
            report.skipped += latest.rows - inserted
            skips["accounts without id or login, or a repeated id"].append(
                f"{week}: {latest.rows - inserted}"
            )
        conn.execute(
            "INSERT INTO raw.legacy_snapshots VALUES (?, ?, ?, ?, ?) ON CONFLICT (snapshot_week) "
            "DO UPDATE SET snapshot_time = excluded.snapshot_time, accounts = excluded.accounts, "
            "source_file = excluded.source_file, imported_at = excluded.imported_at",
            [week, latest.utc_time, inserted, str(file.path), imported_at],
        )
        written.append(WrittenSnapshot(week, latest.utc_time, inserted))
    report.notes = "; ".join(
        f"skipped {reason}: {', '.join(items[:5])}{' …' if len(items) > 5 else ''}"
        for reason, items in skips.items()
    )
    report.extra = {"snapshots": len(snapshots), "weeks_written": len(written)}
    if snapshots:
        report.first, report.last = snapshots[0].utc_time, snapshots[-1].utc_time
    return report, written


def ids_unique_per_snapshot(conn: duckdb.DuckDBPyConnection, file: AttachedFile) -> bool:
    """Return whether the file's own key makes an id unique within a snapshot (the original's
    PRIMARY KEY (id, snapshot_time)); without it the import keeps one row per id itself."""
    keys = conn.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() WHERE database_name = ? "
        "AND table_name = ? AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
        [file.spec.alias, file.spec.table],
    ).fetchall()
    return any(set(columns) == {"id", "snapshot_time"} for (columns,) in keys)


def _insert_snapshot(
    conn: duckdb.DuckDBPyConnection,
    file: AttachedFile,
    select_list: str,
    one_per_id: str,
    week: date,
    snapshot: OldSnapshot,
) -> int:
    columns = ["snapshot_week", "snapshot_time", *COLUMN_TYPES, "extra"]
    try:
        ((inserted,),) = conn.execute(
            f"INSERT INTO core.players_snapshot ({', '.join(columns)}) "
            f"SELECT ?::DATE, ?::TIMESTAMP, * FROM (SELECT {select_list} FROM {file.table} "
            "WHERE CAST(snapshot_time AS TIMESTAMP) = ?) "
            f"WHERE id IS NOT NULL AND login IS NOT NULL AND login <> ''{one_per_id}",
            [week, snapshot.utc_time, snapshot.stored_time],
        ).fetchall()
    except duckdb.ConversionException as error:
        raise LegacyFileError(file.path, f"a column has values tai cannot read ({error})") from None
    return int(inserted)
