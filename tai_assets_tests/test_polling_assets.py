"""The polling assets through `materialize()`: reading every asset back, the repair rebuild, and
the asset checks failing on data that breaks their rules."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import polars as pl
import pytest

from tai_assets.common.clock import use_clock
from tai_assets.defs.polling import checks as polling_checks
from tai_assets.defs.polling.assets import POLLING_ASSETS
from tai_assets.defs.polling.freshness import judge_freshness
from tai_assets.defs.polling.jobs import rebuild_derived_job
from tai_assets.defs.polling.resources import PollingSettings
from tai_assets.defs.polling.sensors import build_freshness_sensor
from tai_assets.settings import Settings
from tai_assets_tests.support.polling import ingest_resources, spool_polls

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


SERVER_POLLS = [
    {
        "polled_at": at(0),
        "status": "ok",
        "online": 2,
        "max_players": 300,
        "player_names": ["Vasya", "Петя"],
        "hostname": "TRAINING SANDBOX",
    },
    {
        "polled_at": at(1),
        "status": "count_only",
        "online": 120,
        "max_players": 300,
        "error": "no answer to 'c'",
    },
    {"polled_at": at(2), "status": "unreachable", "error": "timeout"},
    {
        "polled_at": at(3),
        "status": "ok",
        "online": 1,
        "max_players": 300,
        "player_names": ["Vasya"],
    },
]
WORLD_POLLS = [
    {
        "polled_at": at(0),
        "status": "ok",
        "worlds": [
            {
                "raw_name": "{FF0000}Race",
                "name": "Race",
                "players": 3,
                "static": False,
                "ssmp": True,
            },
            {
                "raw_name": "{00FF00}Race",
                "name": "Race",
                "players": 5,
                "static": False,
                "ssmp": True,
            },
            {"raw_name": None, "error": "players: field required", "extra": "{}"},
        ],
    },
    {"polled_at": at(1), "status": "unreachable", "error": "HTTP 503"},
    {
        "polled_at": at(2),
        "status": "ok",
        "worlds": [
            {
                "raw_name": "{FF0000}Race",
                "name": "Race",
                "players": 4,
                "static": False,
                "ssmp": True,
            },
        ],
    },
]


@pytest.fixture
def resources(tmp_path) -> dict:
    return ingest_resources(str(tmp_path / "tai.duckdb"))


def spool_test_polls(resources: dict) -> None:
    database = resources["warehouse"].database
    spool_polls(database, "server", SERVER_POLLS)
    spool_polls(database, "worlds", WORLD_POLLS)


def ingest(resources: dict) -> None:
    spool_test_polls(resources)
    assert dg.materialize(POLLING_ASSETS, resources=resources).success
    # Delivered polls are marked: a second run finds nothing pending and changes nothing.
    spool = resources["spool"].spool()
    assert spool.pending("server") == [] and spool.pending("worlds") == []


def test_every_polling_asset_reads_back(resources):
    ingest(resources)
    defs = dg.Definitions(assets=POLLING_ASSETS, resources=resources)
    loaded = {
        name: defs.load_asset_value(name)
        for name in (
            "raw_server_polls",
            "server_online",
            "player_sessions",
            "raw_world_polls",
            "world_sessions",
            "worlds_online",
        )
    }
    assert all(isinstance(frame, pl.DataFrame) for frame in loaded.values())
    server = loaded["raw_server_polls"].sort("polled_at")
    assert server["status"].to_list() == ["ok", "count_only", "unreachable", "ok"]
    assert server["player_names"][1] is None
    # One unreachable poll is a lost datagram, not an outage (OUTAGE_POLLS = 2): no `down`.
    assert loaded["server_online"].sort("changed_at")["status"].to_list() == ["up", "up", "up"]
    assert sorted(loaded["player_sessions"]["player"].to_list()) == ["Vasya", "Петя"]
    worlds = loaded["raw_world_polls"].sort("polled_at", "world_index")
    assert worlds["status"].to_list() == ["ok", "ok", "invalid", "unreachable", "ok"]
    # Two entries named Race in one poll: the one with more players wins.
    assert loaded["worlds_online"].sort("saved_at")["players"].to_list() == [5, 4]
    assert loaded["world_sessions"].rows() == [
        ("Race", T0.replace(tzinfo=None), (T0 + timedelta(minutes=2)).replace(tzinfo=None))
    ]


def test_rebuild_job_recomputes_what_ingest_derived(resources, tmp_path):
    ingest(resources)
    database = resources["warehouse"].database

    def derived() -> dict:
        with duckdb.connect(database, read_only=True) as conn:
            return {
                t: conn.execute(f"SELECT * FROM core.{t} ORDER BY ALL").fetchall()
                for t in (
                    "server_online",
                    "player_sessions",
                    "world_sessions",
                    "worlds_online",
                    "world_session_stats",
                )
            }

    before = derived()
    with duckdb.connect(database) as conn:  # damage the derived tables
        conn.execute("DELETE FROM core.player_sessions")
        conn.execute("INSERT INTO core.worlds_online VALUES ('Ghost', 1, true, true, now())")
        conn.execute("DELETE FROM core.world_session_stats")
    assert before["world_session_stats"]
    defs = dg.Definitions(assets=POLLING_ASSETS, jobs=[rebuild_derived_job], resources=resources)
    assert defs.resolve_job_def("rebuild_derived_job").execute_in_process().success
    assert derived() == before


def evaluate(database: str, rules, now: datetime) -> dict[str, bool]:
    params = polling_checks.rule_params(0, 2700, now)
    with duckdb.connect(database) as conn:
        return {r.name: polling_checks.evaluate_rule(conn, r, params).passed for r in rules}


def test_checks_pass_on_clean_data_and_fail_on_broken_rules(resources):
    ingest(resources)
    database = resources["warehouse"].database
    fresh = T0 + timedelta(minutes=5)
    assert all(evaluate(database, polling_checks.SERVER_RULES, fresh).values())
    assert all(evaluate(database, polling_checks.WORLD_RULES, fresh).values())

    with duckdb.connect(database) as conn:
        conn.execute("UPDATE raw.raw_server_polls SET online = 0 WHERE status = 'ok'")
        conn.execute(
            "INSERT INTO core.player_sessions VALUES ('Vasya', ?, ?), ('Ghost', ?, ?)",
            [
                (T0 + timedelta(minutes=4)).replace(tzinfo=None),
                (T0 + timedelta(minutes=4)).replace(tzinfo=None),
                T0.replace(tzinfo=None),
                T0.replace(tzinfo=None),
            ],
        )
        conn.execute(
            "INSERT INTO core.worlds_online VALUES ('Race', 4, false, true, ?)",
            [(T0 + timedelta(minutes=3)).replace(tzinfo=None)],
        )
        # Stats left behind by a session that has grown since.
        conn.execute("UPDATE core.world_session_stats SET session_end = session_start")
        conn.execute(
            "INSERT INTO raw.raw_server_polls (polled_at, status) VALUES (?, 'unreachable')",
            [(T0 + timedelta(days=3)).replace(tzinfo=None)],
        )
    broken = evaluate(database, polling_checks.SERVER_RULES, fresh)
    assert broken["raw_server_polls_count_covers_names"] is False
    assert broken["player_sessions_separated_by_gap"] is False
    assert broken["player_sessions_boundaries_are_sightings"] is False
    assert broken["raw_server_polls_unique_and_past"] is False
    worlds = evaluate(database, polling_checks.WORLD_RULES, fresh)
    assert worlds["worlds_online_no_consecutive_duplicates"] is False
    assert worlds["world_sessions_have_stats"] is False


def test_checks_run_as_a_job_and_report_the_freshness_warning(resources):
    ingest(resources)
    with use_clock(lambda: T0 + timedelta(hours=2)):
        result = dg.materialize(
            [*POLLING_ASSETS, *polling_checks.POLLING_CHECKS],
            resources=resources,
            selection=dg.AssetSelection.checks(*polling_checks.POLLING_CHECKS),
        )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["raw_server_polls_fresh"].passed is False
    assert evaluations["raw_server_polls_fresh"].severity == dg.AssetCheckSeverity.WARN
    assert evaluations["player_sessions_separated_by_gap"].passed is True


def test_freshness_rule_judges_the_collector_and_the_warehouse():
    polling = PollingSettings(poll_interval_seconds=60, poll_batch=4)
    newest = (T0 + timedelta(minutes=3)).replace(tzinfo=None)

    # The newest poll in the warehouse is at 3 min; a batch (4) plus 3 intervals is 7 min.
    def fresh_at(minutes: float, collector_minutes: float | None) -> bool:
        collector = None
        if collector_minutes is not None:
            collector = (T0 + timedelta(minutes=collector_minutes)).replace(tzinfo=None)
        now = T0 + timedelta(minutes=minutes)
        return judge_freshness(newest, collector, now, polling)[0]

    assert fresh_at(9, collector_minutes=8.5)  # polls pending in the sensor: fine
    assert fresh_at(9, collector_minutes=None)  # no tick known: the warehouse alone decides
    assert not fresh_at(9, collector_minutes=5.5)  # the sensor stopped polling 3.5 intervals ago
    assert not fresh_at(10.5, collector_minutes=10)  # polling, but nothing reaches the warehouse
    assert not judge_freshness(None, None, T0, polling)[0]  # nothing ever delivered


def test_freshness_sensor_reports_both_checks_without_a_run(resources):
    instance = dg.DagsterInstance.ephemeral()
    sensor = build_freshness_sensor(Settings.from_env())
    defs = dg.Definitions(
        assets=POLLING_ASSETS,
        asset_checks=polling_checks.POLLING_CHECKS,
        sensors=[sensor],
        resources=resources,
    )
    spool_test_polls(resources)
    assert dg.materialize(POLLING_ASSETS, resources=resources, instance=instance)

    def report(minutes: float, cursor: str | None) -> tuple[dict, str]:
        context = dg.build_sensor_context(
            instance=instance,
            definitions=defs,
            resources={"polling": resources["polling"]},
            cursor=cursor,
        )
        with use_clock(lambda: T0 + timedelta(minutes=minutes)):
            result = sensor(context)
        assert not result.run_requests
        return {e.check_name: e for e in result.asset_events}, result.cursor

    soon, cursor = report(6, None)  # newest poll at 3 min (servers) and 2 min (worlds); limit 7
    assert soon["raw_server_polls_fresh"].passed and soon["raw_world_polls_fresh"].passed
    newest = soon["raw_server_polls_fresh"].metadata["newest_in_warehouse"].value
    assert newest == (T0 + timedelta(minutes=3)).timestamp()
    unchanged, cursor = report(6.5, cursor)
    assert unchanged == {}  # same verdicts: nothing recorded
    late, cursor = report(120, cursor)
    assert not late["raw_server_polls_fresh"].passed
    assert late["raw_world_polls_fresh"].severity == dg.AssetCheckSeverity.WARN
    assert report(170, cursor)[0] == {}
    hourly, _ = report(181, cursor)  # an unchanged verdict is recorded again after an hour
    assert set(hourly) == {"raw_server_polls_fresh", "raw_world_polls_fresh"}
    assert instance.get_runs_count() == 1  # the ingest run only


# Run in a child process: the server batch's derivation of sessions announces itself (the raw
# polls are written by then, in the batch's transaction) and waits to be killed.
KILLED_MID_BATCH = """
import sys, time
from pathlib import Path
import dagster as dg
from tai_assets.defs.polling import assets
from tai_assets_tests.support.polling import ingest_resources

derive = assets.derive_sessions

def announce_and_wait(conn, *args):
    derive(conn, *args)
    polls = conn.execute("SELECT count(*) FROM raw.raw_server_polls").fetchall()[0][0]
    Path(sys.argv[2]).write_text(str(polls))
    time.sleep(120)

assets.derive_sessions = announce_and_wait
dg.materialize([assets.ingest_server_polls], resources=ingest_resources(sys.argv[1]))
"""


def test_kill_9_mid_batch_leaves_no_part_of_it_and_the_next_run_takes_it_whole(tmp_path):
    """The raw polls and every table derived from them commit together: a run killed after
    writing the raw polls and before the sessions leaves the warehouse as it was, the polls
    pending, and the next run writes all of it."""
    database = str(tmp_path / "w.duckdb")
    spool_polls(database, "server", SERVER_POLLS[:2])
    assert dg.materialize(POLLING_ASSETS[:1], resources=ingest_resources(database)).success
    spool_polls(database, "server", SERVER_POLLS[2:])
    before = table_counts(database)
    marker = tmp_path / "inside-the-batch"
    child = subprocess.Popen([sys.executable, "-c", KILLED_MID_BATCH, database, str(marker)])
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == "4"  # the batch's transaction held all four raw polls
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    assert table_counts(database) == before
    assert len(ingest_resources(database)["spool"].spool().pending("server")) == 2
    assert dg.materialize(POLLING_ASSETS[:1], resources=ingest_resources(database)).success
    after = table_counts(database)
    assert after["raw.raw_server_polls"] == 4 and after["core.player_sessions"] == 2
    assert ingest_resources(database)["spool"].spool().pending("server") == []


def table_counts(database: str) -> dict[str, int]:
    tables = ("raw.raw_server_polls", "core.server_online", "core.player_sessions")
    with duckdb.connect(database, read_only=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}
