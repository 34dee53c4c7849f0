"""The suite's own scheduling: every module with a module-scoped fixture is handed to one
worker whole (`conftest.MODULES_SHARING_A_FIXTURE`), so adding such a fixture elsewhere
cannot silently build it once per worker; no test waits behind a long one; and the tests the
fault suite shares the cores with run at a lower priority."""

import os
from collections import OrderedDict
from pathlib import Path

from tai_assets_tests.conftest import (
    MODULES_SHARING_A_FIXTURE,
    YIELDING_NICENESS,
    ModuleWhereSharedScheduling,
)

TESTS = Path(__file__).parent


def test_every_module_with_a_module_fixture_is_scheduled_whole():
    found = {
        f"tai_assets_tests/{path.name}"
        for path in TESTS.glob("test_*.py")
        if "@pytest.fixture(scope=" + '"module")' in path.read_text()
    }
    assert found == MODULES_SHARING_A_FIXTURE


def test_a_test_not_marked_timed_runs_at_a_lower_priority():
    """The fault suite's catch-up bound measures its deployments, not the rest of the suite:
    every other test (and what it starts) runs at nice 10."""
    assert os.getpriority(os.PRIO_PROCESS, 0) >= YIELDING_NICENESS


def test_a_shared_module_is_one_unit_and_other_tests_are_one_each():
    split = ModuleWhereSharedScheduling._split_scope
    day = "tai_assets_tests/test_accuracy_simulated_day.py"
    assert split(None, f"{day}::test_world_sessions_match_the_truth") == day
    other = "tai_assets_tests/test_daemon_end_to_end.py::test_daemon[sqlite]"
    assert split(None, other) == other


class Worker:
    """What the scheduler sees of an xdist worker: the tests it was sent."""

    shutting_down = False

    def __init__(self):
        self.sent: list[int] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.extend(indexes)


def scheduler_holding(pending: list[str], queue: list[str]) -> tuple:
    """Return a scheduler whose one worker holds `pending` (not run yet) and whose queue holds
    `queue` (one test a unit), and that worker."""
    worker = Worker()
    scheduler = ModuleWhereSharedScheduling.__new__(ModuleWhereSharedScheduling)
    scheduler.workqueue = OrderedDict((nodeid, {nodeid: False}) for nodeid in queue)
    scheduler.assigned_work = {worker: {nodeid: {nodeid: False} for nodeid in pending}}
    scheduler.registered_collections = {worker: [*pending, *queue]}
    return scheduler, worker


FAULTS = "tai_assets_tests/test_faults_deployment.py::test_no_poll_is_lost[sqlite]"
DAEMON = "tai_assets_tests/test_daemon_end_to_end.py::test_daemon[sqlite]"
QUICK = [f"tai_assets_tests/test_alerts.py::test_{n}" for n in range(3)]


def test_a_worker_running_a_long_test_gets_one_quick_test_to_follow_it():
    scheduler, worker = scheduler_holding([FAULTS], [DAEMON, *QUICK])
    scheduler._reschedule(worker)
    assert [scheduler.registered_collections[worker][i] for i in worker.sent] == [QUICK[-1]]
    scheduler._reschedule(worker)  # it now holds two: nothing more, the daemon test waits
    assert len(worker.sent) == 1 and list(scheduler.workqueue) == [DAEMON, *QUICK[:-1]]


def test_a_worker_running_quick_tests_takes_the_next_unit_even_a_long_one():
    scheduler, worker = scheduler_holding(QUICK[:2], [DAEMON, QUICK[2]])
    scheduler._reschedule(worker)
    assert [scheduler.registered_collections[worker][i] for i in worker.sent] == [DAEMON]
    scheduler._reschedule(worker)  # it holds a long test now: at most one follower
    assert len(worker.sent) == 1
