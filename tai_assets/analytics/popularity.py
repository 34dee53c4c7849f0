"""World popularity: how many people a world session gathered, and for how long.

Score of a world session = area under ``max(0, players − 1)`` over the hours elapsed since the
session start, by the trapezoid rule over the ``worlds_online`` points inside the session, starting
from the point (0 h, 0 players). The owner alone scores nothing; ten people for an hour score ~9.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from tai_assets.analytics.names import is_unsafe_name

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


def _as_us(df: pl.DataFrame, cols: Sequence[str]) -> pl.DataFrame:
    return df.with_columns([pl.col(c).cast(pl.Datetime("us")) for c in cols])


def world_session_scores(sessions: pl.DataFrame, points: pl.DataFrame) -> pl.DataFrame:
    """Return one row per world session with its length, peak, number of points and score.

    ``sessions`` has (name, session_start, session_end); ``points`` has (name, players, saved_at)
    from ``core.worlds_online``. A point belongs to the session of the same name whose
    [start, end] contains it (sessions of one world never overlap, so an as-of join finds it).
    Sessions without points get peak 0 and score 0. Columns: see ``SCORE_SCHEMA``.
    """
    if sessions.is_empty():
        return pl.DataFrame(schema=SCORE_SCHEMA)
    sess = _as_us(
        sessions.select("name", "session_start", "session_end"), ["session_start", "session_end"]
    )
    sess = sess.sort("session_start")
    if points.is_empty():
        matched = pl.DataFrame(
            schema={
                "name": pl.String,
                "session_start": pl.Datetime("us"),
                "t": pl.Float64,
                "y": pl.Float64,
                "players": pl.Int64,
            }
        )
    else:
        pts = _as_us(points.select("name", "players", "saved_at"), ["saved_at"]).sort("saved_at")
        joined = pts.join_asof(
            sess,
            left_on="saved_at",
            right_on="session_start",
            by="name",
            strategy="backward",
            check_sortedness=False,
        )
        matched = (
            joined.filter(
                pl.col("session_start").is_not_null()
                & (pl.col("saved_at") <= pl.col("session_end"))
            )
            .with_columns(
                t=(pl.col("saved_at") - pl.col("session_start")).dt.total_microseconds() / 3.6e9,
                y=pl.max_horizontal(pl.col("players") - 1, pl.lit(0)).cast(pl.Float64),
                players=pl.col("players").cast(pl.Int64),
            )
            .select("name", "session_start", "t", "y", "players")
        )
    # Rows arrive in time order (the as-of join keeps the points' order) and group_by keeps the
    # row order inside each group, so a shift inside the aggregation pairs consecutive points.
    prev_t = pl.col("t").shift(1, fill_value=0.0)
    prev_y = pl.col("y").shift(1, fill_value=0.0)
    per_session = (
        matched.sort("t")
        .group_by("name", "session_start")
        .agg(
            score=((pl.col("t") - prev_t) * (pl.col("y") + prev_y) / 2.0).sum(),
            peak_players=pl.col("players").max(),
            points=pl.len().cast(pl.Int64),
        )
    )
    out = sess.join(per_session, on=["name", "session_start"], how="left").with_columns(
        length_hours=(pl.col("session_end") - pl.col("session_start")).dt.total_microseconds()
        / 3.6e9,
        peak_players=pl.col("peak_players").fill_null(0).cast(pl.Int64),
        points=pl.col("points").fill_null(0).cast(pl.Int64),
        score=pl.col("score").fill_null(0.0).cast(pl.Float64),
    )
    return out.select(list(SCORE_SCHEMA)).sort("session_start", "name")


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
