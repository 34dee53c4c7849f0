"""Polling test helpers: tai's resources pointed at a running simulator, the spool beside a
warehouse file, and sensor ticks and the runs they request, executed in this process."""

import dagster as dg

from tai_assets.core.spool import PollSpool
from tai_assets.defs.polling.assets import POLLING_ASSETS
from tai_assets.defs.polling.jobs import ingest_job
from tai_assets.defs.polling.resources import (
    ChronoApiResource,
    GameServerResource,
    PollingSettings,
    PollSpoolResource,
)
from tai_assets.defs.polling.sensors import build_polling_sensors
from tai_assets.defs.resources import WarehouseResource
from tai_assets.settings import Settings
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager


def spool_path_beside(database: str) -> str:
    """Return the spool file tests keep beside a warehouse file."""
    return f"{database}.spool.sqlite3"


def spool_polls(database: str, source: str, records: list[dict]) -> None:
    """Append poll records to the spool beside `database`, as the polling sensors do."""
    PollSpool(spool_path_beside(database)).append(source, records)


def polling_resources(
    running, database: str, *, batch: int = 3, login: str | None = "tai", token="secret-token"
) -> dict:
    """Return tai's resources pointed at a running simulator and a warehouse file."""
    return {
        "io_manager": TaiWarehouseIOManager(database=database),
        "warehouse": WarehouseResource(database=database),
        "spool": PollSpoolResource(path=spool_path_beside(database)),
        "game_server": GameServerResource(
            host="127.0.0.1", port=running.udp_port, timeout_seconds=0.3, attempts=2
        ),
        "chrono": ChronoApiResource(
            base_url=running.http_base_url, login=login, token=token, timeout_seconds=3
        ),
        "polling": PollingSettings(poll_interval_seconds=60, poll_batch=batch),
    }


SERVER_SENSOR, WORLD_SENSOR = 0, 1  # positions in what build_polling_sensors returns


def tick(which: int, resources: dict, cursor: str | None):
    """Return the result of one tick of a polling sensor (SERVER_SENSOR or WORLD_SENSOR)."""
    sensors = build_polling_sensors(Settings.from_env(), ingest_job, resources)
    return sensors[which](dg.build_sensor_context(cursor=cursor))


def spooled(resources: dict, source: str) -> list[dict]:
    """Return the poll records pending in the resources' spool."""
    return [poll.record for poll in resources["spool"].spool().pending(source)]


def run_ticks(sensor, resources: dict, clock, count: int):
    """Return the results of `count` ticks a minute apart, each with the last cursor."""
    cursor, results = None, []
    for _ in range(count):
        result = tick(sensor, resources, cursor)
        results.append(result)
        cursor = result.cursor if isinstance(result, dg.SensorResult) else cursor
        clock.advance(60)
    return results


def execute(request: dg.RunRequest, job, resources: dict) -> dg.ExecuteInProcessResult:
    """Run what a sensor requested, as the daemon would, in this process."""
    run_resources = {k: resources[k] for k in ("io_manager", "warehouse", "polling", "spool")}
    defs = dg.Definitions(assets=POLLING_ASSETS, jobs=[job], resources=run_resources)
    return defs.resolve_job_def(job.name).execute_in_process(
        run_config=request.run_config, tags=request.tags
    )


def ingest_resources(database: str, batch: int = 4) -> dict:
    """Return what the ingest assets need, on a warehouse file and the spool beside it."""
    return {
        "io_manager": TaiWarehouseIOManager(database=database),
        "warehouse": WarehouseResource(database=database),
        "spool": PollSpoolResource(path=spool_path_beside(database)),
        "polling": PollingSettings(poll_interval_seconds=60, poll_batch=batch),
    }
