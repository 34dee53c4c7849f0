"""Rolling retention by registration cohort, from one players snapshot.

A player is retained for N days when ``lastlogin − regdate ≥ N days``. Cohorts are the local
month or year (report timezone) of ``regdate``. A share is *mature* when every member of the
cohort registered at least N days before the snapshot, so it could have reached N days; immature
shares are kept (and flagged) but left out of the pictures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import polars as pl

from tai_assets.analytics.periods import Period

DEFAULT_RETENTION_DAYS: tuple[int, ...] = (1, 3, 7, 14, 30, 60, 90, 180, 365)
DEFAULT_EXCLUDE_BEFORE = date(2018, 1, 1)

RETENTION_SCHEMA = {
    "cohort_kind": pl.String,
    "cohort_start": pl.Date,
    "days": pl.Int32,
    "cohort_size": pl.Int32,
    "retained": pl.Int32,
    "share": pl.Float64,
    "mature": pl.Boolean,
    "snapshot_time": pl.Datetime("us"),
}


def retention(
    snapshot: pl.DataFrame,
    snapshot_time: datetime,
    tz: str,
    days: Sequence[int] = DEFAULT_RETENTION_DAYS,
    exclude_before: date = DEFAULT_EXCLUDE_BEFORE,
) -> pl.DataFrame:
    """Return retention rows (``RETENTION_SCHEMA``) for monthly and yearly cohorts.

    ``snapshot`` has (regdate, lastlogin) as naive UTC; ``snapshot_time`` is naive UTC too.
    Players without a regdate, or registered before local date ``exclude_before``, are left out;
    a missing lastlogin counts as never coming back (0 days).
    """
    snap_time = snapshot_time.replace(tzinfo=None)
    base = (
        snapshot.select(
            pl.col("regdate").cast(pl.Datetime("us")), pl.col("lastlogin").cast(pl.Datetime("us"))
        )
        .filter(pl.col("regdate").is_not_null())
        .with_columns(
            local_day=pl.col("regdate")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(tz)
            .dt.date(),
            kept_days=(
                (
                    pl.col("lastlogin").fill_null(pl.col("regdate")) - pl.col("regdate")
                ).dt.total_microseconds()
                / 8.64e10
            ),
        )
        .filter(pl.col("local_day") >= exclude_before)
    )
    frames = []
    for kind, trunc in (("month", "1mo"), ("year", "1y")):
        cohorts = base.with_columns(cohort_start=pl.col("local_day").dt.truncate(trunc))
        for n in days:
            agg = cohorts.group_by("cohort_start").agg(
                cohort_size=pl.len().cast(pl.Int32),
                retained=(pl.col("kept_days") >= n).sum().cast(pl.Int32),
            )
            frames.append(agg.with_columns(cohort_kind=pl.lit(kind), days=pl.lit(n, pl.Int32)))
    if not frames or base.is_empty():
        return pl.DataFrame(schema=RETENTION_SCHEMA)
    out = pl.concat(frames).with_columns(
        share=pl.col("retained") / pl.col("cohort_size"),
        snapshot_time=pl.lit(snap_time).cast(pl.Datetime("us")),
    )
    mature = [
        _is_mature(kind, start, n, snap_time, tz)
        for kind, start, n in zip(
            out["cohort_kind"].to_list(),
            out["cohort_start"].to_list(),
            out["days"].to_list(),
            strict=True,
        )
    ]
    return (
        out.with_columns(mature=pl.Series(mature, dtype=pl.Boolean))
        .select(list(RETENTION_SCHEMA))
        .sort("cohort_kind", "cohort_start", "days")
    )


def _is_mature(kind: str, start: date, n: int, snapshot_time: datetime, tz: str) -> bool:
    """True when the whole cohort registered at least ``n`` days before the snapshot."""
    cohort_end = Period(kind, start, tz).end_utc  # type: ignore[arg-type]
    return (snapshot_time - cohort_end).total_seconds() >= n * 86400
