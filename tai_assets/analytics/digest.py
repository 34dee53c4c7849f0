"""A period's digest: top players, top worlds and peak online, computed from the warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from tai_assets.analytics.genres import UNTAGGED, genre_popularity
from tai_assets.analytics.names import DEFAULT_BOTS
from tai_assets.analytics.online import online_peaks, overall_peak
from tai_assets.analytics.periods import Period
from tai_assets.analytics.players import rank_players
from tai_assets.analytics.popularity import (
    DEFAULT_WORLD_RULES,
    WorldRules,
    top_worlds,
    world_activity,
)
from tai_assets.analytics.queries import small_frame
from tai_assets.analytics.render import DigestContent, GenreLine, PlayerLine, WorldLine
from tai_assets.common.sql_files import read_sql


@dataclass(frozen=True)
class DigestData:
    """A computed digest: what it says plus the frames behind its picture."""

    content: DigestContent
    top_players: pl.DataFrame
    top_worlds: pl.DataFrame
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
    Every filter and aggregation runs inside DuckDB: only the rows a digest can show leave it.
    """
    start, end = period.start_utc, period.end_utc
    players = rank_players(conn, start, end, bots, top_n_players)
    activity = world_activity(conn, start, end, rules, best_per_world=True)
    worlds = top_worlds(activity.scores, rules)
    genres = top_genres(conn, activity.hours)
    busiest = peak_hours(conn, start, end, period.tz) if period.kind == "week" else []
    peaks = online_peaks(conn, start, end, period.tz, "hour" if period.kind == "day" else "day")
    peak, peak_at = overall_peak(peaks)
    content = DigestContent(
        period=period,
        top_players=[PlayerLine(**row) for row in players.top.iter_rows(named=True)],
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
        active_players=players.active_players,
        sessions=players.sessions,
        top_genres=genres,
        peak_hours=busiest,
    )
    return DigestData(content, players.top, worlds, peaks.select("bucket", "peak_online"))


def top_genres(conn, hours: pl.DataFrame, limit: int = 3) -> list[GenreLine]:
    """Return the genre tags with the most player-hours of `hours` (`world_activity`'s, for
    the digest's window; untagged left out; none until `world_tags` has run)."""
    tags = small_frame(conn, "SELECT name, tags FROM analytics.world_tags")
    if tags.is_empty():
        return []
    ranked = genre_popularity(hours, tags).filter(
        (pl.col("tag") != UNTAGGED) & (pl.col("player_hours") > 0)
    )
    return [GenreLine(row["tag"], row["player_hours"]) for row in ranked.head(limit).to_dicts()]


def peak_hours(conn, start, end, tz: str, limit: int = 3) -> list[tuple[int, int, float]]:
    """Return the local (weekday, hour) with the highest average online in [start, end), with
    that average: the weekly digest's peak hours (the heatmap's query, sql/analytics/)."""
    params = {"start": start, "end": end, "tz": tz}
    cells = small_frame(conn, read_sql("analytics/online_heatmap.sql"), params)
    ranked = cells.drop_nulls("avg_online").sort(
        ["avg_online", "weekday", "hour"], descending=[True, False, False]
    )
    return [(r["weekday"], r["hour"], r["avg_online"]) for r in ranked.head(limit).to_dicts()]
