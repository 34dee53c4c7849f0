"""Per-day activity figures and session habits (pure, on DataFrames shaped like core tables)."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import date, datetime

import polars as pl

from tai_assets.analytics.online import online_steps, peak_online
from tai_assets.analytics.periods import Period


@dataclass(frozen=True)
class DailyActivity:
    """One row of ``analytics.daily_activity``; see :func:`daily_activity`."""

    day: date
    active_players: int
    new_players: int
    sessions: int
    total_play_hours: float
    median_player_hours: float | None
    median_session_minutes: float | None
    peak_online: int | None
    peak_online_at: datetime | None
    polls: int
    polls_answered: int
    availability: float | None
    worlds_opened: int
    distinct_worlds: int

    def as_dict(self) -> dict:
        """Return the row as a plain dict (column name → value)."""
        return asdict(self)


DAILY_ACTIVITY_SCHEMA = {
    "day": pl.Date,
    "active_players": pl.Int32,
    "new_players": pl.Int32,
    "sessions": pl.Int32,
    "total_play_hours": pl.Float64,
    "median_player_hours": pl.Float64,
    "median_session_minutes": pl.Float64,
    "peak_online": pl.Int32,
    "peak_online_at": pl.Datetime("us"),
    "polls": pl.Int32,
    "polls_answered": pl.Int32,
    "availability": pl.Float64,
    "worlds_opened": pl.Int32,
    "distinct_worlds": pl.Int32,
}


def _us(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Datetime("us"))


def daily_activity(
    day: Period,
    sessions: pl.DataFrame,
    first_seen: pl.DataFrame,
    changes: pl.DataFrame,
    poll_statuses: pl.DataFrame,
    world_sessions: pl.DataFrame,
) -> DailyActivity:
    """Return the activity figures of one local day.

    - ``sessions``: player sessions overlapping the day (player, session_start, session_end).
      Active players are those with any overlap; play time counts only the part inside the day
      (a session crossing midnight is split between the two days); ``sessions`` counts the ones
      that start in the day and ``median_session_minutes`` is their median full length.
    - ``first_seen``: (player, first_start) — each active player's first session ever; new
      players are those whose first session starts in the day.
    - ``changes``: ``core.server_online`` rows in the day plus the last one before it.
    - ``poll_statuses``: (status, polls) counts of ``raw.raw_server_polls`` in the day;
      availability = share of polls with an answer (status other than ``unreachable``).
    - ``world_sessions``: world sessions starting in the day (name, session_start, ...).
    """
    start, end = day.start_utc, day.end_utc
    s = sessions.select("player", _us("session_start"), _us("session_end")).filter(
        (pl.col("session_end") >= start) & (pl.col("session_start") < end)
    )
    clipped = s.with_columns(
        inside=(
            pl.min_horizontal("session_end", pl.lit(end).cast(pl.Datetime("us")))
            - pl.max_horizontal("session_start", pl.lit(start).cast(pl.Datetime("us")))
        ).dt.total_microseconds()
        / 3.6e9
    )
    per_player = clipped.group_by("player").agg(hours=pl.col("inside").sum())
    starting = s.filter(pl.col("session_start") >= start)
    lengths = (
        (starting["session_end"] - starting["session_start"]).dt.total_microseconds() / 6e7
    ).to_list()
    first = first_seen.select("player", _us("first_start"))
    new_players = first.filter((pl.col("first_start") >= start) & (pl.col("first_start") < end))[
        "player"
    ].n_unique()
    peak, peak_at = peak_online(online_steps(changes, start, end))
    counts = {row["status"]: int(row["polls"]) for row in poll_statuses.iter_rows(named=True)}
    polls = sum(counts.values())
    answered = polls - counts.get("unreachable", 0)
    ws = world_sessions.select("name", _us("session_start")).filter(
        (pl.col("session_start") >= start) & (pl.col("session_start") < end)
    )
    return DailyActivity(
        day=day.start,
        active_players=per_player.height,
        new_players=int(new_players),
        sessions=starting.height,
        total_play_hours=float(clipped["inside"].sum() or 0.0),
        median_player_hours=(
            float(statistics.median(per_player["hours"].to_list())) if per_player.height else None
        ),
        median_session_minutes=float(statistics.median(lengths)) if lengths else None,
        peak_online=peak,
        peak_online_at=peak_at,
        polls=polls,
        polls_answered=answered,
        availability=answered / polls if polls else None,
        worlds_opened=ws.height,
        distinct_worlds=ws["name"].n_unique(),
    )


def daily_activity_frame(rows: list[DailyActivity]) -> pl.DataFrame:
    """Return rows as a DataFrame with the exact ``analytics.daily_activity`` column types."""
    return pl.DataFrame([r.as_dict() for r in rows], schema=DAILY_ACTIVITY_SCHEMA, orient="row")


SESSION_HABITS_SCHEMA = {
    "day": pl.Date,
    "players": pl.Int32,
    "sessions": pl.Int32,
    "mean_sessions_per_player": pl.Float64,
    "median_sessions_per_player": pl.Float64,
    "max_sessions_per_player": pl.Int32,
    "players_with_several": pl.Int32,
    "gaps": pl.Int32,
    "median_gap_minutes": pl.Float64,
    "mean_gap_minutes": pl.Float64,
    "p90_gap_minutes": pl.Float64,
}


def session_habits(day: Period, sessions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return ``(summary, detail)`` of how people split their play over one local day.

    Only sessions that start in the day count. ``detail`` has one row per player:
    (player, sessions, gaps_minutes list) where a gap is the time from the end of one session
    to the start of the player's next session the same day. ``summary`` is one row shaped like
    ``analytics.session_habits``; it has zero counts and NULL statistics for an empty day.
    """
    start, end = day.start_utc, day.end_utc
    s = (
        sessions.select("player", _us("session_start"), _us("session_end"))
        .filter((pl.col("session_start") >= start) & (pl.col("session_start") < end))
        .sort("player", "session_start")
    )
    detail = (
        s.with_columns(
            gap=(
                (
                    pl.col("session_start") - pl.col("session_end").shift(1).over("player")
                ).dt.total_microseconds()
                / 6e7
            )
        )
        .group_by("player")
        .agg(sessions=pl.len().cast(pl.Int64), gaps_minutes=pl.col("gap").drop_nulls())
        .sort("sessions", "player", descending=[True, False])
    )
    counts = detail["sessions"].to_list()
    gaps = [g for lst in detail["gaps_minutes"].to_list() for g in lst]
    gaps_sorted = sorted(gaps)
    summary = pl.DataFrame(
        [
            {
                "day": day.start,
                "players": len(counts),
                "sessions": sum(counts),
                "mean_sessions_per_player": statistics.fmean(counts) if counts else None,
                "median_sessions_per_player": (
                    float(statistics.median(counts)) if counts else None
                ),
                "max_sessions_per_player": max(counts) if counts else 0,
                "players_with_several": sum(1 for c in counts if c > 1),
                "gaps": len(gaps),
                "median_gap_minutes": float(statistics.median(gaps)) if gaps else None,
                "mean_gap_minutes": statistics.fmean(gaps) if gaps else None,
                "p90_gap_minutes": _quantile(gaps_sorted, 0.9),
            }
        ],
        schema=SESSION_HABITS_SCHEMA,
    )
    return summary, detail


def _quantile(sorted_values: list[float], q: float) -> float | None:
    """Linear-interpolation quantile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)
