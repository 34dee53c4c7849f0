"""The suite's own scheduling: every module with a module-scoped fixture is handed to one
worker whole (`conftest.MODULES_SHARING_A_FIXTURE`), so adding such a fixture elsewhere
cannot silently build it once per worker."""

from pathlib import Path

from tai_assets_tests.conftest import MODULES_SHARING_A_FIXTURE, ModuleWhereSharedScheduling

TESTS = Path(__file__).parent


def test_every_module_with_a_module_fixture_is_scheduled_whole():
    found = {
        f"tai_assets_tests/{path.name}"
        for path in TESTS.glob("test_*.py")
        if "@pytest.fixture(scope=" + '"module")' in path.read_text()
    }
    assert found == MODULES_SHARING_A_FIXTURE


def test_a_shared_module_is_one_unit_and_other_tests_are_one_each():
    split = ModuleWhereSharedScheduling._split_scope
    day = "tai_assets_tests/test_accuracy_simulated_day.py"
    assert split(None, f"{day}::test_world_sessions_match_the_truth") == day
    other = "tai_assets_tests/test_daemon_end_to_end.py::test_daemon[sqlite]"
    assert split(None, other) == other
