"""The exports domain: Parquet copies of the warehouse tables, and the job of the unpartitioned
ones (the partitioned ones run in their source's job)."""

import dagster as dg
from dagster_polars import PolarsParquetIOManager

from tai_assets.defs.exports.assets import EXPORT_ASSETS, EXPORTS, PARQUET_IO_MANAGER
from tai_assets.settings import Settings

UNPARTITIONED = [e.asset_name for e in EXPORTS if e.partitions_def is None]

exports_job = dg.define_asset_job(
    "exports_job",
    selection=UNPARTITIONED,
    description="Writes the unpartitioned tables (sessions, the online series, worlds' history, "
    "retention, profiles …) as Parquet under $TAI_DATA_DIR/exports/.",
)
exports_daily = dg.ScheduleDefinition(
    name="exports_daily",
    job=exports_job,
    cron_schedule="30 1 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="At 01:30 UTC, after the nightly analytics.",
)


def exports_definitions() -> dg.Definitions:
    """Return the export assets, their job and its daily schedule."""
    return dg.Definitions(assets=EXPORT_ASSETS, jobs=[exports_job], schedules=[exports_daily])


def exports_resources(settings: Settings) -> dict[str, dg.ConfigurableIOManager]:
    """Return the Parquet IO manager, writing under the settings' exports folder.

    dagster-polars' own IO manager: it names files by asset and partition, and reads them back
    as polars for any asset that loads an export."""
    return {PARQUET_IO_MANAGER: PolarsParquetIOManager(base_dir=str(settings.exports_dir))}
