"""Most active players of a period."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from tai_assets.analytics.names import DEFAULT_BOTS, normalize_bots, unsafe_reason

TOP_PLAYERS_SCHEMA = {"player": pl.String, "sessions": pl.Int64, "hours": pl.Float64}


def player_totals(sessions: pl.DataFrame) -> pl.DataFrame:
    """Return (player, sessions, hours) per player over the given sessions (whole lengths)."""
    return sessions.group_by("player").agg(
        sessions=pl.len().cast(pl.Int64),
        hours=(pl.col("session_end") - pl.col("session_start")).dt.total_microseconds().sum()
        / 3.6e9,
    )


def top_players_from_totals(
    totals: pl.DataFrame, bots: Iterable[str] = DEFAULT_BOTS, top_n: int = 3
) -> pl.DataFrame:
    """Return the ``top_n`` rows of (player, sessions, hours) by hours, most first.

    Bots (case-insensitive) and unsafe names are left out; ties are broken by name so the
    answer is deterministic.
    """
    if totals.is_empty():
        return pl.DataFrame(schema=TOP_PLAYERS_SCHEMA)
    bot_set = normalize_bots(bots)
    names = totals["player"].to_list()
    mask = [n.strip().lower() not in bot_set and unsafe_reason(n) is None for n in names]
    return (
        totals.filter(pl.Series(mask, dtype=pl.Boolean))
        .with_columns(pl.col("sessions").cast(pl.Int64), pl.col("hours").cast(pl.Float64))
        .sort(["hours", "player"], descending=[True, False])
        .head(top_n)
        .select(list(TOP_PLAYERS_SCHEMA))
    )
