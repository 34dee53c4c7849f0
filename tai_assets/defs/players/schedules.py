"""The weekly schedule of the players snapshot."""

import dagster as dg

from tai_assets.defs.players.jobs import PLAYERS_SNAPSHOT_JOB

PLAYERS_SNAPSHOT_SCHEDULE = dg.build_schedule_from_partitioned_job(
    PLAYERS_SNAPSHOT_JOB,
    name="players_snapshot_weekly",
    description="Every Monday 00:00 UTC (03:00 Moscow): snapshot of the week that just ended.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
