"""Keeping the Dagster instance small: succeeded runs thinned to their asset events, old runs
and check executions purged, on the deployment's own instance config (SQLite, one consolidated
event log)."""

import os
import subprocess
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.remote_origin import (
    GrpcServerCodeLocationOrigin,
    RemoteInstigatorOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    SensorInstigatorData,
)

from tai_assets.core.spool import PollSpool
from tai_assets.dagster_internals.event_log import (
    KEPT_RUN_EVENTS,
    purge_old_check_evaluations,
    thin_succeeded_runs,
)
from tai_assets.dagster_internals.ticks import SERVER_SENSOR, sensor_states
from tai_assets.definitions import build_definitions
from tai_assets.defs.polling.freshness import SERVER_FRESHNESS
from tai_assets.defs.polling.sensors import PollingCursor
from tai_assets.instance.config import render_instance_config
from tai_assets.instance.dead_runs import (
    STARTING_TIMEOUT_SECONDS,
    fail_dead_runs,
    worker_is_gone,
)
from tai_assets.instance.housekeeping import purge_old_runs
from tai_assets.instance.prepare import LEGACY_POOL, prepare_instance
from tai_assets.settings import LOCATION_NAME, PROJECT_DIR, Settings
from tai_assets_tests.support.postgres import fresh_database

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
INGEST = {"tai/kind": "ingest"}


@pytest.fixture(params=["sqlite", "postgres"])
def instance(request, tmp_path, monkeypatch):
    """tai's instance as deploy/ configures it: SQLite in DAGSTER_HOME, or PostgreSQL."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = "dagster.yaml"
    if request.param == "postgres":
        config = "dagster-postgres.yaml"
        server = request.getfixturevalue("postgres_server")
        monkeypatch.setenv("TAI_POSTGRES_URL", fresh_database(server))
    (home / "dagster.yaml").symlink_to(PROJECT_DIR / "deploy" / config)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("TAI_DATA_DIR", str(tmp_path / "data"))
    with dg.DagsterInstance.get() as instance:
        yield instance


def ingest_run(instance: dg.DagsterInstance, first_minute: int) -> str:
    polls = [
        {
            "polled_at": (T0 + timedelta(minutes=first_minute + k)).isoformat(),
            "status": "ok",
            "online": 2,
            "max_players": 300,
            "hostname": "TRAINING SANDBOX",
            "player_names": ["Vasya", "Петя"][: 1 + k % 2],
        }
        for k in range(3)
    ]
    settings = Settings.from_env()
    PollSpool(settings.spool_path).append("server", polls)
    job = build_definitions(settings).resolve_job_def("ingest_polls_job")
    result = job.execute_in_process(instance=instance, tags={"tai/requested_by": "server"})
    assert result.success
    return result.run_id


def event_types(instance: dg.DagsterInstance, run_id: str) -> set[DagsterEventType]:
    return {
        entry.dagster_event.event_type
        for entry in instance.all_logs(run_id)
        if entry.dagster_event is not None
    }


def test_thinning_keeps_run_status_and_asset_history_and_drops_run_detail(instance):
    old, recent = ingest_run(instance, 0), ingest_run(instance, 3)
    before = event_types(instance, old)
    assert {DagsterEventType.STEP_OUTPUT, DagsterEventType.RUN_SUCCESS} <= before
    assert DagsterEventType.ASSET_MATERIALIZATION_PLANNED in before
    old_finished = instance.get_run_record_by_id(old).update_timestamp
    recent_finished = instance.get_run_record_by_id(recent).update_timestamp
    assert old_finished < recent_finished

    detail = [
        entry
        for entry in instance.all_logs(old)
        if entry.dagster_event and entry.dagster_event.event_type not in KEPT_RUN_EVENTS
    ]

    between = old_finished + (recent_finished - old_finished) / 2
    assert thin_succeeded_runs(instance, INGEST, between) == len(detail) > 0

    assert event_types(instance, old) == {
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.STEP_SUCCESS,  # the UI shows the step succeeded, not "Not executed"
    }
    assert event_types(instance, recent) == before  # finished after the cutoff: untouched
    # Status and timing live in the run record, not in the deleted lifecycle events.
    record = instance.get_run_record_by_id(old)
    assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    assert record.start_time is not None and record.end_time >= record.start_time
    for asset in ("raw_server_polls", "server_online", "player_sessions"):
        history = instance.fetch_materializations(dg.AssetKey(asset), limit=10).records
        assert [record.run_id for record in history] == [recent, old]

    # Runs of another kind are not touched; thinning twice deletes nothing more.
    now = datetime.now(UTC)
    assert thin_succeeded_runs(instance, {"tai/kind": "checks"}, now) == 0
    assert thin_succeeded_runs(instance, INGEST, between) == 0


def test_purge_deletes_finished_runs_past_the_retention_with_their_events(instance):
    run_id = ingest_run(instance, 0)
    assert purge_old_runs(instance, retention_days=1, kinds=["ingest"]) == 0
    assert instance.has_run(run_id)
    assert purge_old_runs(instance, retention_days=0, kinds=["ingest"]) == 1
    assert not instance.has_run(run_id)
    assert instance.all_logs(run_id) == []


def test_purge_keeps_only_each_checks_latest_execution_past_the_retention(instance):
    for passed in (True, False, True):
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=SERVER_FRESHNESS.key.asset_key,
                check_name=SERVER_FRESHNESS.name,
                passed=passed,
            )
        )
    storage = instance.event_log_storage

    def history() -> list[bool]:
        records = storage.get_asset_check_execution_history(SERVER_FRESHNESS.key, limit=10)
        return [record.event.asset_check_evaluation.passed for record in records]

    def runless_events() -> int:
        records = instance.get_event_records(
            dg.EventRecordsFilter(DagsterEventType.ASSET_CHECK_EVALUATION), limit=10
        )
        return len(records)

    assert history() == [True, False, True] and runless_events() == 3
    assert purge_old_check_evaluations(instance, retention_days=1) == 0
    assert purge_old_check_evaluations(instance, retention_days=0) == 2
    assert history() == [True]  # the latest verdict stays, however old
    assert runless_events() == 1


def test_the_daily_purge_job_runs_in_the_code_location(instance):
    """The schedule's job, as the code location defines it (warehouse IO manager included),
    purges and thins on the deployment's instance."""
    old = ingest_run(instance, 0)
    defs = build_definitions(Settings.from_env())
    schedule = defs.resolve_schedule_def("purge_old_runs_daily")
    job = defs.resolve_job_def(schedule.job_name)
    run_config = schedule.evaluate_tick(dg.build_schedule_context()).run_requests[0].run_config
    run_config["ops"]["purge_old_runs_op"]["config"]["retention_days"] = 0
    result = job.execute_in_process(run_config=run_config, instance=instance)
    assert result.success
    assert not instance.has_run(old)


def in_progress_run(instance: dg.DagsterInstance, status, worker_pid: int | None) -> str:
    """Add a run in `status`, with the engine event naming its worker's pid (if any)."""
    run = instance.add_run(dg.DagsterRun(job_name="ingest_polls_job", status=status))
    if worker_pid is not None:
        instance.report_engine_event(f"Started process for run (pid: {worker_pid}).", run)
    return run.run_id


def test_runs_whose_worker_is_gone_are_marked_failed_and_live_ones_kept(instance):
    dead = subprocess.Popen(["true"])
    dead.wait()
    started = dg.DagsterRunStatus.STARTED
    killed = in_progress_run(instance, started, dead.pid)
    alive = in_progress_run(instance, started, os.getpid())
    launching = in_progress_run(instance, dg.DagsterRunStatus.STARTING, None)

    assert fail_dead_runs(instance) == [killed]
    # A run still STARTING without a worker after the timeout had its launch die.
    later = datetime.now(UTC) + timedelta(seconds=STARTING_TIMEOUT_SECONDS + 1)
    assert fail_dead_runs(instance, now=later) == [launching]

    status = {run_id: instance.get_run_by_id(run_id).status for run_id in (killed, alive)}
    assert status == {killed: dg.DagsterRunStatus.FAILURE, alive: started}


def test_a_worker_is_judged_against_its_launch_not_the_runs_creation():
    """A run waits in the queue before its worker starts (behind other runs, or while a
    restarted daemon comes up): a worker that started long after the run was created but
    before its launch was recorded is that run's. One that started after the launch has a
    reused pid."""
    created = 1_000_000.0
    launched = created + 40  # forty seconds in the queue
    assert not worker_is_gone(started=launched - 0.3, launched_at=launched)
    assert worker_is_gone(started=launched + 30, launched_at=launched)  # the pid, reused
    assert worker_is_gone(started=None, launched_at=launched)  # no such process


def test_preparing_the_instance_fails_orphans_and_removes_the_legacy_pool(instance):
    instance.event_log_storage.set_concurrency_slots(LEGACY_POOL, 1)
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = in_progress_run(instance, dg.DagsterRunStatus.STARTED, dead.pid)

    spool = PollSpool(Settings.from_env().spool_path)
    assert prepare_instance(instance, spool) == ([orphan], 0)
    assert LEGACY_POOL not in instance.event_log_storage.get_concurrency_keys()


def polling_sensor_state(location: str | None, cursor: PollingCursor) -> InstigatorState:
    """A stored server-sensor state of code location `location` (None: the name earlier
    versions' daemon gave it, from the gRPC host and port)."""
    code_location = GrpcServerCodeLocationOrigin(
        host="127.0.0.1", port=4266, location_name=location
    )
    origin = RemoteInstigatorOrigin(
        RemoteRepositoryOrigin(code_location, "__repository__"), SERVER_SENSOR
    )
    data = SensorInstigatorData(cursor=cursor.encode())
    return InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus.RUNNING, data)


def test_polls_in_an_earlier_locations_cursor_reach_the_spool(instance):
    held = [{"polled_at": T0.isoformat(), "status": "ok", "online": 1, "player_names": ["Ž"]}]
    old = polling_sensor_state(None, PollingCursor(requested_through=7, unspooled=held))
    current = polling_sensor_state(LOCATION_NAME, PollingCursor(requested_through=9))
    instance.add_instigator_state(old)
    instance.add_instigator_state(current)
    assert old.instigator_data.cursor != current.instigator_data.cursor
    assert old.origin.repository_origin.code_location_origin.location_name.startswith("grpc:")
    spool = PollSpool(Settings.from_env().spool_path)

    assert prepare_instance(instance, spool) == ([], 1)

    assert [p.record for p in spool.pending("server")] == held
    assert [s.selector_id for s in sensor_states(instance, SERVER_SENSOR)] == [current.selector_id]
    # Preparing again moves nothing twice.
    assert prepare_instance(instance, spool) == ([], 0)
    assert len(spool.pending("server")) == 1


def test_the_instance_sends_no_telemetry_and_shows_no_newsletter_pop_up(instance):
    assert instance.telemetry_enabled is False
    assert instance.nux_enabled is False


@pytest.mark.parametrize(("poll_seconds", "queue_seconds"), [(2, 2), (10, 10), (60, 30)])
def test_the_run_queue_is_checked_as_often_as_polls_are_taken(
    tmp_path, monkeypatch, poll_seconds, queue_seconds
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    template = PROJECT_DIR / "deploy" / "dagster.yaml"
    before = template.read_text(encoding="utf-8")
    (tmp_path / "dagster.yaml").symlink_to(template)
    written = render_instance_config(tmp_path, poll_seconds)
    assert written == tmp_path / "dagster.yaml" and not written.is_symlink()
    assert template.read_text(encoding="utf-8") == before  # the link was replaced, not followed
    with dg.DagsterInstance.get() as instance:
        assert instance.run_coordinator.dequeue_interval_seconds == queue_seconds
        assert instance.run_retries_max_retries == 3  # the rest is the project file


def test_an_operators_own_instance_file_and_the_postgres_one(tmp_path):
    own = tmp_path / "dagster.yaml"
    own.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    assert render_instance_config(tmp_path, 2) is None
    assert own.read_text(encoding="utf-8") == "telemetry:\n  enabled: false\n"
    own.unlink()
    own.symlink_to(PROJECT_DIR / "deploy" / "dagster-postgres.yaml")
    render_instance_config(tmp_path, 5)
    assert "    dequeue_interval_seconds: 5\n" in own.read_text(encoding="utf-8")
