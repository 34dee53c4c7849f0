"""The analytics sensor: recompute retention after each players snapshot."""

import dagster as dg

from tai_assets.defs.analytics.jobs import player_retention_job


# An asset sensor rather than declarative automation: the automation sensor stores a ~35 KB
# evaluation on every tick, and a weekly snapshot only needs an hourly look.
@dg.asset_sensor(
    asset_key=dg.AssetKey("players_snapshot"),
    job=player_retention_job,
    name="player_retention_sensor",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Recomputes player_retention once after each new players snapshot.",
)
def player_retention_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    """Request one player_retention run per new players_snapshot materialization."""
    yield dg.RunRequest(run_key=f"players_snapshot:{asset_event.run_id}:{asset_event.timestamp}")


ANALYTICS_SENSORS = [player_retention_sensor]
