"""Known answers: world scores, top worlds and players, online peaks, daily activity, habits,
retention — including no data, a single point and a session crossing midnight."""

from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from tai_assets.analytics.activity import daily_activity, daily_activity_frame, session_habits
from tai_assets.analytics.online import online_peaks, online_steps, overall_peak, peak_online
from tai_assets.analytics.periods import Period
from tai_assets.analytics.players import player_totals, rank_players, top_players_from_totals
from tai_assets.analytics.popularity import (
    WorldRules,
    top_worlds,
    trapezoid_score,
    world_session_scores,
)
from tai_assets.analytics.retention import retention
from tai_assets.core.derive import refresh_world_session_stats
from tai_assets.warehouse.connection import apply_ddl

MSK = "Europe/Moscow"
T0 = datetime(2026, 1, 5, 10, 0)  # naive UTC


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sessions_frame(rows, name_col="player") -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            name_col: pl.String,
            "session_start": pl.Datetime("us"),
            "session_end": pl.Datetime("us"),
        },
        orient="row",
    )


def core_tables(**frames: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    """Return an in-memory warehouse (the real DDL) whose `core.<name>` tables hold the given
    frames, so the digests' SQL runs on hand-made rows."""
    conn = duckdb.connect()
    apply_ddl(conn)
    for name, frame in frames.items():
        conn.register("frame", frame)
        conn.execute(f"INSERT INTO core.{name} BY NAME SELECT * FROM frame")
        conn.unregister("frame")
    refresh_world_session_stats(conn, None)  # as the ingest does
    return conn


def scores_of(sessions: pl.DataFrame, points: pl.DataFrame) -> pl.DataFrame:
    """World session scores of hand-made sessions and points, by the digests' SQL."""
    conn = core_tables(world_sessions=sessions, worlds_online=points)
    return world_session_scores(conn, at(-600), at(6000))


def points_frame(rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"name": pl.String, "players": pl.Int32, "saved_at": pl.Datetime("us")},
        orient="row",
    )


def test_trapezoid_known_answer():
    # (0,0) → (0.5h, 5→4) → (1h, 4) → (2h, 3→2): 1 + 2 + 3 = 6
    assert trapezoid_score([(0, 1), (0.5, 5), (1, 5), (2, 3)]) == pytest.approx(6.0)
    assert trapezoid_score([(0.5, 3)]) == pytest.approx(0.5)  # starts from (0 h, 0 players)
    assert trapezoid_score([(0, 10)]) == 0.0  # a single point at the start has no area
    assert trapezoid_score([]) == 0.0
    assert trapezoid_score([(1, 1), (2, 1)]) == 0.0  # the owner alone scores nothing


def test_world_session_scores_match_trapezoid():
    sessions = sessions_frame(
        [
            ("Drift", at(0), at(120)),
            ("Drift", at(300), at(330)),  # second session of the same world, one point
            ("Empty", at(0), at(60)),  # no points at all
        ],
        "name",
    )
    points = points_frame(
        [
            ("Drift", 1, at(0)),
            ("Drift", 5, at(30)),
            ("Drift", 5, at(60)),
            ("Drift", 3, at(120)),
            ("Drift", 50, at(200)),  # between sessions: belongs to none
            ("Drift", 4, at(315)),
            ("Other", 9, at(10)),  # another world
        ]
    )
    scores = scores_of(sessions, points).sort("name", "session_start")
    rows = scores.to_dicts()
    assert rows[0]["name"] == "Drift" and rows[0]["score"] == pytest.approx(6.0)
    assert rows[0]["peak_players"] == 5 and rows[0]["points"] == 4
    assert rows[0]["length_hours"] == pytest.approx(2.0)
    assert rows[1]["score"] == pytest.approx(0.25 * 3 / 2) and rows[1]["peak_players"] == 4
    assert rows[2]["name"] == "Empty" and rows[2]["score"] == 0.0 and rows[2]["peak_players"] == 0
    assert scores_of(sessions.head(0), points).is_empty()
    assert scores_of(sessions, points.head(0))["score"].sum() == 0.0
    # With the digest's rules only the sessions that can be listed leave DuckDB.
    conn = core_tables(world_sessions=sessions, worlds_online=points)
    kept = world_session_scores(conn, at(-600), at(6000), WorldRules(min_peak=5))
    assert kept["name"].to_list() == ["Drift"] and kept["peak_players"].to_list() == [5]
    # A session starting before the window is not the window's, nor are its points.
    assert world_session_scores(conn, at(1), at(6000))["session_start"].to_list() == [at(300)]


def _score_row(name, score, peak, hours) -> dict:
    return {
        "name": name,
        "session_start": T0,
        "session_end": T0 + timedelta(hours=hours),
        "length_hours": hours,
        "peak_players": peak,
        "points": 3,
        "score": score,
    }


def test_top_worlds_filters_and_fire():
    scores = pl.DataFrame(
        [
            _score_row("Hot", 5.8, 8, 1.5),  # exactly at every 🔥 threshold
            _score_row("Warm", 5.79, 8, 2.0),  # score just under 🔥
            _score_row("Small", 9.0, 4, 3.0),  # peak < 5
            _score_row("Short", 9.0, 9, 19 / 60),  # < 20 minutes
            _score_row("Weak", 0.59, 6, 1.0),  # score < 0.6
            _score_row("t.me/spam", 20.0, 10, 2.0),  # unsafe name
            _score_row("Edge", 0.6, 5, 20 / 60),  # exactly at the keep thresholds
            _score_row("Hot", 1.0, 6, 1.0),  # the same world again, worse
            _score_row("A", 2.0, 5, 1.0),
            _score_row("B", 3.0, 5, 1.0),
            _score_row("C", 4.0, 5, 1.0),
        ]
    )
    top = top_worlds(scores)
    assert top["name"].to_list() == ["Hot", "Warm", "C", "B", "A"]
    assert top["hot"].to_list() == [True, False, False, False, False]
    more = top_worlds(scores, WorldRules(top_n=10))
    assert more["name"].to_list()[-1] == "Edge"
    assert top_worlds(scores.head(0)).is_empty()


def top_players(sessions: pl.DataFrame, **options) -> pl.DataFrame:
    """The digest's top players of these sessions: totals per player, then the ranking."""
    return top_players_from_totals(player_totals(sessions), **options)


def test_top_players_known_answer():
    sessions = sessions_frame(
        [
            ("Ivan", at(0), at(90)),
            ("Ivan", at(120), at(150)),  # 2 h in total
            ("Petr", at(0), at(180)),  # 3 h
            ("KrystallBot", at(0), at(600)),  # a bot: never listed
            ("@spam_channel", at(0), at(500)),  # unsafe
            ("Anna", at(0), at(120)),  # 2 h, ties with Ivan: name order
            ("Zed", at(0), at(10)),
        ]
    )
    top = top_players(sessions)
    assert top["player"].to_list() == ["Petr", "Anna", "Ivan"]
    assert top["hours"].to_list() == pytest.approx([3.0, 2.0, 2.0])
    assert top["sessions"].to_list() == [1, 1, 2]
    assert top_players(sessions.head(0)).is_empty()
    custom = top_players(sessions, bots=["Petr"], top_n=1)
    assert custom["player"].to_list() == ["KrystallBot"]
    # The digests rank inside DuckDB and fetch only what they need: the same answer.
    conn = core_tables(player_sessions=sessions)
    ranking = rank_players(conn, at(0), at(600))
    assert ranking.top.equals(top)
    assert (ranking.active_players, ranking.sessions) == (6, 7)
    nobody = rank_players(conn, at(600), at(700))
    assert (nobody.active_players, nobody.sessions, nobody.top.height) == (0, 0, 0)


def changes_frame(rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"changed_at": pl.Datetime("us"), "status": pl.String, "online": pl.Int32},
        orient="row",
    )


def test_online_steps_and_peak():
    start, end = at(0), at(60)
    changes = changes_frame(
        [
            (at(-30), "up", 12),  # state the window opens with
            (at(10), "up", 15),
            (at(20), "down", None),
            (at(30), "up", 15),
            (at(40), "up", 3),
            (at(70), "up", 99),  # after the window
        ]
    )
    steps = online_steps(changes, start, end)
    assert steps["t_from"].to_list() == [at(0), at(10), at(20), at(30), at(40)]
    assert steps["t_to"].to_list() == [at(10), at(20), at(30), at(40), at(60)]
    assert peak_online(steps) == (15, at(10))
    assert peak_online(online_steps(changes.head(0), start, end)) == (None, None)
    only_before = online_steps(changes.head(1), start, end)
    assert peak_online(only_before) == (12, at(0))
    conn = core_tables(server_online=changes)
    hourly = online_peaks(conn, start, end, MSK, "hour")
    assert hourly["bucket"].to_list() == [at(180)]  # 10:00 UTC is 13:00 in Moscow
    assert hourly["peak_online"].to_list() == [15] and hourly["peak_at"].to_list() == [at(10)]
    assert overall_peak(hourly) == peak_online(steps) == (15, at(10))
    # Two local hours: the step that opens the window counts from the window's start.
    later = online_peaks(conn, at(30), at(90), MSK, "hour")
    assert later["peak_online"].to_list() == [15, 99]
    assert later["peak_at"].to_list() == [at(30), at(70)]
    daily = online_peaks(conn, at(-60), at(90), MSK, "day")
    assert daily["peak_online"].to_list() == [99]
    assert overall_peak(online_peaks(conn, at(-60), at(-45), MSK, "hour")) == (None, None)
    only_before_conn = core_tables(server_online=changes.head(1))
    assert overall_peak(online_peaks(only_before_conn, start, end, MSK, "day")) == (12, at(0))


def test_daily_activity_with_midnight_crossing():
    day = Period("day", date(2026, 1, 5), MSK)  # 2026-01-04 21:00 .. 2026-01-05 21:00 UTC
    midnight = day.start_utc
    sessions = sessions_frame(
        [
            ("Night", midnight - timedelta(minutes=30), midnight + timedelta(minutes=30)),
            ("Ivan", midnight + timedelta(hours=10), midnight + timedelta(hours=12)),
            ("Ivan", midnight + timedelta(hours=13), midnight + timedelta(hours=13)),  # one poll
            ("Late", day.end_utc - timedelta(minutes=15), day.end_utc + timedelta(hours=1)),
        ]
    )
    first = pl.DataFrame(
        {
            "player": ["Night", "Ivan", "Late"],
            "first_start": [
                midnight - timedelta(days=3),
                midnight + timedelta(hours=10),
                day.end_utc - timedelta(minutes=15),
            ],
        }
    )
    changes = changes_frame(
        [(midnight - timedelta(hours=1), "up", 4), (midnight + timedelta(hours=11), "up", 9)]
    )
    polls = pl.DataFrame({"status": ["ok", "count_only", "unreachable"], "polls": [1400, 20, 20]})
    worlds = sessions_frame(
        [
            ("W", midnight + timedelta(hours=1), midnight + timedelta(hours=2)),
            ("W", midnight + timedelta(hours=5), midnight + timedelta(hours=6)),
        ],
        "name",
    )
    row = daily_activity(day, sessions, first, changes, polls, worlds)
    assert row.active_players == 3
    assert row.new_players == 2
    assert row.sessions == 3  # "Night" started the day before
    assert row.total_play_hours == pytest.approx(0.5 + 2 + 0 + 0.25)
    assert row.median_player_hours == pytest.approx(0.5)
    assert row.median_session_minutes == pytest.approx(75.0)  # 120, 0 and 75 minutes
    assert row.peak_online == 9 and row.peak_online_at == midnight + timedelta(hours=11)
    assert row.polls == 1440 and row.polls_answered == 1420
    assert row.availability == pytest.approx(1420 / 1440)
    assert row.worlds_opened == 2 and row.distinct_worlds == 1
    frame = daily_activity_frame([row])
    assert frame.height == 1 and frame["day"][0] == date(2026, 1, 5)
    # The next day gets the other half of the midnight session... of "Late".
    nxt = daily_activity(
        Period("day", date(2026, 1, 6), MSK),
        sessions,
        first,
        changes,
        polls.head(0),
        worlds.head(0),
    )
    assert nxt.active_players == 1 and nxt.total_play_hours == pytest.approx(1.0)
    assert nxt.availability is None


def test_daily_activity_no_data():
    day = Period("day", date(2026, 1, 5), MSK)
    empty_sessions = sessions_frame([])
    empty_first = pl.DataFrame(schema={"player": pl.String, "first_start": pl.Datetime("us")})
    row = daily_activity(
        day,
        empty_sessions,
        empty_first,
        changes_frame([]),
        pl.DataFrame(schema={"status": pl.String, "polls": pl.Int64}),
        sessions_frame([], "name"),
    )
    assert (row.active_players, row.new_players, row.sessions, row.total_play_hours) == (
        0,
        0,
        0,
        0.0,
    )
    assert row.peak_online is None and row.availability is None and row.median_player_hours is None
    assert daily_activity_frame([row]).height == 1


def test_session_habits_known_answer():
    day = Period("day", date(2026, 1, 5), MSK)
    m = day.start_utc
    sessions = sessions_frame(
        [
            ("Ivan", m + timedelta(hours=1), m + timedelta(hours=2)),
            ("Ivan", m + timedelta(hours=2, minutes=50), m + timedelta(hours=3)),  # gap 50
            ("Ivan", m + timedelta(hours=4), m + timedelta(hours=5)),  # gap 60
            ("Anna", m + timedelta(hours=1), m + timedelta(hours=2)),
            ("Prev", m - timedelta(hours=1), m + timedelta(hours=1)),  # starts the day before
            ("Prev", m + timedelta(hours=3), m + timedelta(hours=4)),  # no same-day gap
        ]
    )
    summary, detail = session_habits(day, sessions)
    row = summary.to_dicts()[0]
    assert row["players"] == 3 and row["sessions"] == 5
    assert row["max_sessions_per_player"] == 3 and row["players_with_several"] == 1
    assert row["median_sessions_per_player"] == 1.0
    assert row["gaps"] == 2 and row["median_gap_minutes"] == pytest.approx(55.0)
    assert row["p90_gap_minutes"] == pytest.approx(59.0)
    assert detail.filter(pl.col("player") == "Ivan")["gaps_minutes"][0].to_list() == [50.0, 60.0]
    empty_summary, empty_detail = session_habits(day, sessions.head(0))
    assert empty_summary["players"][0] == 0 and empty_summary["median_gap_minutes"][0] is None
    assert empty_detail.is_empty()


def test_retention_known_answer():
    d = datetime
    snap = pl.DataFrame(
        {
            "regdate": [
                d(2025, 1, 10),
                d(2025, 1, 20),
                d(2025, 1, 31, 22),  # 31 Jan 22:00 UTC = 1 Feb MSK
                d(2017, 12, 31),
                None,
                d(2025, 3, 1),
            ],
            "lastlogin": [
                d(2025, 1, 10, 12),
                d(2025, 3, 1),
                d(2025, 2, 10),
                d(2025, 1, 1),
                d(2025, 1, 1),
                None,
            ],
        },
        schema={"regdate": pl.Datetime("us"), "lastlogin": pl.Datetime("us")},
    )
    out = retention(snap, d(2025, 6, 1), MSK, days=(0, 1, 7, 30, 365))
    jan = out.filter(
        (pl.col("cohort_kind") == "month") & (pl.col("cohort_start") == date(2025, 1, 1))
    )
    assert jan["cohort_size"].to_list() == [2] * 5
    assert jan["retained"].to_list() == [2, 1, 1, 1, 0]
    assert jan["share"].to_list() == pytest.approx([1.0, 0.5, 0.5, 0.5, 0.0])
    assert jan["mature"].to_list() == [True, True, True, True, False]
    feb = out.filter(
        (pl.col("cohort_kind") == "month") & (pl.col("cohort_start") == date(2025, 2, 1))
    )
    assert feb["cohort_size"][0] == 1 and feb.filter(pl.col("days") == 7)["retained"][0] == 1
    year = out.filter((pl.col("cohort_kind") == "year") & (pl.col("days") == 1))
    assert year["cohort_start"].to_list() == [date(2025, 1, 1)]
    assert year["cohort_size"][0] == 4  # 2017 and the NULL regdate are left out
    assert year["mature"][0] is False  # the 2025 cohort has not ended by June
    assert retention(snap.head(0), d(2025, 6, 1), MSK).is_empty()
