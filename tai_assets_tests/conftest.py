"""Shared fixtures: a simulated clock, and the simulator serving on loopback. (Helpers that
tests import live in `tai_assets_tests.support`.)"""

import os
from datetime import UTC, datetime

import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage
from xdist.scheduler import LoadScopeScheduling

from tai_assets.common.clock import use_clock
from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig

SIM_START = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_dagster_instance_left_current():
    """Each test starts with no Dagster instance current. Dagster keeps the instance a `with`
    block entered in a context variable; a test that leaves one behind (instances closed out
    of order) would make the next test on that worker load definitions against a closed one
    ("Attempted to resolve undefined DagsterInstance weakref")."""
    with set_defs_state_storage(None):
        yield


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


# Modules holding a test marked `slow` or `timed` (checked at collection): a worker running a
# test of one of them holds only one more test, a quick one, so that no test waits behind a
# long one while other workers are free.
MODULES_WITH_LONG_TESTS = {
    "tai_assets_tests/test_accuracy_simulated_day.py",
    "tai_assets_tests/test_daemon_end_to_end.py",
    "tai_assets_tests/test_demo.py",
    "tai_assets_tests/test_faults_deployment.py",
    "tai_assets_tests/test_legacy_import.py",
    "tai_assets_tests/test_polling_incremental.py",
}


# The niceness of every test but the fault suite's (and of what those tests start).
YIELDING_NICENESS = 10


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Run every test not marked `timed` at nice 10, with what it starts.

    The fault suite asserts how soon a real deployment has every poll in the warehouse after
    each fault (its deployments run at the normal priority); the rest of the suite shares the
    two cores with it, and its load must not be what that bound measures. A worker's
    niceness only goes up: the timed tests are handed out first, before any other test.
    """
    timed = item.get_closest_marker("timed") is not None
    if not timed and os.getpriority(os.PRIO_PROCESS, 0) < YIELDING_NICENESS:
        os.setpriority(os.PRIO_PROCESS, 0, YIELDING_NICENESS)


def module_of(nodeid: str) -> str:
    """Return the test module part of a pytest node id."""
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the fault suite first, then the other long tests (xdist still hands out the
    modules with a shared fixture before them): the quick ones then fill the workers around
    them, instead of a long one starting last and running alone."""
    long = [i for i in items if i.get_closest_marker("timed") or i.get_closest_marker("slow")]
    unlisted = {module_of(item.nodeid) for item in long} - MODULES_WITH_LONG_TESTS
    if unlisted:
        raise pytest.UsageError(f"add {sorted(unlisted)} to MODULES_WITH_LONG_TESTS")
    items.sort(
        key=lambda item: (
            item.get_closest_marker("timed") is None,
            item.get_closest_marker("slow") is None,
        )
    )


# Modules whose tests share a module-scoped fixture: each goes to one worker, so that fixture
# (a simulated day, a loaded code location, a seeded demo, a running webserver) is built once.
MODULES_SHARING_A_FIXTURE = {
    "tai_assets_tests/test_accuracy_simulated_day.py",
    "tai_assets_tests/test_analytics_simulator.py",
    "tai_assets_tests/test_code_location.py",
    "tai_assets_tests/test_demo.py",
    "tai_assets_tests/test_web_guard.py",
}


class ModuleWhereSharedScheduling(LoadScopeScheduling):
    """Hands out a test at a time, but a module of MODULES_SHARING_A_FIXTURE whole; a worker
    holding a test of MODULES_WITH_LONG_TESTS gets one more test at most, the quickest left."""

    def _split_scope(self, nodeid: str) -> str:
        module = module_of(nodeid)
        return module if module in MODULES_SHARING_A_FIXTURE else nodeid

    def _reschedule(self, node) -> None:
        if node.shutting_down or not self.workqueue:
            super()._reschedule(node)  # shuts the worker down once nothing is left
            return
        pending = [
            nodeid
            for tests in self.assigned_work[node].values()
            for nodeid, done in tests.items()
            if not done
        ]
        if any(module_of(nodeid) in MODULES_WITH_LONG_TESTS for nodeid in pending):
            # An xdist worker starts a test only once it holds the next one (or is stopped).
            if len(pending) < 2:
                # The queue is sorted long tests first: its last unit is a quick one.
                self.workqueue.move_to_end(next(reversed(self.workqueue)), last=False)
                self._assign_work_unit(node)
        elif len(pending) <= 2:
            self._assign_work_unit(node)


def pytest_xdist_make_scheduler(config, log):
    """Return the scheduler for `-n N --dist load` (what `./tai test` uses)."""
    if config.getvalue("dist") == "load":
        return ModuleWhereSharedScheduling(config, log)
    return None
