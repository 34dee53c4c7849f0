"""The demo end to end: `./tai demo` beside a real configuration, on a seeded history, in a
real headless browser.

The seed (`python -m tai_assets.demo.seed`) plays a simulator at accelerated time through tai's
real clients, spool and ingest runs, then the analytics, all as runs in a real instance; it runs
once for the module, into the demo's folders of a copy of the project tree (links to this
checkout's files and .venv, so that the test's `.env` is that tree's, never this checkout's).
The first test checks what it filled. The second writes a `.env` there that points tai at a real
warehouse, spool, data folder and ports (and exports a warehouse path, as an operator's shell
might), runs `./tai demo` (its simulator, then the real deployment: supervisor, code server,
daemon, webserver), and checks that the demo polls at its own pace into its own folder and
listens on its own port only; then Debian's Chromium opens the pages a newcomer opens first.

Screenshots are saved under the test's folder (printed) to be looked at; the test checks what each
page says: the location is named `tai`, no newsletter pop-up covers the page, the ingest asset
shows its row counts, the weekly digest its text, and the heatmap's picture opens; a succeeded
ingest run whose step detail was thinned away shows its step as succeeded, not "Not executed".
"""

import os
import signal
import sqlite3
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

from tai_assets.common.ports import free_port
from tai_assets.dagster_internals.event_log import KEPT_RUN_EVENTS
from tai_assets.demo import screenshots
from tai_assets.settings import PROJECT_DIR
from tai_assets.simulator.launch import start_process, tai_environment
from tai_assets_tests.support.deployment import deployment_processes
from tai_assets_tests.support.services import unavailable

LINKED = ["tai_assets", "deploy", "sql", "pyproject.toml", "requirements.lock", "workspace.yaml"]


def project_copy(root: Path) -> Path:
    """Return a project tree at `root` made of links to this checkout (the script copied)."""
    root.mkdir()
    for name in LINKED:
        (root / name).symlink_to(PROJECT_DIR / name)
    (root / ".venv").symlink_to(PROJECT_DIR / ".venv")
    (root / "tai").write_bytes((PROJECT_DIR / "tai").read_bytes())
    (root / "tai").chmod(0o755)
    return root


@dataclass(frozen=True)
class SeededDemo:
    """A project tree whose demo history is seeded (`./tai demo` will not seed it again)."""

    tree: Path
    home: Path  # the demo's DAGSTER_HOME in that tree
    data: Path  # the demo's data folder in that tree
    seeded: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def seeded_demo(tmp_path_factory):
    """Seed one demo history, for the module, where `./tai demo` of a project copy keeps it."""
    tree = project_copy(tmp_path_factory.mktemp("demo") / "tree")
    home, data = tree / ".dagster_home" / "demo", tree / "data" / "demo"
    home.mkdir(parents=True)
    (home / "dagster.yaml").symlink_to(PROJECT_DIR / "deploy" / "dagster.yaml")
    simulator, ports = start_process(speed=60)
    env = {**os.environ, **tai_environment(ports), "DAGSTER_HOME": str(home)}
    env["TAI_DATA_DIR"] = str(data)
    try:
        # Eight days hold a complete Monday-to-Sunday week: there is a weekly digest; a poll
        # every 10 simulated minutes fills every page. The 68 days before them, polled hourly,
        # give churn (regulars who took a break of a month) its two months.
        seed = [sys.executable, "-m", "tai_assets.demo.seed", "--days", "8", "--interval", "600",
                "--older-days", "68", "--older-interval", "3600"]  # fmt: skip
        seeded = subprocess.run(
            seed, env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600
        )
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)
    (data / "seeded").touch()  # what `./tai demo` looks for
    return SeededDemo(tree, home, data, seeded)


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


def newest_spooled(spool: Path) -> int:
    """Return the newest entry of the spool at `spool` (0 while it holds none)."""
    if not spool.exists():
        return 0
    with sqlite3.connect(spool) as conn:
        try:
            return conn.execute("SELECT coalesce(max(seq), 0) FROM polls").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def answers(url: str) -> bool:
    """Return whether a webserver answers at `url`."""
    try:
        return httpx.get(f"{url}/server_info", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_demo_beside_a_real_configuration_shows_lineage_assets_a_digest_and_a_picture(
    seeded_demo, tmp_path
):
    if screenshots.chromium() is None:
        unavailable("no Chromium installed (apt-get install chromium)")
    seeded, tree, home = seeded_demo.seeded, seeded_demo.tree, seeded_demo.home
    assert seeded.returncode == 0 and "FAILED" not in seeded.stdout, seeded.stdout[-2000:]
    real = tmp_path / "real"
    real_web, demo_web, demo_code = free_port(), free_port(), free_port()
    (tree / ".env").write_text(
        f"TAI_DATA_DIR={real}/data\n"
        f"TAI_WAREHOUSE_PATH={real}/warehouse.duckdb\n"
        f"TAI_SPOOL_PATH={real}/spool.sqlite3\n"
        f"TAI_WEB_PORT={real_web}\nTAI_CODE_SERVER_PORT={free_port()}\n"
        "TAI_POLL_INTERVAL_SECONDS=60\nTAI_POLL_BATCH=10\n"
    )
    env = {
        **os.environ,
        "TAI_NO_INSTALL": "1",
        "TAI_WAREHOUSE_PATH": f"{real}/exported.duckdb",  # exported by the operator's shell
        "TAI_DEMO_WEB_PORT": str(demo_web),
        "TAI_DEMO_CODE_SERVER_PORT": str(demo_code),
        # Succeeded ingest runs thinned at the next batch: a thinned run to open.
        "TAI_RUN_DETAIL_RETENTION_MINUTES": "0",
    }
    env.pop("DAGSTER_HOME", None)
    spool = seeded_demo.data / "spool.sqlite3"
    before = newest_spooled(spool)
    log_path = tmp_path / "demo.log"
    log = log_path.open("wb")
    demo = subprocess.Popen(
        ["./tai", "demo"], cwd=tree, env=env, stdout=log, stderr=log, start_new_session=True
    )
    url = f"http://127.0.0.1:{demo_web}"
    try:
        deadline = time.monotonic() + 300
        # Three polls of each source at the demo's 10 s (not .env's 60 s) within the first
        # minute, into the demo's own spool.
        while time.monotonic() < deadline and newest_spooled(spool) - before < 6:
            assert demo.poll() is None, log_path.read_text()[-3000:]
            time.sleep(1)
        polled = newest_spooled(spool) - before
        wait_for_webserver(url)
        real_ui = answers(f"http://127.0.0.1:{real_web}")
        run_id = thinned_ingest_run(home)
        run_page = screenshots.Page(
            "thinned_ingest_run", f"/runs/{run_id}", "ingest_", settle_seconds=3.0
        )
        seen = screenshots.take_all(url, tmp_path / "screenshots", (*screenshots.PAGES, run_page))
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        try:
            demo.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
        for pid in deployment_processes(home):
            os.kill(pid, signal.SIGKILL)
        log.close()
    print(f"\nscreenshots in {tmp_path / 'screenshots'}")
    output = log_path.read_text()
    assert polled >= 6, output[-3000:]
    assert not real_ui, output[-3000:]
    assert not real.exists(), list(real.rglob("*"))
    assert url in output

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
