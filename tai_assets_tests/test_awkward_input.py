"""Awkward input from the sources (issue "Correctness on awkward input"), each through tai's
real path: the sensors against the simulator, the spool, the ingest assets, the warehouse."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from tai_assets.defs.polling import checks as polling_checks
from tai_assets.defs.polling.assets import POLLING_ASSETS
from tai_assets.warehouse import connection
from tai_assets_tests.support.polling import (
    WORLD_SENSOR,
    ingest_resources,
    polling_resources,
    spool_polls,
    spooled,
    tick,
)

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def naive(minutes: float) -> datetime:
    return (T0 + timedelta(minutes=minutes)).replace(tzinfo=None)


@pytest.fixture
def resources(tmp_path) -> dict:
    return ingest_resources(str(tmp_path / "tai.duckdb"))


def ingest(resources: dict, server: list[dict], worlds: list[dict]) -> str:
    database = resources["warehouse"].database
    spool_polls(database, "server", server)
    spool_polls(database, "worlds", worlds)
    assert dg.materialize(POLLING_ASSETS, resources=resources).success
    return database


def rows(database: str, sql: str) -> list[tuple]:
    with duckdb.connect(database) as conn:
        return conn.execute(sql).fetchall()


def test_a_malformed_info_answer_is_up_with_an_unknown_count_not_down(resources):
    ok = {"status": "ok", "online": 2, "max_players": 300, "player_names": ["A", "B"]}
    server = [
        {"polled_at": at(0), **ok},
        {"polled_at": at(1), "status": "malformed", "error": "malformed 'i' answer: truncated"},
        {"polled_at": at(2), **ok},
    ]
    database = ingest(resources, server, [])
    assert rows(database, "SELECT status FROM raw.raw_server_polls ORDER BY polled_at") == [
        ("ok",),
        ("malformed",),
        ("ok",),
    ]
    series = rows(database, "SELECT changed_at, status, online FROM core.server_online ORDER BY 1")
    assert series == [(naive(0), "up", 2), (naive(1), "up", None), (naive(2), "up", 2)]


def test_names_with_undefined_bytes_stay_distinct_and_are_counted(resources):
    names = ["Va\\x98sya", "Vasya"]  # as the client decodes b"Va\x98sya" and b"Vasya"
    poll = {"polled_at": at(0), "status": "ok", "online": 2, "max_players": 300}
    server = [{**poll, "player_names": names, "escaped_names": 1}]
    database = ingest(resources, server, [])
    assert rows(database, "SELECT escaped_names FROM raw.raw_server_polls") == [(1,)]
    players = rows(database, "SELECT player FROM core.player_sessions ORDER BY player")
    assert players == [("Va\\x98sya",), ("Vasya",)]


def test_a_refused_token_is_its_own_status_and_fails_a_check(resources):
    world = {"raw_name": "Race", "name": "Race", "players": 3, "static": False, "ssmp": True}
    worlds = [
        {"polled_at": at(0), "status": "ok", "worlds": [world]},
        {"polled_at": at(1), "status": "auth_failed", "error": "HTTP 401: the API refused"},
    ]
    database = ingest(resources, [], worlds)
    (rule,) = [r for r in polling_checks.WORLD_RULES if r.name == "raw_world_polls_authenticated"]
    params = polling_checks.rule_params(0, 1800, T0 + timedelta(minutes=5))
    with duckdb.connect(database) as conn:
        refused = polling_checks.evaluate_rule(conn, rule, params)
    assert refused.passed is False and refused.metadata["violations"].value == 1
    # The next poll goes through again (a new token): the check passes once more.
    ingest(resources, [], [{"polled_at": at(2), "status": "ok", "worlds": [world]}])
    with duckdb.connect(database) as conn:
        assert polling_checks.evaluate_rule(conn, rule, params).passed is True
    # And an outage is not mistaken for an expired token.
    assert rows(database, "SELECT count(*) FROM core.worlds_online") == [(1,)]


def test_an_invalid_entry_makes_its_name_unknown_in_that_poll(resources):
    def race(players: int) -> dict:
        return {"raw_name": "Race", "name": "Race", "players": players, "static": False,
                "ssmp": True}  # fmt: skip

    invalid_big_race = {"raw_name": "Race", "name": "Race", "error": "players: not an integer"}
    worlds = [
        {"polled_at": at(0), "status": "ok", "worlds": [race(12), race(3)]},
        {"polled_at": at(1), "status": "ok", "worlds": [invalid_big_race, race(3)]},
        {"polled_at": at(2), "status": "ok", "worlds": [race(12), race(3)]},
    ]
    database = ingest(resources, [], worlds)
    history = rows(database, "SELECT saved_at, players FROM core.worlds_online ORDER BY 1")
    assert history == [(naive(0), 12)]  # no 12 → 3 → 12 that never happened
    sessions = rows(database, "SELECT session_start, session_end FROM core.world_sessions")
    assert sessions == [(naive(0), naive(2))]


def test_the_world_sensor_honours_retry_after(simulator, sim_clock, tmp_path):
    sim, running = simulator
    resources = polling_resources(running, str(tmp_path / "w.duckdb"), batch=10)
    sim.faults.http_429_next(1, retry_after=150, endpoint="worlds")
    first = tick(WORLD_SENSOR, resources, None)
    (limited,) = spooled(resources, "worlds")
    assert limited["status"] == "rate_limited" and "Retry-After 150 s" in limited["error"]
    requests = sim.stats.http_requests["/api/worlds"]

    cursor, skipped = first.cursor, []
    for _ in range(2):  # 60 s and 120 s later: still within the 150 s asked for
        sim_clock.advance(60)
        result = tick(WORLD_SENSOR, resources, cursor)
        cursor = result.cursor
        skipped.append(result.skip_reason.skip_message)
    assert sim.stats.http_requests["/api/worlds"] == requests  # the API was left alone
    assert all("Retry-After" in reason and "poll skipped" in reason for reason in skipped)

    sim_clock.advance(60)  # 180 s after the 429
    tick(WORLD_SENSOR, resources, cursor)
    assert sim.stats.http_requests["/api/worlds"] == requests + 1
    assert [p["status"] for p in spooled(resources, "worlds")] == ["rate_limited", "ok"]


OLD_RAW_SERVER_POLLS = """
CREATE SCHEMA raw;
CREATE TABLE raw.raw_server_polls (
    polled_at TIMESTAMP NOT NULL PRIMARY KEY,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'count_only', 'unreachable')),
    online INTEGER, max_players INTEGER, player_names VARCHAR[], hostname VARCHAR,
    error VARCHAR, latency_ms DOUBLE
);
INSERT INTO raw.raw_server_polls (polled_at, status, online, player_names)
VALUES ('2025-06-01 12:00:00', 'ok', 1, ['Vasya']), ('2025-06-01 12:01:00', 'unreachable',
        NULL, NULL);
"""


def test_a_warehouse_from_before_the_new_statuses_is_rebuilt_with_its_rows(tmp_path):
    database = str(tmp_path / "old.duckdb")
    with duckdb.connect(database) as conn:
        conn.execute(OLD_RAW_SERVER_POLLS)
    with connection.connect(database) as conn:
        kept = conn.execute("SELECT status FROM raw.raw_server_polls ORDER BY polled_at")
        assert kept.fetchall() == [("ok",), ("unreachable",)]
        conn.execute(
            "INSERT INTO raw.raw_server_polls (polled_at, status, escaped_names) "
            "VALUES ('2025-06-01 12:02:00', 'malformed', NULL)"
        )
        key = conn.execute(
            "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = "
            "'raw_server_polls' AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    assert key == [("PRIMARY KEY",)]
    assert json.dumps(rows(database, "SELECT count(*) FROM raw.raw_server_polls")) == "[[3]]"
