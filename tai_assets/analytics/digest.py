"""A period's digest: top players, top worlds and peak online, computed from the warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from tai_assets.analytics import queries
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
from tai_assets.analytics.render import DigestContent, PlayerLine, WorldLine


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
    )
    every = "1h" if period.kind == "day" else "1d"
    return DigestData(content, players, worlds, steps, bucket_peaks(steps, period.tz, every))
