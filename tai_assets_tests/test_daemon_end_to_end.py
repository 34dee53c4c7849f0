"""End to end with the real daemon: the simulator serves; the code server and `dagster-daemon`,
started exactly as `./tai run` starts them, tick the polling sensors and launch ingest runs on
the project's instance config (run workers forked from the code server's forkserver), and the
warehouse fills."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.scheduler.instigation import InstigatorType, TickStatus

from tai_assets.common.ports import free_port
from tai_assets.dagster_internals.event_log import KEPT_RUN_EVENTS
from tai_assets.dagster_internals.ticks import last_tick_time
from tai_assets.defs.polling.freshness import FRESHNESS_CHECKS, newest_delivered_poll
from tai_assets.deploy.serve import code_server_ready, commands, stop_processes
from tai_assets.instance.config import render_instance_config
from tai_assets.settings import PROJECT_DIR
from tai_assets.simulator.launch import start_process, tai_environment
from tai_assets_tests.support.deployment import forkservers_of
from tai_assets_tests.support.postgres import fresh_database

DEADLINE_SECONDS = 240
TICK_RETENTION_SECONDS = 15  # a quarter of a minute: the setting takes fractions


@pytest.fixture
def simulator_process():
    process, ports = start_process(speed=60)
    yield ports
    process.terminate()
    process.wait(timeout=30)


def successful_ingest_runs(instance: dg.DagsterInstance) -> dict[str, int]:
    """Return how many ingest runs succeeded, by the sensor that requested them."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={"tai/kind": "ingest"}, statuses=[dg.DagsterRunStatus.SUCCESS])
    )
    counts: dict[str, int] = {}
    for record in records:
        source = record.dagster_run.tags.get("tai/requested_by", "?")
        counts[source] = counts.get(source, 0) + 1
    return counts


def polling_ticks(instance: dg.DagsterInstance) -> dict[str, list]:
    """Return the ticks the instance keeps for each polling sensor."""
    ticks = {}
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.name.endswith("_poll_sensor"):
            ticks[state.name] = instance.get_ticks(state.instigator_origin_id, state.selector_id)
    return ticks


def freshness_reports(instance: dg.DagsterInstance) -> dict[str, list[dg.AssetCheckEvaluation]]:
    """Return the freshness evaluations the instance holds, newest first, per check."""
    reports = {}
    for check in FRESHNESS_CHECKS:
        history = instance.event_log_storage.get_asset_check_execution_history(check.key, 10)
        reports[check.name] = [
            record.event.asset_check_evaluation for record in history if record.event
        ]
    return reports


def ingest_run_detail(instance: dg.DagsterInstance) -> list[tuple[bool, int]]:
    """Return, per succeeded ingest run: does it still hold run detail (events other than
    asset events), how many materializations does it hold."""
    found = []
    for record in instance.get_run_records(
        filters=dg.RunsFilter(tags={"tai/kind": "ingest"}, statuses=[dg.DagsterRunStatus.SUCCESS])
    ):
        types = [
            entry.dagster_event.event_type
            for entry in instance.all_logs(record.dagster_run.run_id)
            if entry.dagster_event
        ]
        has_detail = any(event_type not in KEPT_RUN_EVENTS for event_type in types)
        found.append((has_detail, types.count(DagsterEventType.ASSET_MATERIALIZATION)))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["sqlite", "postgres"])
def test_daemon_runs_the_sensors_and_their_runs_fill_the_warehouse(
    simulator_process, tmp_path, request, monkeypatch, storage
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = "dagster.yaml"
    if storage == "postgres":
        config = "dagster-postgres.yaml"
        url = fresh_database(request.getfixturevalue("postgres_server"))
        monkeypatch.setenv("TAI_POSTGRES_URL", url)
    (home / "dagster.yaml").symlink_to(PROJECT_DIR / "deploy" / config)
    render_instance_config(home, 2)  # as the supervisor does: the queue checked every poll
    database = tmp_path / "data" / "tai.duckdb"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TAI_DATA_DIR": str(tmp_path / "data"),
        **tai_environment(simulator_process),
        "TAI_POLL_INTERVAL_SECONDS": "2",
        "TAI_POLL_BATCH": "2",
        "TAI_TICK_RETENTION_MINUTES": str(TICK_RETENTION_SECONDS / 60),
        "TAI_FRESHNESS_MINUTES": "1",
        "TAI_RUN_DETAIL_RETENTION_MINUTES": "0",
    }
    subprocess.run(
        [sys.executable, "-m", "tai_assets.instance.prepare"], env=env, check=True, cwd=PROJECT_DIR
    )
    code_port, web_port = free_port(), free_port()
    env["TAI_CODE_SERVER_PORT"] = str(code_port)  # the daemon's workspace reads it
    code_server_command, daemon_command, _webserver = commands(code_port, web_port, "info")
    processes = []
    for command in (code_server_command, daemon_command):
        processes.append(
            subprocess.Popen(
                command,
                env=env,
                cwd=PROJECT_DIR,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        while command is code_server_command and not code_server_ready(code_port):
            assert processes[0].poll() is None, "the code server did not start"
            time.sleep(1)
    started = time.monotonic()
    os.environ["DAGSTER_HOME"], previous_home = str(home), os.environ.get("DAGSTER_HOME")
    try:
        with dg.DagsterInstance.get() as instance:
            deadline = time.monotonic() + DEADLINE_SECONDS
            counts = {}
            while time.monotonic() < deadline:
                counts = successful_ingest_runs(instance)
                if sum(counts.values()) >= 4:
                    break
                time.sleep(3)
            # Past the tick retention, each batch purges the sensor's older ticks.
            time.sleep(max(0.0, started + TICK_RETENTION_SECONDS + 30 - time.monotonic()))
            ticks = polling_ticks(instance)
            checked_at = time.time()
            last_ticks = {name: last_tick_time(instance, name) for name in ticks}
            freshness = freshness_reports(instance)
            delivered = {c.name: newest_delivered_poll(instance, c.asset) for c in FRESHNESS_CHECKS}
            detail = ingest_run_detail(instance)
            failed = instance.get_run_records(
                filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE])
            )
            forkservers = forkservers_of(processes[0].pid)
    finally:
        # As `./tai run` stops them: SIGTERM, then SIGKILL after the grace period. The code
        # server waits for the runs it started before it exits.
        stop_processes(processes)
        if previous_home is None:
            os.environ.pop("DAGSTER_HOME")
        else:
            os.environ["DAGSTER_HOME"] = previous_home

    # Either sensor's full batch requests a run, which takes both sources' polls.
    assert sum(counts.values()) >= 4 and set(counts) <= {"server", "worlds"}, counts
    # The runs were started by the code server's forkserver, which has tai already imported.
    assert len(forkservers) == 1, forkservers
    assert failed == []
    with duckdb.connect(str(database), read_only=True) as conn:
        polls = conn.execute("SELECT count(*) FROM raw.raw_server_polls").fetchall()[0][0]
        sessions = conn.execute("SELECT count(*) FROM core.player_sessions").fetchall()[0][0]
        worlds = conn.execute("SELECT count(*) FROM core.worlds_online").fetchall()[0][0]
        statuses = conn.execute("SELECT DISTINCT status FROM raw.raw_server_polls").fetchall()
    assert polls >= 4 and sessions > 0 and worlds > 0
    assert ("ok",) in statuses

    assert set(ticks) == {"server_poll_sensor", "world_poll_sensor"}
    # What the freshness checks read: the last tick of a polling sensor is seconds old.
    now = datetime.fromtimestamp(checked_at, UTC).replace(tzinfo=None)
    for name, last in last_ticks.items():
        assert last is not None and (now - last).total_seconds() < 20, (name, last, now)
    # The freshness sensor recorded both checks without a run (its first verdicts, then each
    # change); what it reads of the warehouse, the newest poll delivered, is in the instance.
    assert all(reports for reports in freshness.values()), freshness
    assert all(newest is not None for newest in delivered.values()), delivered
    # Detail retention 0: each batch thinned the runs that had already succeeded; every run
    # keeps its materializations: three for each source it found polls of in the spool (none
    # for a source an earlier run had emptied), and one run a batch takes both.
    assert any(not has_detail for has_detail, _ in detail), detail
    assert all(materializations in (0, 3, 6) for _, materializations in detail), detail
    assert any(materializations == 6 for _, materializations in detail), detail
    for name, kept in ticks.items():
        # Ticks from the start, retention + 30 s and more ago; only the last retention (plus a
        # batch) is kept.
        assert kept, name
        oldest = min(tick.timestamp for tick in kept if tick.status != TickStatus.FAILURE)
        assert checked_at - oldest < TICK_RETENTION_SECONDS + 15, (name, checked_at - oldest)
