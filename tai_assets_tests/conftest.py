"""Shared fixtures: a simulated clock, and the simulator serving on loopback. (Helpers that
tests import live in `tai_assets_tests.support`.)"""

from datetime import UTC, datetime

import pytest

from tai_assets.common.clock import use_clock
from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig

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


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (see `tai_assets_tests.support.postgres`)."""
    from tai_assets_tests.support.postgres import throwaway_server

    with throwaway_server() as url:
        yield url


@pytest.fixture
def data_mount(tmp_path):
    """A data folder on a 64 MiB tmpfs of its own: a disk that can really fill or turn
    read-only (skipped, or failed under TAI_REQUIRE_SERVICES=1, where mounting is impossible)."""
    from tai_assets_tests.support.deployment import small_tmpfs
    from tai_assets_tests.support.services import unavailable

    with small_tmpfs(tmp_path / "data", unavailable) as mount:
        yield mount
