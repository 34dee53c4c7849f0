"""Imports a folder of the old service's files into the warehouse, all or nothing.

Every file present is attached and checked first; then everything is written in one
transaction, so a corrupt file, a full disk or a killed process leaves the warehouse as it was.
"""

import contextlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from tai_assets.legacy.files import PLAYERS, UNFINISHED_CRAWL, attached, present_files
from tai_assets.legacy.history import HISTORY_TABLES, SessionGaps, import_history_table
from tai_assets.legacy.report import ImportReport
from tai_assets.legacy.snapshots import WrittenSnapshot, import_snapshots

# DuckDB's memory during an import; a year of 1 M-account weekly snapshots stays under 2 GiB.
IMPORT_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class ImportOptions:
    """What an import needs besides the folder: the zone of players.db's `snapshot_time`, the
    first week a snapshot partition exists for, and the session gaps."""

    snapshot_timezone: str
    first_week: date
    gaps: SessionGaps


def import_folder(
    conn: duckdb.DuckDBPyConnection,
    folder: Path,
    options: ImportOptions,
    run_id: str,
    now: datetime,
) -> tuple[ImportReport, list[WrittenSnapshot]]:
    """Import every old file in `folder`; return the report and the snapshot weeks written.

    Raises `LegacyFileError` (naming the file) before writing anything when a file cannot be
    read; any error while writing rolls the whole import back."""
    folder = folder.resolve()
    specs = present_files(folder)
    report = ImportReport(folder=str(folder))
    if (folder / UNFINISHED_CRAWL).exists():
        report.ignored.append(
            f"{UNFINISHED_CRAWL}: an unfinished crawl of the old service, skipped"
        )
    weeks: list[WrittenSnapshot] = []
    # DuckDB would otherwise cache up to 80 % of the machine's memory while copying snapshots;
    # it spills to its temporary folder instead.
    conn.execute(f"SET memory_limit = '{IMPORT_MEMORY_LIMIT}'")
    with attached(conn, folder, specs) as files:
        conn.begin()
        try:
            for spec in HISTORY_TABLES:
                file = files.get(spec.file.file_name)
                if file is not None:
                    report.tables.append(import_history_table(conn, spec, file, options.gaps))
            players = files.get(PLAYERS.file_name)
            if players is not None:
                table, weeks = import_snapshots(
                    conn, players, options.snapshot_timezone, options.first_week, now
                )
                report.tables.append(table)
            _record(conn, report, files, run_id, now)
            conn.commit()
        except BaseException:
            # A failed write (a full disk) can leave no transaction to roll back.
            with contextlib.suppress(duckdb.Error):
                conn.rollback()
            raise
    report.snapshot_weeks = [s.week.isoformat() for s in weeks]
    return report, weeks


def _record(conn, report: ImportReport, files, run_id: str, now: datetime) -> None:
    for table in report.tables:
        path = files[table.file].path
        conn.execute(
            "INSERT INTO raw.legacy_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                table.file,
                path.stat().st_size,
                table.read,
                table.imported,
                table.merged,
                table.skipped,
                table.notes or None,
                now,
            ],
        )
