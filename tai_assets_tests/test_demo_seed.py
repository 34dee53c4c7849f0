"""The demo's seeded history: a simulator played at accelerated time through tai's real
clients, spool and ingest runs, then the analytics, all as runs in a real instance."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tai_assets.simulator.launch import start_process, tai_environment

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_demo_seed_fills_every_asset_with_real_content(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").symlink_to(ROOT / "deploy" / "dagster.yaml")
    simulator, ports = start_process(speed=60)
    try:
        env = {
            **os.environ,
            **tai_environment(ports),
            "DAGSTER_HOME": str(home),
            "TAI_DATA_DIR": str(tmp_path / "data"),
        }
        done = subprocess.run(
            [sys.executable, "-m", "tai_assets.demo.seed", "--days", "2", "--older-days", "68",
             "--older-interval", "3600"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "FAILED" not in done.stdout, done.stdout
    assert "history ready" in done.stdout
    with duckdb.connect(str(tmp_path / "data" / "tai.duckdb"), read_only=True) as conn:
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
