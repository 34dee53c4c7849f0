"""The players snapshot job: crawl, then write, one weekly partition."""

import dagster as dg

from tai_assets.defs.players.assets import (
    WEEKLY_PARTITIONS,
    players_snapshot_pages,
    players_snapshot_write,
)

PLAYERS_SNAPSHOT_JOB = dg.define_asset_job(
    "players_snapshot_job",
    selection=dg.AssetSelection.assets(players_snapshot_pages, players_snapshot_write)
    | dg.AssetSelection.assets("export_players_snapshot"),
    partitions_def=WEEKLY_PARTITIONS,
    description="Crawl the training API and write the week's players snapshot.",
)
