"""The server's online count over a window, from the ``core.server_online`` change log."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from tai_assets.analytics.queries import small_frame
from tai_assets.common.sql_files import read_sql

STEPS_SCHEMA = {
    "t_from": pl.Datetime("us"),
    "t_to": pl.Datetime("us"),
    "status": pl.String,
    "online": pl.Int64,
}


def online_steps(changes: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Return the online count as steps ``[t_from, t_to)`` clipped to the naive-UTC window.

    ``changes`` are ``core.server_online`` rows (changed_at, status, online) that include the
    last change at or before ``start`` when one exists (the state the window opens with). Time
    before the first known change is left out: unknown is not zero. ``status`` is up/down;
    ``online`` is NULL while down.
    """
    if changes.is_empty():
        return pl.DataFrame(schema=STEPS_SCHEMA)
    rows = (
        changes.select(
            pl.col("changed_at").cast(pl.Datetime("us")),
            pl.col("status"),
            pl.col("online").cast(pl.Int64),
        )
        .filter(pl.col("changed_at") < end)
        .sort("changed_at")
    )
    before = rows.filter(pl.col("changed_at") <= start).tail(1)
    inside = rows.filter(pl.col("changed_at") > start)
    steps = pl.concat([before, inside]).with_columns(
        t_from=pl.max_horizontal(pl.col("changed_at"), pl.lit(start).cast(pl.Datetime("us"))),
        t_to=pl.col("changed_at").shift(-1).fill_null(pl.lit(end).cast(pl.Datetime("us"))),
    )
    return steps.filter(pl.col("t_to") > pl.col("t_from")).select(list(STEPS_SCHEMA))


def peak_online(steps: pl.DataFrame) -> tuple[int | None, datetime | None]:
    """Return ``(peak, when)``: the highest online count while up, and when it was first reached.

    Returns ``(None, None)`` when the window has no up-time with a known count.
    """
    up = steps.filter((pl.col("status") == "up") & pl.col("online").is_not_null())
    if up.is_empty():
        return None, None
    peak = int(up["online"].max())  # type: ignore[arg-type]
    when = up.filter(pl.col("online") == peak).sort("t_from")["t_from"][0]
    return peak, when


PEAKS_SCHEMA = {"bucket": pl.Datetime("us"), "peak_online": pl.Int64, "peak_at": pl.Datetime("us")}


def online_peaks(conn, start: datetime, end: datetime, tz: str, unit: str) -> pl.DataFrame:
    """Return (bucket, peak_online, peak_at): the highest online count per local ``unit``
    (``hour`` or ``day``, wall-clock time in ``tz``) of the naive-UTC window and the first
    instant it was reached. Computed inside DuckDB (``sql/analytics/online_peaks.sql``), so only
    one row per bucket leaves the warehouse, whatever the number of changes."""
    params = {"start": start, "end": end, "tz": tz, "unit": unit}
    frame = small_frame(conn, read_sql("analytics/online_peaks.sql"), params)
    return frame.cast(PEAKS_SCHEMA) if frame.height else pl.DataFrame(schema=PEAKS_SCHEMA)


def overall_peak(peaks: pl.DataFrame) -> tuple[int | None, datetime | None]:
    """Return ``(peak, when)`` over the buckets of :func:`online_peaks`: the highest count and
    the first instant it was reached (``(None, None)`` without any up-time)."""
    if peaks.is_empty():
        return None, None
    peak = int(peaks["peak_online"].max())  # type: ignore[arg-type]
    return peak, peaks.filter(pl.col("peak_online") == peak)["peak_at"].min()  # type: ignore[return-value]
