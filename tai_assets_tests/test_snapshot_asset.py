"""The players_snapshot assets end to end: simulator on loopback, a real DuckDB file."""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tai_assets.defs.players.assets import SNAPSHOT_ASSETS, WEEKLY_PARTITIONS
from tai_assets.defs.players.resources import TrainingApiResource
from tai_assets.defs.resources import WarehouseResource
from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig
from tai_assets.sources.training_api.staging import PageStage
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager

START = datetime(2026, 11, 9, tzinfo=UTC)
WEEK_1 = "2026-11-02"
WEEK_2 = "2026-11-09"


def _resources(base_url: str, tmp_path, **api):
    database = str(tmp_path / "tai.duckdb")
    settings = {"min_interval_seconds": 0.0, "backoff_initial_seconds": 0.01, **api}
    return {
        "training_api": TrainingApiResource(
            base_url=base_url, staging_dir=str(tmp_path / "staging"), **settings
        ),
        "warehouse": WarehouseResource(database=database),
        "io_manager": TaiWarehouseIOManager(database=database),
    }


def _checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _query(tmp_path, sql, params=()):
    with duckdb.connect(str(tmp_path / "tai.duckdb"), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


@pytest.fixture
def simulator():
    sim = Simulator(SimulatorConfig(seed=5, accounts=300, per_page=100), clock=ManualClock(START))
    with sim.serve(host="127.0.0.1") as running:
        yield sim, running.http_base_url


def test_normal_crawl_materializes_the_partition(simulator, tmp_path):
    sim, base_url = simulator
    resources = _resources(base_url, tmp_path)
    result = dg.materialize(SNAPSHOT_ASSETS, partition_key=WEEK_1, resources=resources)
    assert result.success
    checks = _checks(result)
    assert set(checks) == {
        "id_unique",
        "row_count_matches_api_total",
        "regdate_not_after_lastlogin",
        "no_big_drop_vs_previous",
        "quarantine_rate",
    }
    assert all(c.passed for c in checks.values()), checks
    rows = _query(
        tmp_path,
        "SELECT count(*), count(DISTINCT id), min(snapshot_week), min(snapshot_time) "
        "FROM core.players_snapshot",
    )
    assert rows[0][:3] == (300, 300, datetime(2026, 11, 2).date())
    # The IO manager reads the partition back as a polars frame.
    defs = dg.Definitions(assets=SNAPSHOT_ASSETS, resources=resources)
    snapshot = defs.load_asset_value("players_snapshot", partition_key=WEEK_1)
    assert snapshot.height == 300 and snapshot["id"].n_unique() == 300
    quarantine = defs.load_asset_value("players_snapshot_quarantine", partition_key=WEEK_1)
    assert quarantine.height == 0
    assert _query(tmp_path, "SELECT count(*) FROM core.players_snapshot_quarantine") == [(0,)]
    # Staging is transient: gone once the partition is written.
    assert not PageStage(tmp_path / "staging", WEEK_1).directory.exists()
    pages = result.asset_materializations_for_node("players_snapshot_pages")[0]
    assert pages.metadata["pages"].value == 3

    # A manual re-run of the partition crawls again and replaces it (not appends).
    sim.stats.reset()
    again = dg.materialize(SNAPSHOT_ASSETS, partition_key=WEEK_1, resources=resources)
    assert again.success and sum(sim.stats.page_served.values()) == 3 + 1  # + head re-read
    assert _query(tmp_path, "SELECT count(*) FROM core.players_snapshot") == [(300,)]

    # A snapshot with far fewer players than the previous one warns (partial crawl here).
    smaller = dg.materialize(
        SNAPSHOT_ASSETS,
        partition_key=WEEK_2,
        resources=resources,
        run_config={"ops": {"players_snapshot_pages": {"config": {"max_pages": 2}}}},
    )
    checks = _checks(smaller)
    assert not checks["no_big_drop_vs_previous"].passed
    assert checks["no_big_drop_vs_previous"].severity == dg.AssetCheckSeverity.WARN
    assert not checks["row_count_matches_api_total"].passed
    assert _query(
        tmp_path,
        "SELECT snapshot_week, count(*) FROM core.players_snapshot GROUP BY 1 ORDER BY 1",
    ) == [(datetime(2026, 11, 2).date(), 300), (datetime(2026, 11, 9).date(), 200)]


def test_malformed_records_land_in_quarantine_and_fail_the_check(simulator, tmp_path):
    sim, base_url = simulator
    sim.faults.malformed_record_rate = 0.05
    result = dg.materialize(
        SNAPSHOT_ASSETS, partition_key=WEEK_1, resources=_resources(base_url, tmp_path)
    )
    assert result.success  # never fatal for the crawl
    check = _checks(result)["quarantine_rate"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    ((stored, quarantined),) = _query(
        tmp_path,
        "SELECT (SELECT count(*) FROM core.players_snapshot), "
        "(SELECT count(*) FROM core.players_snapshot_quarantine)",
    )
    assert quarantined > 0 and stored + quarantined == 300
    assert _checks(result)["row_count_matches_api_total"].passed


# --- a failed run, re-executed from failure, resumes the crawl ------------------------------


def resumable_snapshot_job() -> dg.JobDefinition:
    """The snapshot job, in-process, wired from env vars the test sets (reconstructable)."""
    tmp_path = os.environ["TAI_TEST_SNAPSHOT_DIR"]
    resources = _resources(
        os.environ["TAI_TEST_SNAPSHOT_API"],
        Path(tmp_path),
        max_attempts=int(os.environ["TAI_TEST_SNAPSHOT_ATTEMPTS"]),
    )
    job = dg.define_asset_job(
        "snapshot_resume_test",
        selection=dg.AssetSelection.assets(*SNAPSHOT_ASSETS),
        partitions_def=WEEKLY_PARTITIONS,
        executor_def=dg.in_process_executor,
    )
    defs = dg.Definitions(assets=SNAPSHOT_ASSETS, jobs=[job], resources=resources)
    return defs.resolve_job_def("snapshot_resume_test")


def test_failed_run_reexecuted_fetches_each_remaining_page_once(tmp_path, monkeypatch):
    sim = Simulator(SimulatorConfig(seed=7, accounts=800, per_page=100), clock=ManualClock(START))
    with sim.serve(host="127.0.0.1") as running, dg.instance_for_test() as instance:
        monkeypatch.setenv("TAI_TEST_SNAPSHOT_DIR", str(tmp_path))
        monkeypatch.setenv("TAI_TEST_SNAPSHOT_API", running.http_base_url)
        monkeypatch.setenv("TAI_TEST_SNAPSHOT_ATTEMPTS", "2")
        sim.faults.fail_page(4, times=2, status=503)  # the run dies at page 4
        job = dg.reconstructable(resumable_snapshot_job)
        first = dg.execute_job(job, instance, tags={"dagster/partition": WEEK_1})
        assert not first.success
        failure = first.failure_data_for_node("players_snapshot_pages")
        assert "page 4" in str(failure.error.cause or failure.error)
        assert sorted(sim.stats.page_served) == [1, 2, 3]

        options = dg.ReexecutionOptions.from_failure(first.run_id, instance)
        second = dg.execute_job(
            job, instance, reexecution_options=options, tags={"dagster/partition": WEEK_1}
        )
        assert second.success
    served = {p: sim.stats.page_served[p] for p in range(1, 9)}
    assert served == {**dict.fromkeys(range(1, 9), 1), 1: 2}  # page 1: + the head re-read
    assert {p: sim.stats.page_requests[p] for p in (1, 2, 3)} == {1: 2, 2: 1, 3: 1}  # + head
    assert sim.stats.page_requests[4] == 3  # two failed attempts, then once
    materialized = second.asset_materializations_for_node("players_snapshot_pages")[0]
    assert materialized.metadata["pages_resumed"].value == 3
    assert _query(tmp_path, "SELECT count(*) FROM core.players_snapshot") == [(800,)]


def test_drift_429_and_5xx_through_the_asset(tmp_path):
    config = SimulatorConfig(
        seed=9, accounts=390, per_page=100, register_every_requests=1, register_batch=5
    )
    sim = Simulator(config, clock=ManualClock(START))
    with sim.serve(host="127.0.0.1") as running:
        sim.faults.http_429_next(2, retry_after=1, endpoint="user")
        sim.faults.http_5xx_next(2, 503, endpoint="user")
        result = dg.materialize(
            SNAPSHOT_ASSETS,
            partition_key=WEEK_1,
            resources=_resources(running.http_base_url, tmp_path),
        )
    assert result.success
    assert all(c.passed for c in _checks(result).values()), _checks(result)
    crawl_meta = result.asset_materializations_for_node("players_snapshot_pages")[0].metadata
    assert crawl_meta["http_429"].value == 2 and crawl_meta["http_5xx"].value == 2
    assert crawl_meta["drift_events"].value > 0
    snapshot = next(
        m
        for m in result.asset_materializations_for_node("players_snapshot_write")
        if m.asset_key == dg.AssetKey("players_snapshot")
    )
    assert snapshot.metadata["duplicates_removed"].value > 0
    ((rows, distinct, oldest),) = _query(
        tmp_path, "SELECT count(*), count(DISTINCT id), min(id) FROM core.players_snapshot"
    )
    assert rows == distinct and oldest == 1
