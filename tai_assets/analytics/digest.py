"""A period's digest: top players, top worlds and peak online, computed from the warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from tai_assets.analytics import queries
from tai_assets.analytics.genres import UNTAGGED, genre_popularity
from tai_assets.analytics.names import DEFAULT_BOTS
from tai_assets.analytics.online import bucket_peaks, online_steps, peak_online
from tai_assets.analytics.periods import Period
from tai_assets.analytics.players import top_players_from_totals
from tai_assets.analytics.popularity import (
    DEFAULT_WORLD_RULES,
    WorldRules,
    top_worlds,
    world_session_scores,
)
from tai_assets.analytics.render import DigestContent, GenreLine, PlayerLine, WorldLine
from tai_assets.common.sql_files import read_sql


@dataclass(frozen=True)
class DigestData:
    """A computed digest: what it says plus the frames behind its picture."""

    content: DigestContent
    top_players: pl.DataFrame
    top_worlds: pl.DataFrame
    steps: pl.DataFrame
    peaks: pl.DataFrame


def compute_digest(
    conn,
    period: Period,
    bots: Sequence[str] = DEFAULT_BOTS,
    rules: WorldRules = DEFAULT_WORLD_RULES,
    top_n_players: int = 3,
) -> DigestData:
    """Return the digest of ``period`` read from the warehouse connection ``conn``.

    Players and worlds count by the sessions that *start* in the period; peak online is the
    highest count reached inside it. Per-hour (day digests) or per-day peaks feed the picture.
    """
    start, end = period.start_utc, period.end_utc
    totals = queries.player_hours(conn, start, end)
    players = top_players_from_totals(totals, bots, top_n_players)
    scores = world_session_scores(
        queries.world_sessions_starting(conn, start, end), queries.world_points(conn, start, end)
    )
    worlds = top_worlds(scores, rules)
    genres = top_genres(conn, start, end)
    busiest = peak_hours(conn, start, end, period.tz) if period.kind == "week" else []
    steps = online_steps(queries.server_online_window(conn, start, end), start, end)
    peak, peak_at = peak_online(steps)
    content = DigestContent(
        period=period,
        top_players=[PlayerLine(**row) for row in players.iter_rows(named=True)],
        top_worlds=[
            WorldLine(
                name=row["name"],
                score=row["score"],
                peak_players=row["peak_players"],
                length_hours=row["length_hours"],
                hot=row["hot"],
            )
            for row in worlds.iter_rows(named=True)
        ],
        peak_online=peak,
        peak_online_at=peak_at,
        active_players=totals.height,
        sessions=int(totals["sessions"].sum()) if totals.height else 0,
        top_genres=genres,
        peak_hours=busiest,
    )
    every = "1h" if period.kind == "day" else "1d"
    return DigestData(content, players, worlds, steps, bucket_peaks(steps, period.tz, every))


def top_genres(conn, start, end, limit: int = 3) -> list[GenreLine]:
    """Return the genre tags with the most player-hours in [start, end) (untagged left out;
    none until `world_tags` has run)."""
    tags = conn.sql("SELECT name, tags FROM analytics.world_tags").pl()
    if tags.is_empty():
        return []
    hours = conn.sql(
        read_sql("analytics/world_hours.sql"), params={"start": start, "end": end}
    ).pl()
    ranked = genre_popularity(hours, tags).filter(
        (pl.col("tag") != UNTAGGED) & (pl.col("player_hours") > 0)
    )
    return [GenreLine(row["tag"], row["player_hours"]) for row in ranked.head(limit).to_dicts()]


def peak_hours(conn, start, end, tz: str, limit: int = 3) -> list[tuple[int, int, float]]:
    """Return the local (weekday, hour) with the highest average online in [start, end), with
    that average: the weekly digest's peak hours (the heatmap's query, sql/analytics/)."""
    cells = conn.sql(
        read_sql("analytics/online_heatmap.sql"), params={"start": start, "end": end, "tz": tz}
    ).pl()
    ranked = cells.drop_nulls("avg_online").sort(
        ["avg_online", "weekday", "hour"], descending=[True, False, False]
    )
    return [(r["weekday"], r["hour"], r["avg_online"]) for r in ranked.head(limit).to_dicts()]
