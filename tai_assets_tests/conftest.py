"""Shared fixtures: the simulator on loopback, a warehouse file, and tai's resources for both."""

from datetime import UTC, datetime

import pytest

from tai_assets.common.clock import use_clock
from tai_assets.core.spool import PollSpool
from tai_assets.defs.polling.resources import (
    ChronoApiResource,
    GameServerResource,
    PollingSettings,
    PollSpoolResource,
)
from tai_assets.defs.resources import WarehouseResource
from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager

SIM_START = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


@pytest.fixture
def sim_clock() -> ManualClock:
    """A simulated clock that tai's own clock follows too (polls are stamped in sim time)."""
    clock = ManualClock(SIM_START)
    with use_clock(clock.now):
        yield clock


@pytest.fixture
def simulator(sim_clock):
    """The simulator, serving UDP and HTTP on free loopback ports."""
    sim = Simulator(SimulatorConfig(seed=7, accounts=300), clock=sim_clock)
    with sim.serve("127.0.0.1") as running:
        yield sim, running


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
