"""Most active players of a period."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from tai_assets.analytics.names import DEFAULT_BOTS, normalize_bots, unsafe_reason
from tai_assets.common.sql_files import read_sql

TOP_PLAYERS_SCHEMA = {"player": pl.String, "sessions": pl.Int64, "hours": pl.Float64}
FETCH_ROWS = 64


def player_totals(sessions: pl.DataFrame) -> pl.DataFrame:
    """Return (player, sessions, hours) per player over the given sessions (whole lengths)."""
    return sessions.group_by("player").agg(
        sessions=pl.len().cast(pl.Int64),
        hours=(pl.col("session_end") - pl.col("session_start")).dt.total_microseconds().sum()
        / 3.6e9,
    )


def first_safe_players(
    ranked: Iterable[tuple[str, int, float]], bots: Iterable[str] = DEFAULT_BOTS, top_n: int = 3
) -> pl.DataFrame:
    """Return the first ``top_n`` of ``ranked`` (player, sessions, hours), already in ranking
    order, that are neither bots (case-insensitive) nor unsafe names. Stops reading as soon as
    it has them, so a long ranking costs only the rows it looks at."""
    bot_set = normalize_bots(bots)
    chosen = []
    for player, sessions, hours in ranked:
        if len(chosen) == top_n:
            break
        if player.strip().lower() not in bot_set and unsafe_reason(player) is None:
            chosen.append((player, int(sessions), float(hours)))
    return pl.DataFrame(chosen, schema=TOP_PLAYERS_SCHEMA, orient="row")


def top_players_from_totals(
    totals: pl.DataFrame, bots: Iterable[str] = DEFAULT_BOTS, top_n: int = 3
) -> pl.DataFrame:
    """Return the ``top_n`` rows of (player, sessions, hours) by hours, most first.

    Bots (case-insensitive) and unsafe names are left out; ties are broken by name so the
    answer is deterministic.
    """
    ranked = totals.sort(["hours", "player"], descending=[True, False])
    return first_safe_players(ranked.select(list(TOP_PLAYERS_SCHEMA)).iter_rows(), bots, top_n)


@dataclass(frozen=True)
class PlayerRanking:
    """A period's players: how many were active, their sessions, and the top ones."""

    active_players: int
    sessions: int
    top: pl.DataFrame


def rank_players(
    conn, start: datetime, end: datetime, bots: Iterable[str] = DEFAULT_BOTS, top_n: int = 3
) -> PlayerRanking:
    """Return the players of the sessions that start in [start, end), ranked inside DuckDB
    (``sql/analytics/player_ranking.sql``); rows are fetched a few at a time until ``top_n``
    publishable players are found."""
    params = {"start": start, "end": end}
    with conn.cursor() as cursor:  # its own result, dropped unread when the top is found
        result = cursor.execute(read_sql("analytics/player_ranking.sql"), params)
        first = result.fetchmany(FETCH_ROWS)
        if not first:
            return PlayerRanking(0, 0, pl.DataFrame(schema=TOP_PLAYERS_SCHEMA))

        def rows() -> Iterator[tuple[str, int, float]]:
            batch = first
            while batch:
                yield from (row[:3] for row in batch)
                batch = result.fetchmany(FETCH_ROWS)

        top = first_safe_players(rows(), bots, top_n)
    return PlayerRanking(int(first[0][3]), int(first[0][4]), top)
