"""The imported history of the original tai service (`raw.legacy_*`), as one asset.

Materializing it (`./tai import DIR`, or `import_history_job` from the UI with the folder as
config) imports every old file in the folder in one transaction, folds the history into the core
tables, and writes each old snapshot as the players_snapshot partition of its week. The run then
reports those partitions and the core tables it changed as materialized, and evaluates the
checks in `sql/checks/legacy/` on the result.
"""

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
from pydantic import Field, field_validator

from tai_assets.defs.analytics.partitions import now_naive
from tai_assets.defs.players.assets import FIRST_WEEK
from tai_assets.defs.polling.checks import evaluate_rule, load_rules
from tai_assets.defs.polling.resources import PollingSettings
from tai_assets.defs.resources import WarehouseResource
from tai_assets.legacy.files import LegacyFileError
from tai_assets.legacy.history import SessionGaps
from tai_assets.legacy.importer import ImportOptions, import_folder
from tai_assets.legacy.report import ImportReport
from tai_assets.warehouse.connection import scalar

LEGACY_RULES = load_rules("legacy")
LEGACY_TABLES = [
    "raw.legacy_player_sessions",
    "raw.legacy_world_sessions",
    "raw.legacy_server_online",
    "raw.legacy_worlds_online",
    "raw.legacy_snapshots",
]
# The core asset each imported table is folded into.
CORE_ASSETS = {
    "core.player_sessions": "player_sessions",
    "core.world_sessions": "world_sessions",
    "core.server_online": "server_online",
    "core.worlds_online": "worlds_online",
}


class LegacyImportConfig(dg.Config):
    """Run config of the import: the folder, and the zone players.db's snapshot times are in."""

    folder: str = Field(
        description="The old service's data folder (sessions.db, online.db, world_sessions.db, "
        "worlds_online.db, players.db; any subset). Absolute, or relative to the deployment's "
        "working directory (the checkout)."
    )
    snapshot_timezone: str = Field(
        default="UTC",
        description="The zone of the old machine's clock: players.db's snapshot_time is its "
        "local wall time (the other times are UTC already).",
    )

    @field_validator("snapshot_timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (an IANA name: Europe/Moscow)") from None
        return zone


def _metadata(report: ImportReport, row_count: int) -> dict:
    metadata: dict = {
        "folder": report.folder,
        "files": dg.MetadataValue.md(report.markdown()),
        "snapshot_weeks_written": len(report.snapshot_weeks),
        "dagster/row_count": row_count,
    }
    if report.first is not None:
        metadata["history_from"] = report.first.isoformat()
        metadata["history_to"] = report.last.isoformat()
    for table in report.tables:
        stem = table.file.removesuffix(".db")
        for count in ("read", "imported", "merged", "skipped"):
            metadata[f"{stem}_{count}"] = getattr(table, count)
        for name, value in table.extra.items():
            metadata[f"{stem}_{name}"] = value
    return metadata


@dg.asset(
    name="legacy_history",
    group_name="history",
    owners=["team:tai"],
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec(rule.name, asset="legacy_history", description=rule.description)
        for rule in LEGACY_RULES
    ],
    metadata={"schema": "raw", "dagster/table_name": ", ".join(LEGACY_TABLES)},
    description=(
        "History imported from the original tai service's DuckDB files: its sessions, online "
        "counts and worlds' counts (`raw.legacy_*`), which the core tables combine with the "
        "polls (a rebuild keeps them; polls within the session gap continue an imported "
        "session), and its weekly player snapshots, each written as the players_snapshot "
        "partition of its week. Idempotent: importing the same folder again changes nothing."
    ),
)
def legacy_history(
    context: dg.AssetExecutionContext,
    config: LegacyImportConfig,
    warehouse: WarehouseResource,
    polling: PollingSettings,
) -> Iterator:
    """Import the folder, report what changed, then evaluate the import's checks."""
    options = ImportOptions(
        snapshot_timezone=config.snapshot_timezone,
        first_week=FIRST_WEEK,
        gaps=SessionGaps(polling.player_session_gap_seconds, polling.world_session_gap_seconds),
    )
    with warehouse.connect() as conn:
        try:
            report, snapshots = import_folder(
                conn, Path(config.folder), options, context.run_id, now_naive()
            )
        except LegacyFileError as error:
            raise dg.Failure(f"nothing was imported: {error}") from None
        held = sum(scalar(conn, f"SELECT count(*) FROM {t}") for t in LEGACY_TABLES)
        checks = [evaluate_rule(conn, rule, {}) for rule in LEGACY_RULES]
    context.log.info(f"imported {report.folder}:\n{report.markdown()}")
    yield dg.MaterializeResult(metadata=_metadata(report, held))
    # After the import's own materialization, so that what it changed does not look stale.
    for snapshot in snapshots:
        context.log_event(
            dg.AssetMaterialization(
                asset_key="players_snapshot",
                partition=snapshot.week.isoformat(),
                metadata={
                    "source": "import of the original service's players.db",
                    "snapshot_time": snapshot.snapshot_time.isoformat(),
                    "dagster/row_count": snapshot.accounts,
                },
            )
        )
    for table in report.tables:
        if table.core_rows:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=CORE_ASSETS[table.core_table],
                    metadata={"source": "import", "rows_written": table.core_rows},
                )
            )
    yield from checks
