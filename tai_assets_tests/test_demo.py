"""The demo end to end: its seeded history, then the real deployment on it in a real headless
browser.

The seed (`python -m tai_assets.demo.seed`) plays a simulator at accelerated time through tai's
real clients, spool and ingest runs, then the analytics, all as runs in a real instance; it runs
once for the module. The first test checks what it filled; the second starts the real deployment
(supervisor, code server, daemon, webserver) on that history, and Debian's Chromium opens the
pages a newcomer opens first.

Screenshots are saved under the test's folder (printed) to be looked at; the test checks what each
page says: the location is named `tai`, no newsletter pop-up covers the page, the ingest asset
shows its row counts, the weekly digest its text, and the heatmap's picture opens; a succeeded
ingest run whose step detail was thinned away shows its step as succeeded, not "Not executed".
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pytest
from dagster._core.events import DagsterEventType

from tai_assets.dagster_internals.event_log import KEPT_RUN_EVENTS
from tai_assets.demo import screenshots
from tai_assets.settings import PROJECT_DIR
from tai_assets.simulator.launch import start_process
from tai_assets_tests.support.deployment import (
    Deployment,
    deployment_environment,
    deployment_processes,
)
from tai_assets_tests.support.services import unavailable


@dataclass(frozen=True)
class SeededDemo:
    """A seeded demo history and the live simulator its deployment polls."""

    home: Path
    data: Path
    env: dict
    seeded: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def seeded_demo(tmp_path_factory):
    """Seed one demo history for the module; keep its simulator serving until the end."""
    root = tmp_path_factory.mktemp("demo")
    home, data = root / "home", root / "data"
    home.mkdir()
    (home / "dagster.yaml").symlink_to(PROJECT_DIR / "deploy" / "dagster.yaml")
    simulator, ports = start_process(speed=60)
    # Quick batches whose step detail is thinned at once: a thinned run to open in the UI.
    env = deployment_environment(ports, home, data, interval=3, batch=2, lock_wait=15)
    env["TAI_RUN_DETAIL_RETENTION_MINUTES"] = "0"
    try:
        # Eight days hold a complete Monday-to-Sunday week: there is a weekly digest; a poll
        # every 10 simulated minutes fills every page. The 68 days before them, polled hourly,
        # give churn (regulars who took a break of a month) its two months.
        seed = [sys.executable, "-m", "tai_assets.demo.seed", "--days", "8", "--interval", "600",
                "--older-days", "68", "--older-interval", "3600"]  # fmt: skip
        seeded = subprocess.run(
            seed, env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600
        )
        yield SeededDemo(home, data, env, seeded)
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)


@pytest.mark.slow
def test_the_demo_seed_fills_every_asset_with_real_content(seeded_demo, monkeypatch):
    done, data, home = seeded_demo.seeded, seeded_demo.data, seeded_demo.home
    assert done.returncode == 0, done.stderr[-3000:]
    assert "FAILED" not in done.stdout, done.stdout
    assert "history ready" in done.stdout
    with duckdb.connect(str(data / "tai.duckdb"), read_only=True) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in (
                "core.player_sessions", "core.world_sessions", "core.server_online",
                "core.worlds_online", "core.players_snapshot", "analytics.daily_activity",
                "analytics.daily_digest", "analytics.genre_popularity", "analytics.world_tags",
                "analytics.player_profiles", "analytics.player_retention",
                "analytics.player_base", "analytics.online_heatmap_recent",
                "analytics.name_history", "analytics.player_churn",
            )
        }  # fmt: skip
        players, sessions = conn.execute(
            "SELECT count(DISTINCT player), count(*) FROM core.player_sessions"
        ).fetchall()[0]
        churned = conn.execute("SELECT sum(churned) FROM analytics.player_churn").fetchone()[0]
        weeks = conn.execute(
            "SELECT count(DISTINCT snapshot_week) FROM core.players_snapshot"
        ).fetchone()
        digest = conn.execute("SELECT markdown FROM analytics.daily_digest").fetchall()[0][0]
    assert all(counts.values()), counts
    assert churned > 0  # regulars who took a break of a month
    assert weeks == (2,)  # two weekly snapshots, between which some accounts renamed
    assert sessions > players  # people left and came back: sessions split as in life
    assert "Никто не играл" not in digest and "Пик онлайна:** нет данных" not in digest
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert runs and all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
        assert {"ingest_polls_job", "analytics_daily_job", "players_snapshot_job"} <= {
            run.job_name for run in runs
        }


def wait_for_webserver(url: str, seconds: float = 180) -> None:
    """Wait until the Dagster webserver at `url` answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"no webserver at {url} after {seconds} s")


def thinned_ingest_run(home, seconds: float = 180) -> str:
    """Wait for a succeeded ingest run of the deployment at `home` whose step detail the
    sensors thinned away (only KEPT_RUN_EVENTS left); return its run id."""
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for record in instance.get_run_records(
                    filters=dg.RunsFilter(
                        tags={"tai/kind": "ingest"}, statuses=[dg.DagsterRunStatus.SUCCESS]
                    )
                ):
                    run_id = record.dagster_run.run_id
                    types = {
                        e.dagster_event.event_type
                        for e in instance.all_logs(run_id)
                        if e.dagster_event
                    }
                    if DagsterEventType.STEP_SUCCESS in types and types <= set(KEPT_RUN_EVENTS):
                        return run_id
                time.sleep(3)
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME")
        else:
            os.environ["DAGSTER_HOME"] = previous
    raise AssertionError(f"no thinned ingest run after {seconds} s")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_demo_shows_lineage_assets_a_digest_and_a_picture(seeded_demo, tmp_path):
    if screenshots.chromium() is None:
        unavailable("no Chromium installed (apt-get install chromium)")
    home, env, seeded = seeded_demo.home, seeded_demo.env, seeded_demo.seeded
    assert seeded.returncode == 0 and "FAILED" not in seeded.stdout, seeded.stdout[-2000:]
    deployment = Deployment(env, tmp_path / "deployment.log")
    try:
        deployment.start()
        url = f"http://127.0.0.1:{env['TAI_WEB_PORT']}"
        wait_for_webserver(url)
        run_id = thinned_ingest_run(home)
        run_page = screenshots.Page(
            "thinned_ingest_run", f"/runs/{run_id}", "ingest_", settle_seconds=3.0
        )
        seen = screenshots.take_all(url, tmp_path / "screenshots", (*screenshots.PAGES, run_page))
    finally:
        if deployment.supervisor is not None:
            deployment.stop()
        for pid in deployment_processes(home):
            os.kill(pid, 9)
    print(f"\nscreenshots in {tmp_path / 'screenshots'}")

    texts = {name: page.text for name, page in seen.items()}
    for name, text in texts.items():
        png = tmp_path / "screenshots" / f"{name}.png"
        assert png.stat().st_size > 20_000, name  # a rendered page, not a blank one
        assert "Join the Dagster community" not in text, name  # no newsletter pop-up
        assert "grpc:" not in text, name
    assert {"polling", "analytics", "players", "exports"} <= set(texts["lineage"].split())
    assert "raw_server_polls" in texts["sessions_lineage"]
    ingest = texts["ingest_asset"]
    assert "rows_written" in ingest and "Code location\ntai" in ingest, ingest[:2000]
    assert "Итоги недели" in texts["weekly_digest"] and "Пиковые часы" in texts["weekly_digest"]
    # The heatmap's Markdown opened (a dialog with Copy/Close) and shows the picture.
    assert "Copy" in texts["heatmap_picture"] and seen["heatmap_picture"].pictures == 1
    run = texts["thinned_ingest_run"]
    assert "Success" in run and "Not executed" not in run, run[:3000]
