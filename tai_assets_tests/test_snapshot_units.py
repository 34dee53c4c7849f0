"""Pure parts of the snapshot: Retry-After, backoff, staging, drift, and the check functions."""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl
import pytest

from tai_assets.defs.players.assets import SNAPSHOT_ASSETS
from tai_assets.defs.players.checks import (
    check_ids_unique,
    check_no_big_drop,
    check_quarantine_rate,
    check_regdate_before_lastlogin,
    check_row_count,
)
from tai_assets.defs.players.jobs import PLAYERS_SNAPSHOT_JOB
from tai_assets.defs.players.resources import TrainingApiResource
from tai_assets.defs.players.schedules import PLAYERS_SNAPSHOT_SCHEDULE
from tai_assets.defs.resources import WarehouseResource
from tai_assets.sources.training_api.crawler import analyze_drift
from tai_assets.sources.training_api.fetch import (
    CrawlSettings,
    backoff_seconds,
    retry_after_seconds,
)
from tai_assets.sources.training_api.normalize import normalize_record, rows_to_frame
from tai_assets.sources.training_api.staging import PageStage, StagedPage, StagingBusyError
from tai_assets.warehouse import connection
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager

NOW = datetime(2026, 11, 9, 0, 0, tzinfo=UTC)


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds("7", NOW) == 7.0
    assert retry_after_seconds("Mon, 09 Nov 2026 00:00:30 GMT", NOW) == 30.0
    assert retry_after_seconds("Sun, 08 Nov 2026 23:00:00 GMT", NOW) == 0.0  # in the past
    assert retry_after_seconds(None, NOW) is None
    assert retry_after_seconds("soon", NOW) is None


def test_backoff_doubles_and_is_capped():
    settings = CrawlSettings(backoff_initial_s=1.0, backoff_max_s=5.0)
    waits = [backoff_seconds(attempt, settings) for attempt in range(1, 6)]
    assert 1.0 <= waits[0] <= 1.1 and 2.0 <= waits[1] <= 2.2 and 4.0 <= waits[2] <= 4.4
    assert all(5.0 <= w <= 5.5 for w in waits[3:])


def _entry(page, last_page=3, total=250):
    return StagedPage(page, last_page, total, 100, NOW.isoformat())


def test_staging_resumes_only_within_the_run_family(tmp_path):
    stage = PageStage(tmp_path, "2026-11-02")
    manifest = stage.begin("run-a", NOW, fresh=False)
    stage.write_page(_entry(1), b'{"data": [], "meta": {"last_page": 3}}')
    stage.write_page(_entry(2), b'{"data": [], "meta": {"last_page": 3}}')
    (stage.directory / "page-00003.json.tmp").write_bytes(b"{torn")  # a crash mid-write
    again = stage.begin("run-a", datetime(2026, 11, 9, 5, tzinfo=UTC), fresh=False)
    assert again.snapshot_time == manifest.snapshot_time  # a resumed crawl keeps its start
    assert [p.page for p in stage.pages()] == [1, 2]
    stage.begin("run-b", NOW, fresh=False)  # another run: crawls again from scratch
    assert stage.pages() == []
    stage.write_page(_entry(1), b"{}")
    stage.begin("run-b", NOW, fresh=True)
    assert stage.pages() == []


def test_staging_ignores_index_lines_without_a_page_file(tmp_path):
    stage = PageStage(tmp_path, "2026-11-02")
    stage.begin("run-a", NOW, fresh=False)
    stage.write_page(_entry(1), b"{}")
    stage.write_page(_entry(2), b"{}")
    stage.page_path(2).unlink()
    with stage.index_path.open("a") as index:
        index.write('{"page": 3, "last_p')  # torn line
    assert [p.page for p in stage.pages()] == [1]


def test_drift_report():
    pages = [_entry(1, 3, 250), _entry(2, 3, 251), _entry(3, 4, 301), _entry(4, 4, 301)]
    drift = analyze_drift(pages)
    assert drift.events == [
        "total 250 -> 251 at page 2",
        "last_page 3 -> 4 at page 3",
        "total 251 -> 301 at page 3",
    ]
    assert (drift.min_total, drift.max_total, drift.final_last_page) == (250, 301, 4)


def _frame(ids, regdates=None, lastlogins=None):
    n = len(ids)
    return pl.DataFrame(
        {
            "id": ids,
            "regdate": regdates or [datetime(2020, 1, 1)] * n,
            "lastlogin": lastlogins or [datetime(2021, 1, 1)] * n,
        }
    )


def test_check_functions():
    assert check_ids_unique(_frame([1, 2, 3]), 4).passed
    assert not check_ids_unique(_frame([1, 2, 2]), 0).passed

    drift = analyze_drift([_entry(1, 3, 250), _entry(2, 3, 260)])  # the crawl ended at 260
    assert check_row_count(258, 2, drift, partial=False).passed
    assert check_row_count(261, 0, drift, partial=False).passed  # one deleted during the crawl
    assert not check_row_count(250, 0, drift, partial=False).passed  # ten registrations missing
    assert not check_row_count(248, 2, drift, partial=False).passed
    assert not check_row_count(260, 0, drift, partial=True).passed

    bad = _frame(
        [1, 2, 3],
        [datetime(2020, 1, 1), datetime(2022, 1, 1), None],
        [datetime(2021, 1, 1), datetime(2021, 1, 1), datetime(2021, 1, 1)],
    )
    result = check_regdate_before_lastlogin(bad)
    assert not result.passed and result.metadata["violations"].value == 1

    assert check_no_big_drop(1000, None).passed
    assert check_no_big_drop(960, (date(2026, 10, 26), 1000)).passed
    warned = check_no_big_drop(940, (date(2026, 10, 26), 1000))
    assert not warned.passed and warned.severity.value == "WARN"

    assert check_quarantine_rate(1, 1000).passed  # exactly 0.1 %
    failed = check_quarantine_rate(2, 1000)
    assert not failed.passed and failed.severity.value == "ERROR"


def test_normalised_rows_fit_the_ddl(tmp_path):
    """Rows with every kind of value (warn structs, extra JSON, NULLs) insert by name."""
    week = date(2026, 11, 2)
    raw = {
        "id": 1,
        "login": "a",
        "regdate": "2020-01-01 00:00:00",
        "warn": [{"admin": "x", "bantime": 1_600_000_000, "reason": "dm"}],
        "new_api_field": [1, 2],
    }
    rows = [
        normalize_record(raw, page=1, position=0, snapshot_week=week, snapshot_time=NOW),
        normalize_record(
            {"id": 2, "login": "b"}, page=1, position=1, snapshot_week=week, snapshot_time=NOW
        ),
    ]
    frame = rows_to_frame(rows)
    with connection.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.register("batch", frame.to_arrow())
        conn.execute("INSERT INTO core.players_snapshot BY NAME SELECT * FROM batch")
        stored = conn.execute(
            "SELECT id, extra->>'$.new_api_field[1]', warn[1].bantime, regdate "
            "FROM core.players_snapshot ORDER BY id"
        ).fetchall()
    assert stored == [
        (1, "2", datetime(2020, 9, 13, 12, 26, 40), datetime(2019, 12, 31, 21, 0)),
        (2, None, None, None),
    ]


def test_two_runs_of_one_partition_cannot_share_the_staging(tmp_path):
    stage = PageStage(tmp_path, "2026-11-02")
    # flock locks belong to the open file description: a second open conflicts even in-process.
    with stage.lock(), pytest.raises(StagingBusyError, match="2026-11-02"), stage.lock():
        pass
    with stage.lock():
        pass


def test_schedule_snapshots_the_week_that_just_ended():
    defs = dg.Definitions(
        assets=SNAPSHOT_ASSETS,
        jobs=[PLAYERS_SNAPSHOT_JOB],
        schedules=[PLAYERS_SNAPSHOT_SCHEDULE],
        resources={
            "training_api": TrainingApiResource(),
            "warehouse": WarehouseResource(database=":memory:"),
            "io_manager": TaiWarehouseIOManager(database=":memory:"),
        },
    )
    schedule = defs.resolve_schedule_def("players_snapshot_weekly")
    assert schedule.cron_schedule == "0 0 * * 1" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-09"


def test_an_absurd_retry_after_is_capped_at_a_day_and_its_poll_is_still_recorded():
    from tai_assets.core.polls import asked_to_wait_until
    from tai_assets.sources.chrono import MAX_RETRY_AFTER_SECONDS, retry_after_seconds

    assert retry_after_seconds("99999999999999") == MAX_RETRY_AFTER_SECONDS
    assert retry_after_seconds("Fri, 31 Dec 9999 23:59:59 GMT") == MAX_RETRY_AFTER_SECONDS
    assert retry_after_seconds("7") == 7.0
    record = {"polled_at": "2026-12-05T00:00:00+00:00", "retry_after_seconds": 99999999999999}
    with pytest.raises(OverflowError):
        asked_to_wait_until(record)  # what the cap prevents
    record["retry_after_seconds"] = retry_after_seconds("99999999999999")
    assert asked_to_wait_until(record).isoformat() == "2026-12-06T00:00:00+00:00"
