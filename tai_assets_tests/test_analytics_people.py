"""When people play and who they are, on a real DuckDB file with hand-made rows whose answers
are known: the online heatmap, player profiles and name history."""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl
import pytest

from tai_assets.analytics.digest import compute_digest
from tai_assets.analytics.periods import Period
from tai_assets.analytics.render import render_markdown
from tai_assets.common.clock import use_clock
from tai_assets.defs.analytics.people import (
    PEOPLE_ASSETS,
    heatmap_check,
    name_history,
    online_heatmap,
    player_profiles,
)
from tai_assets.warehouse import connection
from tai_assets_tests.support.warehouse import query, warehouse_resources

NOW = datetime(2025, 6, 20, 12, 0)


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    with connection.connect(path) as conn:
        conn.executemany(
            "INSERT INTO core.server_online VALUES (?, ?, ?, ?)",
            [
                # Monday 2 June, 12:00–13:00 Moscow: 10 online; 13:00–13:30 down; 13:30–14:00: 4.
                (datetime(2025, 6, 2, 9, 0), "up", 10, 100),
                (datetime(2025, 6, 2, 10, 0), "down", None, None),
                (datetime(2025, 6, 2, 10, 30), "up", 4, 100),
                (datetime(2025, 6, 2, 11, 0), "down", None, None),
            ],
        )
        conn.executemany(
            "INSERT INTO core.player_sessions VALUES (?, ?, ?)",
            [
                ("Anna", datetime(2025, 6, 1, 17, 0), datetime(2025, 6, 1, 18, 0)),  # 20:00 MSK
                ("Anna", datetime(2025, 6, 18, 17, 0), datetime(2025, 6, 18, 20, 0)),
                ("Anna", datetime(2025, 6, 19, 17, 30), datetime(2025, 6, 19, 17, 45)),
                ("Ivan", datetime(2025, 3, 1, 9, 0), datetime(2025, 3, 1, 9, 30)),
            ],
        )
        conn.executemany(
            "INSERT INTO core.players_snapshot (snapshot_week, snapshot_time, id, login, regdate) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (date(2025, 6, 2), datetime(2025, 6, 9), 7, "Anna_Old", datetime(2020, 1, 1)),
                (date(2025, 6, 2), datetime(2025, 6, 9), 8, "Ivan", datetime(2021, 1, 1)),
                (date(2025, 6, 9), datetime(2025, 6, 16), 7, "Anna", datetime(2020, 1, 1)),
                (date(2025, 6, 9), datetime(2025, 6, 16), 8, "Ivan", datetime(2021, 1, 1)),
            ],
        )
    return path


def test_the_heatmap_averages_up_minutes_by_local_weekday_and_hour(database):
    result = dg.materialize(
        [online_heatmap], partition_key="2025-06-01", resources=warehouse_resources(database)
    )
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    assert query(database, "SELECT * FROM analytics.online_heatmap ORDER BY weekday, hour") == [
        (date(2025, 6, 1), 1, 12, 10.0, 60),
        (date(2025, 6, 1), 1, 13, 4.0, 30),
    ]
    (materialization,) = result.asset_materializations_for_node("online_heatmap")
    assert materialization.metadata["picture"].value.startswith("![")


def test_player_profiles_join_the_latest_snapshot(database):
    with use_clock(lambda: NOW.replace(tzinfo=UTC)):
        result = dg.materialize([player_profiles], resources=warehouse_resources(database))
    assert result.success
    picture = result.asset_materializations_for_node("player_profiles")[0].metadata["picture"]
    assert picture.value.startswith("![Most hours in the last 30 days (top 20)](data:image/png")
    profiles = query(
        database,
        "SELECT player, sessions, total_hours, hours_last_7_days, hours_last_30_days, "
        "median_session_minutes, usual_hour, account_id FROM analytics.player_profiles "
        "ORDER BY player",
    )
    assert profiles == [
        ("Anna", 3, 4.25, 3.25, 4.25, 60.0, 20, 7),
        ("Ivan", 1, 0.5, 0.0, 0.0, 30.0, 12, 8),
    ]


def test_name_history_finds_the_renamed_account(database):
    result = dg.materialize([name_history], resources=warehouse_resources(database))
    assert result.success
    picture = result.asset_materializations_for_node("name_history")[0].metadata["picture"]
    assert picture.value.startswith("![Renamed accounts per snapshot week](data:image/png")
    assert query(database, "SELECT * FROM analytics.name_history") == [
        (7, "Anna_Old", "Anna", date(2025, 6, 2), date(2025, 6, 9))
    ]


def test_the_heatmap_check_fails_on_impossible_cells():
    cells = pl.DataFrame({"weekday": [8], "hour": [25], "avg_online": [-1.0], "minutes_up": [1]})
    verdict = heatmap_check(cells, "cells_valid", "online_heatmap")
    assert not verdict.passed
    problems = verdict.metadata["problems"].value
    assert "weekday" in problems and "hour" in problems and "negative" in problems


def test_every_people_asset_is_in_the_location():
    assert {a.key.to_user_string() for a in PEOPLE_ASSETS} == {
        "online_heatmap", "online_heatmap_recent", "player_profiles", "name_history"
    }  # fmt: skip


def test_the_weekly_digest_names_its_peak_hours(database):
    week = Period("week", date(2025, 6, 2), "Europe/Moscow")
    with connection.connect(database) as conn:
        content = compute_digest(conn, week).content
    assert content.peak_hours == [(1, 12, 10.0), (1, 13, 4.0)]
    assert "**Пиковые часы:** пн 12:00 (10), пн 13:00 (4)" in render_markdown(content)
    day = Period("day", date(2025, 6, 2), "Europe/Moscow")
    with connection.connect(database) as conn:
        assert compute_digest(conn, day).content.peak_hours == []
