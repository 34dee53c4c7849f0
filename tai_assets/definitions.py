"""The tai code location: every asset, check, job, sensor, schedule and resource."""

import logging
import os

import dagster as dg

from tai_assets.defs.analytics.assets import (
    ANALYTICS_ASSETS,
    ANALYTICS_CHECKS,
    ANALYTICS_JOBS,
    ANALYTICS_SCHEDULES,
    ANALYTICS_SENSORS,
    analytics_resources,
)
from tai_assets.defs.players.assets import (
    SNAPSHOT_ASSETS,
    SNAPSHOT_CHECKS,
    SNAPSHOT_JOBS,
    SNAPSHOT_SCHEDULES,
)
from tai_assets.defs.players.resources import TrainingApiResource
from tai_assets.defs.polling.assets import POLLING_ASSETS
from tai_assets.defs.polling.checks import POLLING_CHECKS
from tai_assets.defs.polling.jobs import POLLING_JOBS, ingest_server_job, ingest_world_job
from tai_assets.defs.polling.resources import (
    ChronoApiResource,
    GameServerResource,
    PollingSettings,
    PollSpoolResource,
    WarehouseResource,
)
from tai_assets.defs.polling.schedules import build_polling_schedules
from tai_assets.defs.polling.sensors import build_freshness_sensor, build_polling_sensors
from tai_assets.instance.housekeeping import purge_old_runs_job
from tai_assets.settings import Settings
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager


def _secret(name: str) -> dg.EnvVar | None:
    """Return an EnvVar for a secret that is set, or None (the feature then switches off)."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def build_resources(settings: Settings) -> dict:
    """Return the resources, filled from the environment (secrets only through EnvVar)."""
    database = str(settings.warehouse_path)
    return {
        "io_manager": TaiWarehouseIOManager(database=database),
        "warehouse": WarehouseResource(database=database),
        "spool": PollSpoolResource(path=str(settings.spool_path)),
        "game_server": GameServerResource(host=settings.training_host, port=settings.training_port),
        "chrono": ChronoApiResource(
            base_url=settings.chrono_api_base_url,
            login=_secret("CHRONO_LOGIN"),
            token=_secret("CHRONO_TOKEN"),
        ),
        "training_api": TrainingApiResource.from_env(),
        **analytics_resources(),
        "polling": PollingSettings(
            poll_interval_seconds=settings.poll_interval_seconds,
            poll_batch=settings.poll_batch,
            tick_retention_minutes=settings.tick_retention_minutes,
            run_detail_retention_minutes=settings.run_detail_retention_minutes,
            player_session_gap_seconds=settings.player_session_gap_seconds,
            world_session_gap_seconds=settings.world_session_gap_seconds,
        ),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    """Return tai's Definitions for the given settings."""
    resources = build_resources(settings)
    return dg.Definitions(
        assets=[*POLLING_ASSETS, *SNAPSHOT_ASSETS, *ANALYTICS_ASSETS],
        asset_checks=[*POLLING_CHECKS, *SNAPSHOT_CHECKS, *ANALYTICS_CHECKS],
        jobs=[*POLLING_JOBS, *SNAPSHOT_JOBS, *ANALYTICS_JOBS, purge_old_runs_job],
        sensors=[
            *build_polling_sensors(settings, ingest_server_job, ingest_world_job, resources),
            build_freshness_sensor(settings),
            *ANALYTICS_SENSORS,
        ],
        schedules=[*build_polling_schedules(settings), *SNAPSHOT_SCHEDULES, *ANALYTICS_SCHEDULES],
        resources=resources,
    )


SETTINGS = Settings.from_env()
logging.getLogger("tai_assets").setLevel(SETTINGS.log_level)
defs = build_definitions(SETTINGS)
