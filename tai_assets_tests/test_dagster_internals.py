"""Every assumption `tai_assets.dagster_internals` makes about Dagster's private code, pinned.

A Dagster upgrade that moves, renames or reshapes one of them fails here, by name, before it
can quietly switch a workaround off: the cheaper code server, daemon and webserver (`cli`), the
raw deletes on the event log (`event_log`) and the tick bookkeeping (`ticks`).
"""

import inspect
import multiprocessing
import os
import subprocess
import sys
import time

import dagster as dg
import dagster._daemon.controller as controller
import dagster._grpc.server_watcher as server_watcher
import grpc._common as grpc_common
import pytest
from dagster._grpc.server import DagsterApiServer

from tai_assets.dagster_internals.cli import (
    GRPC_WAIT,
    POLLING_INTERVALS,
    SCHEMA_CHECKS,
    apply_polling_intervals,
    fork_run_workers,
    remember_schema_checks,
    slow_uvicorn_ticks,
)
from tai_assets.deploy.serve import commands
from tai_assets_tests.support.deployment import forkservers_of


def test_the_pinned_dagster_has_the_constants_and_they_take_tai_values(monkeypatch):
    for module, name, _ in POLLING_INTERVALS:
        target = __import__(module, fromlist=[name])
        monkeypatch.setattr(target, name, getattr(target, name))
    # The defaults tai measured against.
    assert server_watcher.WATCH_INTERVAL == 1
    assert controller.DEFAULT_DAEMON_INTERVAL_SECONDS == 30
    assert grpc_common.MAXIMUM_WAIT_TIMEOUT == 0.1

    applied = apply_polling_intervals()

    assert applied == [f"{module}.{name}" for module, name, _ in POLLING_INTERVALS]
    assert server_watcher.WATCH_INTERVAL == 10
    assert controller.RELOAD_WORKSPACE_INTERVAL == 240
    assert controller.DEFAULT_DAEMON_INTERVAL_SECONDS == 120
    assert grpc_common.MAXIMUM_WAIT_TIMEOUT == 1.0
    # One failed reload must not exceed the daemon's tolerance for a stale workspace, and the
    # backfill daemon's heartbeats (one a loop) must stay well inside the heartbeat tolerance.
    assert controller.RELOAD_WORKSPACE_INTERVAL < controller.DEFAULT_WORKSPACE_FRESHNESS_TOLERANCE
    tolerance = controller.DEFAULT_DAEMON_HEARTBEAT_TOLERANCE_SECONDS
    assert tolerance > controller.DEFAULT_DAEMON_INTERVAL_SECONDS * 4


def test_the_backfill_daemon_reads_its_interval_when_its_loop_starts():
    from dagster._daemon import backfill

    source = inspect.getsource(backfill.execute_backfill_iteration_loop)
    assert "from dagster._daemon.controller import DEFAULT_DAEMON_INTERVAL_SECONDS" in source
    assert "DEFAULT_DAEMON_INTERVAL_SECONDS - loop_duration" in source
    # The only other reader is the asset daemon, which tai's instance turns off.
    daemons = inspect.getsource(controller.create_daemon_of_type)
    assert daemons.count("DEFAULT_DAEMON_INTERVAL_SECONDS") == 1
    assert "else DEFAULT_DAEMON_INTERVAL_SECONDS" in daemons


def test_a_grpc_wait_still_ends_as_soon_as_its_event_is_set(monkeypatch):
    import threading
    import time

    monkeypatch.setattr(grpc_common, "MAXIMUM_WAIT_TIMEOUT", grpc_common.MAXIMUM_WAIT_TIMEOUT)
    apply_polling_intervals([GRPC_WAIT])
    event = threading.Event()
    threading.Timer(0.05, event.set).start()
    started = time.monotonic()
    grpc_common.wait(event.wait, event.is_set)
    assert time.monotonic() - started < 0.5


def test_uvicorn_looks_once_a_second_and_still_refreshes_its_date_header():
    import asyncio

    ticks: list[int] = []

    class Server:
        async def main_loop(self):
            raise AssertionError("uvicorn's own loop")

        async def on_tick(self, counter: int) -> bool:
            ticks.append(counter)
            return len(ticks) == 3

    assert slow_uvicorn_ticks(Server)
    assert slow_uvicorn_ticks(Server)  # once
    started = asyncio.run(_timed(Server().main_loop()))
    # Every wake-up lands on a whole second, where on_tick refreshes the Date header.
    assert ticks == [0, 10, 20]
    assert 1.9 < started < 3.0
    with pytest.warns(UserWarning, match="main_loop/on_tick"):
        assert not slow_uvicorn_ticks(type("Other", (), {}))


def test_the_pinned_uvicorn_loop_is_the_one_tai_replaces():
    import uvicorn.server

    main_loop = inspect.getsource(uvicorn.server.Server.main_loop)
    assert "await asyncio.sleep(0.1)" in main_loop
    on_tick = inspect.getsource(uvicorn.server.Server.on_tick)
    assert "counter % 10 == 0" in on_tick


async def _timed(coroutine) -> float:
    import time

    started = time.monotonic()
    await coroutine
    return time.monotonic() - started


def test_a_missing_constant_is_a_warning_not_a_crash(monkeypatch):
    for module, name, _ in POLLING_INTERVALS:
        target = __import__(module, fromlist=[name])
        monkeypatch.setattr(target, name, getattr(target, name))
    monkeypatch.delattr(server_watcher, "WATCH_INTERVAL")
    with pytest.warns(UserWarning, match="WATCH_INTERVAL not found"):
        applied = apply_polling_intervals()
    assert applied == [f"{m}.{n}" for m, n, _ in POLLING_INTERVALS if n != "WATCH_INTERVAL"]


class SpawningServer:
    """Stands for Dagster's code server: its constructor picks the "spawn" context."""

    def __init__(self, name):
        self.name = name
        self._mp_ctx = multiprocessing.get_context("spawn")


class ServerWithoutContext:
    def __init__(self):
        self.name = "other"


def test_the_code_server_starts_its_runs_from_a_preloaded_forkserver():
    assert fork_run_workers(["json"], SpawningServer) is True
    server = SpawningServer("tai")
    assert server.name == "tai"  # the original constructor still ran
    assert server._mp_ctx.get_start_method() == "forkserver"
    wrapped = SpawningServer.__init__
    assert fork_run_workers(["json"], SpawningServer) is True
    assert SpawningServer.__init__ is wrapped  # applied once only
    # The forkserver starts with the server, not with its first run.
    deadline = time.monotonic() + 30
    while not forkservers_of(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert forkservers_of(os.getpid())


def test_a_server_without_a_context_keeps_spawning_with_a_warning():
    fork_run_workers(["json"], ServerWithoutContext)
    with pytest.warns(UserWarning, match="runs still spawn"):
        server = ServerWithoutContext()
    assert not hasattr(server, "_mp_ctx")


def test_the_pinned_dagster_server_keeps_its_run_context_where_tai_replaces_it():
    # The end-to-end daemon test shows the forkserver at work; this names what it relies on.
    assert 'self._mp_ctx = multiprocessing.get_context("spawn")' in inspect.getsource(
        DagsterApiServer.__init__
    )
    assert "self._mp_ctx.Process(" in inspect.getsource(DagsterApiServer.StartRun)


def test_the_deployment_starts_daemon_and_webserver_through_the_wrapper():
    _code_server, daemon, webserver = commands(4266, 3000, "info")
    assert daemon[1:5] == ["-m", "tai_assets.dagster_internals.cli", "dagster-daemon", "run"]
    assert webserver[1:4] == ["-m", "tai_assets.dagster_internals.cli", "dagster-webserver"]
    for command, usage in ((daemon, "dagster-daemon"), (webserver, "dagster-webserver")):
        shown = subprocess.run([*command[:4], "--help"], capture_output=True, text=True)
        assert shown.returncode == 0, shown.stderr
        assert usage in shown.stdout


def test_an_unknown_command_is_refused_with_the_usage():
    refused = subprocess.run(
        [sys.executable, "-m", "tai_assets.dagster_internals.cli", "dagit"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "dagster|dagster-daemon|dagster-webserver" in refused.stderr


def test_the_event_log_tables_have_the_columns_the_raw_deletes_use():
    from dagster._core.storage.event_log.schema import (
        AssetCheckExecutionsTable,
        SqlEventLogStorageTable,
    )

    assert {"run_id", "dagster_event_type", "timestamp", "id"} <= set(
        SqlEventLogStorageTable.c.keys()
    )
    assert {
        "id",
        "asset_key",
        "check_name",
        "evaluation_event_timestamp",
        "evaluation_event_storage_id",
    } <= set(AssetCheckExecutionsTable.c.keys())


def test_the_event_types_the_thinning_keeps_are_stored_by_these_names():
    from tai_assets.dagster_internals.event_log import KEPT_RUN_EVENTS

    assert [event.value for event in KEPT_RUN_EVENTS] == [
        "ASSET_MATERIALIZATION",
        "ASSET_OBSERVATION",
        "ASSET_CHECK_EVALUATION",
        "STEP_SUCCESS",
    ]


def test_the_instances_tai_thins_are_sql_event_logs_with_an_index_connection():
    from dagster._core.storage.event_log import SqlEventLogStorage, SqliteEventLogStorage
    from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import (
        ConsolidatedSqliteEventLogStorage,
    )

    assert issubclass(ConsolidatedSqliteEventLogStorage, SqlEventLogStorage)
    assert not issubclass(ConsolidatedSqliteEventLogStorage, SqliteEventLogStorage)
    assert callable(SqlEventLogStorage.index_connection)


def test_tick_purging_takes_the_arguments_tai_passes():
    import dagster as dg
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        SensorInstigatorData,
        TickStatus,
    )

    parameters = inspect.signature(dg.DagsterInstance.purge_ticks).parameters
    assert {"origin_id", "selector_id", "before", "tick_statuses"} <= set(parameters)
    assert {"SKIPPED", "SUCCESS"} <= {status.name for status in TickStatus}
    assert {"instigator_origin_id", "selector_id", "instigator_data"} <= set(dir(InstigatorState))
    assert "last_tick_timestamp" in SensorInstigatorData._fields


def test_the_webserver_builds_its_app_where_tai_wraps_it():
    import dagster_webserver.cli as webserver_cli

    source = inspect.getsource(webserver_cli.host_dagster_ui_with_workspace_process_context)
    assert "create_app_from_workspace_process_context(" in source
    assert "uvicorn.run(" in source


def test_guarding_wraps_the_app_once_and_refuses_to_start_unguarded():
    from types import SimpleNamespace

    from tai_assets.dagster_internals.cli import guard_webserver
    from tai_assets.deploy.web_guard import WebGuard

    module = SimpleNamespace(create_app_from_workspace_process_context=lambda *a, **k: "app")
    assert guard_webserver(["127.0.0.1:3000"], module)
    wrapped = module.create_app_from_workspace_process_context
    assert guard_webserver(["127.0.0.1:3000"], module)
    assert module.create_app_from_workspace_process_context is wrapped
    app = wrapped()
    assert isinstance(app, WebGuard) and app.app == "app"
    with pytest.raises(RuntimeError, match="create_app_from_workspace_process_context"):
        guard_webserver(["127.0.0.1:3000"], SimpleNamespace())


def test_the_latest_check_execution_is_read_where_tai_reads_it():
    import dagster as dg
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus,
    )

    from tai_assets.dagster_internals.check_history import failed_checks

    assert {"SUCCEEDED", "FAILED"} <= {status.name for status in AssetCheckExecutionRecordStatus}
    spec = dg.AssetCheckSpec("positive", asset="numbers")

    @dg.asset(name="numbers", check_specs=[spec])
    def numbers():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="positive", passed=False)

    with dg.instance_for_test() as instance:
        assert failed_checks(instance, [spec.key]) == []
        dg.materialize([numbers], instance=instance, resources={"io_manager": dg.mem_io_manager})
        assert failed_checks(instance, [spec.key]) == ["numbers:positive"]


def test_schema_checks_are_asked_until_the_answer_is_yes(tmp_path):
    from dagster._core.storage.schedules.sql_schedule_storage import SqlScheduleStorage

    assert remember_schema_checks() == list(SCHEMA_CHECKS)  # the pinned Dagster has them all
    for name in SCHEMA_CHECKS:
        assert getattr(getattr(SqlScheduleStorage, name), "_tai_remembered", False)

    class Storage:
        def __init__(self):
            self.asked = 0
            self.built = False

        def has_built_index(self, name):
            self.asked += 1
            return self.built

    with pytest.warns(UserWarning, match="has_instigators_table not found"):
        assert remember_schema_checks(Storage) == ["has_built_index"]
    storage = Storage()
    assert not storage.has_built_index("a") and not storage.has_built_index("a")
    assert storage.asked == 2  # a no is asked again
    storage.built = True
    assert storage.has_built_index("a") and storage.has_built_index("a")
    assert storage.asked == 3  # a yes is remembered
    assert storage.has_built_index("b") and storage.asked == 4  # per argument
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:  # the real storage still works
        assert instance.schedule_storage.has_instigators_table()
        assert instance.all_instigator_state() == []


def test_dagster_job_commands_run_in_this_process_and_report_their_exit_code(capsys):
    from dagster._cli.job import job_cli

    from tai_assets.dagster_internals.job_cli import run_job_command

    assert {"launch", "backfill"} <= set(job_cli.commands)  # what `./tai backfill` runs
    assert run_job_command(["job", "launch", "--no-such-option"]) == 2  # click's usage error
    assert "no-such-option" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a `dagster job` command"):
        run_job_command(["asset", "list"])
