"""Parquet exports of the warehouse for notebooks and BI: one asset per core and analytics
table, partitioned like its source, written by dagster-polars' `PolarsParquetIOManager` under
`$TAI_DATA_DIR/exports/` (`exports/<asset>/<partition>.parquet`, or `exports/<asset>.parquet`).

Each export reads its table (or the partition at hand) from DuckDB and hands the frame to the
Parquet IO manager; the export runs in the same job as its source, right after it.
"""

from dataclasses import dataclass

import dagster as dg
import polars as pl

from tai_assets.defs.analytics.partitions import DAILY, MONTHLY, WEEKLY, YEARLY
from tai_assets.defs.players.assets import WEEKLY_PARTITIONS
from tai_assets.defs.resources import WarehouseResource
from tai_assets.warehouse.io_manager import WarehouseTable

PARQUET_IO_MANAGER = "parquet_io_manager"
EXPORTS_GROUP = "exports"


@dataclass(frozen=True)
class Export:
    """A table to export: its schema, the partitions and partition column of its asset, and
    the asset that writes it (when not one of the table's name)."""

    table: str
    schema: str
    partitions_def: dg.PartitionsDefinition | None = None
    partition_column: str | None = None
    written_by: str | None = None

    @property
    def asset_name(self) -> str:
        """The export asset's name."""
        return f"export_{self.table}"


EXPORTS = [
    Export("player_sessions", "core"),
    Export("world_sessions", "core"),
    Export("world_session_stats", "core", written_by="world_sessions"),
    Export("server_online", "core"),
    Export("worlds_online", "core"),
    Export("players_snapshot", "core", WEEKLY_PARTITIONS, "snapshot_week"),
    Export("daily_activity", "analytics", DAILY, "day"),
    Export("session_habits", "analytics", DAILY, "day"),
    Export("genre_popularity", "analytics", DAILY, "day"),
    Export("daily_digest", "analytics", DAILY, "period_start"),
    Export("weekly_digest", "analytics", WEEKLY, "period_start"),
    Export("monthly_digest", "analytics", MONTHLY, "period_start"),
    Export("online_heatmap", "analytics", MONTHLY, "month"),
    Export("yearly_digest", "analytics", YEARLY, "period_start"),
    Export("player_retention", "analytics"),
    Export("world_tags", "analytics"),
    Export("online_heatmap_recent", "analytics"),
    Export("player_profiles", "analytics"),
    Export("name_history", "analytics"),
    Export("player_base", "analytics"),
    Export("player_base_cohorts", "analytics"),
    Export("rp_names", "analytics"),
    Export("player_churn", "analytics"),
]


def _export_asset(export: Export) -> dg.AssetsDefinition:
    @dg.asset(
        name=export.asset_name,
        deps=[export.written_by or export.table],
        partitions_def=export.partitions_def,
        io_manager_key=PARQUET_IO_MANAGER,
        group_name=EXPORTS_GROUP,
        owners=["team:tai"],
        kinds={"parquet", "polars"},
        metadata={"source_table": f"{export.schema}.{export.table}"},
        description=f"`{export.schema}.{export.table}` as Parquet (dagster-polars), "
        + ("one file per partition." if export.partitions_def else "one file."),
    )
    def _export(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pl.DataFrame:
        table = WarehouseTable(export.schema, export.table)
        where, params = "", []
        if export.partitions_def is not None:
            window = context.partition_time_window
            bounds = (window.start.replace(tzinfo=None), window.end.replace(tzinfo=None))
            table = WarehouseTable(
                export.schema, export.table, export.partition_column, time_window=bounds
            )
            where, params = table.partition_filter()
        with warehouse.connect() as conn:
            frame = conn.sql(
                f"SELECT * FROM {table.qualified_name}" + (f" WHERE {where}" if where else ""),
                params=params,
            ).pl()
        context.add_output_metadata({"dagster/row_count": frame.height})
        return frame

    return _export


EXPORT_ASSETS = [_export_asset(export) for export in EXPORTS]
