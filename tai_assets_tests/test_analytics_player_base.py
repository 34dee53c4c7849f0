"""The player base, role-play names and churn, on a real DuckDB file with hand-made rows whose
answers are known."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from tai_assets.analytics.player_base import _weighted_median
from tai_assets.common.clock import use_clock
from tai_assets.defs.analytics.player_base import (
    churn_check,
    cohorts_check,
    player_base,
    player_churn,
    rp_names,
)
from tai_assets.warehouse import connection
from tai_assets_tests.support.warehouse import query, warehouse_resources


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    with connection.connect(path) as conn:
        rows = [
            # id, login, regdate, lastlogin (UTC; Moscow is +3, so months are those of +3 h)
            (1, "Ivan_Petrov", datetime(2024, 11, 10), datetime(2025, 1, 15)),
            (2, "xXkillerXx", datetime(2024, 12, 5), None),  # last activity = regdate
            (3, "Anna_Smirnova", datetime(2025, 1, 20), datetime(2025, 2, 1)),
            (4, "anna_smirnova", datetime(2025, 2, 3), datetime(2025, 2, 4)),  # not Title_Case
        ]
        for week, taken in ((date(2025, 1, 27), datetime(2025, 2, 3)),
                            (date(2025, 2, 3), datetime(2025, 2, 10))):  # fmt: skip
            conn.executemany(
                "INSERT INTO core.players_snapshot (snapshot_week, snapshot_time, id, login, "
                "regdate, lastlogin) VALUES (?, ?, ?, ?, ?, ?)",
                [(week, taken, *row) for row in rows if week == date(2025, 2, 3) or row[0] < 4],
            )
    return path


def test_the_player_base_per_month_from_the_latest_snapshot(database):
    result = dg.materialize([player_base], resources=warehouse_resources(database))
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    # Nov: 1 registers; Dec: 2 registers, 1 still active (last login in Jan); Jan: 3 registers,
    # 1 and 3 active (2's last activity was December); Feb: 4 registers, 3 and 4 active.
    assert query(
        database,
        "SELECT month, registrations, active_accounts, median_age_months, mean_age_months "
        "FROM analytics.player_base ORDER BY month",
    ) == [
        (date(2024, 11, 1), 1, 1, 0.0, 0.0),
        (date(2024, 12, 1), 1, 2, 0.5, 0.5),
        (date(2025, 1, 1), 1, 2, 1.0, 1.0),
        (date(2025, 2, 1), 1, 2, 0.5, 0.5),
    ]
    assert query(
        database, "SELECT * FROM analytics.player_base_cohorts ORDER BY month, cohort_year"
    ) == [
        (date(2024, 11, 1), 2024, 1),
        (date(2024, 12, 1), 2024, 2),
        (date(2025, 1, 1), 2024, 1),
        (date(2025, 1, 1), 2025, 1),
        (date(2025, 2, 1), 2025, 2),
    ]
    assert query(database, "SELECT DISTINCT snapshot_week FROM analytics.player_base") == [
        (date(2025, 2, 3),)
    ]


def test_role_play_names_per_registration_year(database):
    result = dg.materialize([rp_names], resources=warehouse_resources(database))
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    assert query(database, "SELECT * FROM analytics.rp_names ORDER BY 1") == [
        (2024, 2, 1, 0.5),
        (2025, 2, 1, 0.5),
    ]


def test_churn_counts_regulars_not_seen_in_the_next_30_days(tmp_path):
    database = str(tmp_path / "warehouse.duckdb")
    week = datetime(2025, 3, 3, 9)  # Monday, Moscow noon
    sessions = []
    for player in ("Stays", "Leaves"):
        for day in (5, 10, 15, 20):  # four distinct days in the 30 days before the week
            start = week - timedelta(days=day)
            sessions.append((player, start, start + timedelta(hours=1)))
    sessions.append(("Stays", week + timedelta(days=3), week + timedelta(days=3, hours=1)))
    sessions.append(("Casual", week - timedelta(days=2), week - timedelta(days=2, hours=-1)))
    with connection.connect(database) as conn:
        conn.executemany("INSERT INTO core.player_sessions VALUES (?, ?, ?)", sessions)
    with use_clock(lambda: datetime(2025, 6, 1, tzinfo=UTC)):
        result = dg.materialize([player_churn], resources=warehouse_resources(database))
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    by_week = {w: (r, c) for w, r, c, _ in query(database, "SELECT * FROM analytics.player_churn")}
    assert by_week[date(2025, 3, 3)] == (2, 1)


def test_weighted_median_and_the_checks_that_can_fail():
    assert _weighted_median([0, 1, 2], [1, 1, 1]) == 1.0
    assert _weighted_median([0, 2], [1, 1]) == 1.0
    assert _weighted_median([], []) is None
    base = pl.DataFrame({"month": [date(2025, 1, 1)], "registrations": [5], "active_accounts": [3]})
    cohort = pl.DataFrame({"month": [date(2025, 1, 1)], "active_accounts": [2]})
    verdict = cohorts_check(base, cohort)
    assert not verdict.passed and "do not add up" in verdict.metadata["problems"].value
    churn = pl.DataFrame({"regulars": [2], "churned": [3], "share": [1.5]})
    assert not churn_check(churn).passed
