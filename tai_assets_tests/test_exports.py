"""Parquet exports: real warehouse rows, written by dagster-polars' Parquet IO manager into a
folder, read back with polars and compared."""

from datetime import date, datetime

import dagster as dg
import polars as pl
from dagster_polars import PolarsParquetIOManager

from tai_assets.defs.exports.assets import EXPORT_ASSETS, EXPORTS, PARQUET_IO_MANAGER
from tai_assets.defs.resources import WarehouseResource
from tai_assets.warehouse import connection

BY_NAME = {asset.key.to_user_string(): asset for asset in EXPORT_ASSETS}


def test_every_core_and_analytics_table_has_an_export():
    with connection.connect(":memory:") as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name IN ('core', 'analytics')"
                " AND table_name NOT IN ('ddl_history', 'players_snapshot_quarantine')"
            ).fetchall()
        }
    assert {e.table for e in EXPORTS} == tables


def test_exports_write_the_table_and_each_partition_as_parquet(tmp_path):
    database = str(tmp_path / "warehouse.duckdb")
    sessions = [
        ("Anna", datetime(2025, 6, 1, 10), datetime(2025, 6, 1, 11)),
        ("Ivan", datetime(2025, 6, 2, 10), datetime(2025, 6, 2, 12)),
    ]
    with connection.connect(database) as conn:
        conn.executemany("INSERT INTO core.player_sessions VALUES (?, ?, ?)", sessions)
        for day, players in ((date(2025, 6, 1), 1), (date(2025, 6, 2), 2)):
            conn.execute(
                "INSERT INTO analytics.daily_activity VALUES (?, ?, 0, 1, 1.0, 1.0, 60.0, NULL, "
                "NULL, 10, 10, 1.0, 0, 0, ?)",
                [day, players, datetime(2025, 6, 3)],
            )
    exports = tmp_path / "exports"
    resources = {
        "warehouse": WarehouseResource(database=database),
        PARQUET_IO_MANAGER: PolarsParquetIOManager(base_dir=str(exports)),
    }
    assert dg.materialize([BY_NAME["export_player_sessions"]], resources=resources).success
    written = pl.read_parquet(exports / "export_player_sessions.parquet")
    assert written.sort("player").rows() == sessions
    result = dg.materialize(
        [BY_NAME["export_daily_activity"]], partition_key="2025-06-02", resources=resources
    )
    assert result.success
    (part,) = (exports / "export_daily_activity").glob("*.parquet")
    assert part.name == "2025-06-02.parquet"
    day = pl.read_parquet(part)
    assert day.select("day", "active_players").rows() == [(date(2025, 6, 2), 2)]
