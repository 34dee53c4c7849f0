"""The players domain: the weekly snapshot of every registered account, and its checks."""

import dagster as dg

from tai_assets.defs.players.assets import SNAPSHOT_ASSETS
from tai_assets.defs.players.jobs import PLAYERS_SNAPSHOT_JOB
from tai_assets.defs.players.schedules import PLAYERS_SNAPSHOT_SCHEDULE


def players_definitions() -> dg.Definitions:
    """Return the players domain's definitions (its checks are declared on the write op)."""
    return dg.Definitions(
        assets=SNAPSHOT_ASSETS, jobs=[PLAYERS_SNAPSHOT_JOB], schedules=[PLAYERS_SNAPSHOT_SCHEDULE]
    )
