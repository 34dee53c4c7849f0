"""The crawler against the simulator's training API on loopback (no Dagster involved)."""

import time
from datetime import UTC, date, datetime

import pytest

from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig
from tai_assets.sources.training_api.assemble import assemble_snapshot
from tai_assets.sources.training_api.crawler import crawl
from tai_assets.sources.training_api.fetch import CrawlSettings, PageFetchError, TrainingApiClient
from tai_assets.sources.training_api.staging import PageStage

START = datetime(2026, 11, 9, tzinfo=UTC)
WEEK = date(2026, 11, 2)
FAST = CrawlSettings(min_interval_s=0.0, max_attempts=10, backoff_initial_s=0.01)


def _serve(**config):
    sim = Simulator(SimulatorConfig(seed=3, **config), clock=ManualClock(start=START))
    return sim, sim.serve(host="127.0.0.1")


def _crawl(base_url, stage, settings=FAST, run_family="run-1", max_pages=None):
    manifest = stage.begin(run_family, START, fresh=False)
    with TrainingApiClient(base_url, settings) as client:
        return crawl(client, stage, manifest, max_pages=max_pages)


def test_normal_crawl_stages_every_page_once(tmp_path):
    sim, server = _serve(accounts=250, per_page=100)
    with server as running:
        stage = PageStage(tmp_path, "2026-11-02")
        result = _crawl(running.http_base_url, stage)
    assert [p.page for p in result.pages if not p.reread] == [1, 2, 3]
    assert result.pages_fetched == 3 and not result.partial and result.drift.events == []
    # Nobody registered: one look at the head again shows nothing new, and the crawl ends.
    assert result.head_pages_reread == 1
    assert dict(sim.stats.page_requests) == {1: 2, 2: 1, 3: 1}
    snapshot = assemble_snapshot(stage, WEEK, START)
    assert snapshot.frame.height == 250 and snapshot.duplicates == 0
    assert snapshot.frame["id"].to_list() == list(range(1, 251))


def test_min_interval_is_respected(tmp_path):
    _sim, server = _serve(accounts=300, per_page=100)
    with server as running:
        started = time.monotonic()
        _crawl(running.http_base_url, PageStage(tmp_path, "w"), CrawlSettings(min_interval_s=0.3))
        elapsed = time.monotonic() - started
    assert elapsed >= 0.6  # three requests, two gaps


def test_429_storm_honours_retry_after(tmp_path):
    sim, server = _serve(accounts=200, per_page=100)
    with server as running:
        sim.faults.http_429_next(5, retry_after=0, endpoint="user")
        sim.faults.http_429_next(1, retry_after=1, endpoint="user")
        sim.faults.http_429_next(1, retry_after=1, as_http_date=True, endpoint="user")
        started = time.monotonic()
        result = _crawl(running.http_base_url, PageStage(tmp_path, "w"))
        elapsed = time.monotonic() - started
    assert result.fetch_stats.rate_limited == 7
    assert result.fetch_stats.waited_s >= 1.0 + 0.5  # 1 s, then an HTTP date ≥ 1 s ahead
    assert elapsed >= 1.5
    # Each page served once, and page 1 once more: the head re-read that ends the crawl.
    assert sim.stats.page_served[1] == 2 and sim.stats.page_served[2] == 1


def test_5xx_streak_is_retried_then_gives_up_naming_the_page(tmp_path):
    sim, server = _serve(accounts=200, per_page=100)
    with server as running:
        sim.faults.http_5xx_next(4, 503, endpoint="user")
        result = _crawl(running.http_base_url, PageStage(tmp_path, "a"))
        assert result.fetch_stats.server_errors == 4 and len(result.pages) == 2

        sim.faults.fail_page(2, times=5, status=502)
        settings = CrawlSettings(min_interval_s=0.0, max_attempts=3, backoff_initial_s=0.01)
        with pytest.raises(PageFetchError, match=r"page 2: gave up after 3 attempts.*HTTP 502"):
            _crawl(running.http_base_url, PageStage(tmp_path, "b"), settings)


def test_registrations_during_the_crawl_shift_pages(tmp_path):
    # Every request registers 7 accounts; pages list the newest first, so every page shifts.
    _sim, server = _serve(accounts=590, per_page=100, register_every_requests=1, register_batch=7)
    with server as running:
        stage = PageStage(tmp_path, "w")
        result = _crawl(running.http_base_url, stage)
    assert result.drift.events, "the drift must be noticed"
    assert result.drift.final_last_page > result.drift.first_last_page
    snapshot = assemble_snapshot(stage, WEEK, START)
    assert snapshot.duplicates > 0
    assert snapshot.frame["id"].is_unique().all()
    # Everyone who existed when the crawl *ended* is there: those who registered while it ran
    # landed on pages already read, and the head re-read picked them up.
    final_total = result.drift.last_total
    assert final_total > 590 + 7 * 6  # at least one registration batch per page of the pass
    assert set(snapshot.frame["id"].to_list()) == set(range(1, final_total + 1))
    assert any(page.reread for page in stage.pages())


def test_killed_crawl_resumes_fetching_each_remaining_page_once(tmp_path):
    sim, server = _serve(accounts=1000, per_page=100)
    with server as running:
        stage = PageStage(tmp_path, "w")
        sim.faults.fail_page(5, times=3, status=500)
        failing = CrawlSettings(min_interval_s=0.0, max_attempts=3, backoff_initial_s=0.01)
        with pytest.raises(PageFetchError, match="page 5"):
            _crawl(running.http_base_url, stage, failing)
        assert [p.page for p in stage.pages()] == [1, 2, 3, 4]
        result = _crawl(running.http_base_url, stage)  # same run family: resume
    assert result.pages_resumed == 4 and result.fetched_page_numbers == list(range(5, 11))
    served = {page: sim.stats.page_served[page] for page in range(1, 11)}
    assert served == {**dict.fromkeys(range(1, 11), 1), 1: 2}  # page 1: + the head re-read
    assert sim.stats.page_requests[5] == 4  # three failures, then once
    assert assemble_snapshot(stage, WEEK, START).frame.height == 1000


def test_malformed_records_are_quarantined_not_fatal(tmp_path):
    sim, server = _serve(accounts=400, per_page=100)
    with server as running:
        sim.faults.malformed_record_rate = 0.05
        stage = PageStage(tmp_path, "w")
        _crawl(running.http_base_url, stage)
    snapshot = assemble_snapshot(stage, WEEK, START)
    quarantine = snapshot.quarantine
    assert quarantine.height > 0
    assert snapshot.frame.height + quarantine.height == 400
    reasons = " ".join(quarantine["reason"].to_list())
    assert "id" in reasons
    assert quarantine["record"].null_count() == 0


def test_progress_is_reported_with_rate_and_eta(tmp_path):
    _sim, server = _serve(accounts=500, per_page=100)
    reports = []
    settings = CrawlSettings(min_interval_s=0.05, progress_interval_s=0.01)
    with server as running:
        stage = PageStage(tmp_path, "w")
        manifest = stage.begin("run-1", START, fresh=False)
        with TrainingApiClient(running.http_base_url, settings) as client:
            crawl(client, stage, manifest, on_progress=reports.append)
    assert len(reports) >= 3
    middle = reports[1]
    assert middle.pages_total == 5 and 0 < middle.pages_done < 5
    assert middle.rate_pages_per_s > 0 and middle.eta_s is not None
    assert "pages/s, ETA" in middle.describe()
    assert reports[-1].as_metadata()["pages_done"] == 5
