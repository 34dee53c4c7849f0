"""World popularity: how many people a world session gathered, and for how long.

Score of a world session = area under ``max(0, players − 1)`` over the hours elapsed since the
session start, by the trapezoid rule over the ``worlds_online`` points inside the session, starting
from the point (0 h, 0 players). The owner alone scores nothing; ten people for an hour score ~9.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from tai_assets.analytics.names import is_unsafe_name
from tai_assets.analytics.queries import small_frame
from tai_assets.common.sql_files import read_sql

SCORE_SCHEMA = {
    "name": pl.String,
    "session_start": pl.Datetime("us"),
    "session_end": pl.Datetime("us"),
    "length_hours": pl.Float64,
    "peak_players": pl.Int64,
    "points": pl.Int64,
    "score": pl.Float64,
}


def trapezoid_score(points: Iterable[tuple[float, int]]) -> float:
    """Return the popularity score of one session from ``(elapsed_hours, players)`` points.

    The curve starts at (0 h, 0 players); each point contributes ``max(0, players − 1)``. Points
    are sorted by elapsed time first; an empty list scores 0.
    """
    prev_t, prev_y, area = 0.0, 0.0, 0.0
    for t, players in sorted(points):
        y = float(max(0, players - 1))
        area += (t - prev_t) * (y + prev_y) / 2.0
        prev_t, prev_y = t, y
    return area


@dataclass(frozen=True)
class WorldRules:
    """Thresholds for the "most popular worlds" list of a digest."""

    min_peak: int = 5
    min_score: float = 0.6
    min_length_hours: float = 20 / 60
    top_n: int = 5
    hot_peak: int = 8
    hot_length_hours: float = 1.5
    hot_score: float = 5.8


DEFAULT_WORLD_RULES = WorldRules()


HOURS_SCHEMA = {"name": pl.String, "sessions_started": pl.Int64, "player_hours": pl.Float64}


@dataclass(frozen=True)
class WorldActivity:
    """The worlds' activity in a window: ``scores``, one row per world session starting in it
    (``SCORE_SCHEMA``), and ``hours``, one row per world with a session overlapping it: the
    sessions started in it and its player-hours (``HOURS_SCHEMA``)."""

    scores: pl.DataFrame
    hours: pl.DataFrame


def world_activity(
    conn,
    start: datetime,
    end: datetime,
    rules: WorldRules | None = None,
    best_per_world: bool = False,
) -> WorldActivity:
    """Return the worlds' session scores and player-hours in [start, end), computed inside
    DuckDB (``sql/analytics/world_activity.sql``) from each session's stats kept at ingest
    (``core.world_session_stats``); only the sessions crossing an edge of the window are
    integrated from their ``core.worlds_online`` points, so a year does not sort a million.
    With ``rules``, only sessions that pass its keep thresholds leave the warehouse; with
    ``best_per_world``, only each world's best session (highest score, then peak, then
    earliest), the one a top list can show. Sessions without points get peak 0 and score 0.
    """
    keep = {"min_peak": None, "min_score": None, "min_length_hours": None}
    if rules is not None:
        keep = {
            "min_peak": rules.min_peak,
            "min_score": rules.min_score,
            "min_length_hours": rules.min_length_hours,
        }
    params = {"start": start, "end": end, "best_per_world": best_per_world, **keep}
    frame = small_frame(conn, read_sql("analytics/world_activity.sql"), params)
    parts = frame.partition_by("part", as_dict=True, include_key=False) if frame.height else {}
    scores, hours = parts.get(("session",)), parts.get(("world",))
    return WorldActivity(
        scores.select(list(SCORE_SCHEMA)).cast(SCORE_SCHEMA)
        if scores is not None
        else pl.DataFrame(schema=SCORE_SCHEMA),
        hours.select(list(HOURS_SCHEMA)).cast(HOURS_SCHEMA)
        if hours is not None
        else pl.DataFrame(schema=HOURS_SCHEMA),
    )


def world_session_scores(
    conn, start: datetime, end: datetime, rules: WorldRules | None = None
) -> pl.DataFrame:
    """Return one row per world session starting in [start, end) with its length, peak, number
    of points and score (``SCORE_SCHEMA``; see ``world_activity``)."""
    return world_activity(conn, start, end, rules).scores


def world_hours(conn, start: datetime, end: datetime) -> pl.DataFrame:
    """Return one row per world with a session overlapping [start, end): the sessions started
    in it and its player-hours, counted only while the world is open (``HOURS_SCHEMA``; see
    ``world_activity``)."""
    return world_activity(conn, start, end).hours


def top_worlds(scores: pl.DataFrame, rules: WorldRules = DEFAULT_WORLD_RULES) -> pl.DataFrame:
    """Return the digest's most popular world sessions, best first, with a ``hot`` flag (🔥).

    Keeps sessions with peak ≥ ``min_peak``, score ≥ ``min_score``, length ≥ ``min_length_hours``
    and a safe name; a world appears once (its best session); at most ``top_n`` rows. Ties are
    broken by peak, then name, so the answer is deterministic.
    """
    if scores.is_empty():
        return scores.with_columns(hot=pl.lit(False)).head(0)
    kept = scores.filter(
        (pl.col("peak_players") >= rules.min_peak)
        & (pl.col("score") >= rules.min_score)
        & (pl.col("length_hours") >= rules.min_length_hours)
    )
    unsafe = [name for name in kept["name"].unique().to_list() if is_unsafe_name(name)]
    kept = kept.filter(~pl.col("name").is_in(unsafe))
    best = (
        kept.sort(["score", "peak_players", "session_start"], descending=[True, True, False])
        .unique(subset="name", keep="first", maintain_order=True)
        .sort(["score", "peak_players", "name"], descending=[True, True, False])
        .head(rules.top_n)
    )
    return best.with_columns(
        hot=(pl.col("peak_players") >= rules.hot_peak)
        & (pl.col("length_hours") >= rules.hot_length_hours)
        & (pl.col("score") >= rules.hot_score)
    )
