"""PNG pictures for the Dagster UI, drawn with matplotlib's Agg canvas (no display, no pyplot).

Each function returns PNG bytes; ``tai_assets.common.markdown.png_image`` embeds them in Markdown
metadata as a ``data:image/png;base64`` URI. Figures are small (about 800×300 px) so metadata
stays light. Times are shown in the report timezone.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from tai_assets.analytics.periods import to_local

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_DPI = 80


def _figure(**options) -> Figure:
    """Return a new Agg figure; matplotlib is imported on first use, because importing it costs
    seconds of CPU in every process that loads tai's definitions (each run worker)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(**options)


def _concise_dates(axis):
    """Return a concise date formatter for an axis (matplotlib imported lazily)."""
    import matplotlib.dates as mdates

    return mdates.ConciseDateFormatter(axis.get_major_locator())


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def _local_naive(values: Sequence[datetime], tz: str) -> list[datetime]:
    return [to_local(v, tz).replace(tzinfo=None) for v in values]


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def online_curve_png(steps: pl.DataFrame, tz: str, title: str) -> bytes:
    """Return the online count over a window as a step curve, outages shaded red.

    ``steps`` come from :func:`tai_assets.analytics.online.online_steps` (naive UTC).
    """
    fig = _figure(figsize=(10, 3.2))
    ax = fig.subplots()
    ax.set_title(title)
    if steps.is_empty():
        _empty(ax, "no data")
        return _png(fig)
    starts = _local_naive(steps["t_from"].to_list(), tz)
    ends = _local_naive(steps["t_to"].to_list(), tz)
    xs, ys = [], []
    for a, b, status, online in zip(
        starts, ends, steps["status"].to_list(), steps["online"].to_list(), strict=True
    ):
        if status == "down" or online is None:
            ax.axvspan(a, b, color="tab:red", alpha=0.2, linewidth=0)
            xs += [a, b]
            ys += [float("nan"), float("nan")]
        else:
            xs += [a, b]
            ys += [online, online]
    ax.plot(xs, ys, color="tab:blue", linewidth=1.2)
    ax.set_ylabel("online")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_formatter(_concise_dates(ax.xaxis))
    return _png(fig)


def digest_png(
    daily: pl.DataFrame, top_players: pl.DataFrame, top_worlds: pl.DataFrame, title: str
) -> bytes:
    """Return a digest's picture: peak online per bucket (left), top players' hours and top
    worlds' scores (right). ``daily`` has (bucket, peak_online); either list may be empty."""
    fig = _figure(figsize=(11, 3.4))
    ax_line, ax_players, ax_worlds = fig.subplots(1, 3, gridspec_kw={"width_ratios": [2, 1, 1]})
    fig.suptitle(title)
    if daily.is_empty():
        _empty(ax_line, "no online data")
    else:
        buckets, peaks = daily["bucket"].to_list(), daily["peak_online"].to_list()
        hourly = len(buckets) > 1 and (buckets[1] - buckets[0]).total_seconds() < 86400
        width = 1 / 24 if hourly else 1.0
        ax_line.bar(buckets, peaks, width=width * 0.9, align="edge", color="tab:blue")
        ax_line.set_ylim(0, max(peaks) * 1.1 + 1)
        ax_line.grid(alpha=0.3, axis="y")
        ax_line.set_title("peak online", fontsize=9)
        ax_line.xaxis.set_major_formatter(_concise_dates(ax_line.xaxis))
    _barh(ax_players, top_players, "player", "hours", "top players, hours", "tab:green")
    _barh(ax_worlds, top_worlds, "name", "score", "top worlds, score", "tab:orange")
    return _png(fig)


def _barh(ax, frame: pl.DataFrame, label_col: str, value_col: str, title: str, color) -> None:
    ax.set_title(title, fontsize=9)
    if frame.is_empty():
        _empty(ax, "none")
        return
    labels = [str(v)[:18] for v in frame[label_col].to_list()][::-1]
    ax.barh(labels, frame[value_col].to_list()[::-1], color=color)
    ax.tick_params(axis="y", labelsize=8)


def retention_png(rows: pl.DataFrame, cohort_kind: str = "year", max_cohorts: int = 8) -> bytes:
    """Return retention curves (share retained vs N days) for the latest cohorts of a kind.

    Only mature shares are drawn (a cohort that cannot yet have reached N days would bend the
    curve down for no reason).
    """
    fig = _figure(figsize=(8, 3.6))
    ax = fig.subplots()
    ax.set_title(f"rolling retention by {cohort_kind} of registration")
    data = rows.filter((pl.col("cohort_kind") == cohort_kind) & pl.col("mature"))
    if data.is_empty():
        _empty(ax, "no mature cohorts")
        return _png(fig)
    cohorts = sorted(data["cohort_start"].unique().to_list())[-max_cohorts:]
    for start in cohorts:
        part = data.filter(pl.col("cohort_start") == start).sort("days")
        label = str(start.year) if cohort_kind == "year" else start.strftime("%Y-%m")
        size = part["cohort_size"][0]
        ax.plot(
            part["days"].to_list(),
            [100 * s for s in part["share"].to_list()],
            marker="o",
            markersize=3,
            label=f"{label} (n={size})",
        )
    ax.set_xscale("symlog", linthresh=7)
    ax.set_xlabel("days between registration and last login ≥")
    ax.set_ylabel("% of cohort")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    return _png(fig)


def habits_png(detail: pl.DataFrame, title: str) -> bytes:
    """Return histograms of sessions per player (left) and gaps between sessions (right)."""
    fig = _figure(figsize=(9, 3))
    ax_count, ax_gap = fig.subplots(1, 2)
    fig.suptitle(title)
    counts = detail["sessions"].to_list() if detail.height else []
    gaps = [g for lst in detail["gaps_minutes"].to_list() for g in lst] if detail.height else []
    if counts:
        top = max(counts)
        ax_count.hist(counts, bins=range(1, top + 2), align="left", color="tab:blue")
        ax_count.set_xlabel("sessions per player")
    else:
        _empty(ax_count, "no sessions")
    if gaps:
        ax_gap.hist(gaps, bins=20, color="tab:purple")
        ax_gap.set_xlabel("minutes between a player's sessions")
    else:
        _empty(ax_gap, "no gaps")
    return _png(fig)


def bars_png(frame: pl.DataFrame, label_col: str, value_col: str, title: str) -> bytes:
    """Return a horizontal bar chart of `frame` (already ordered, largest first)."""
    fig = _figure(figsize=(8, max(2.5, 0.22 * frame.height + 1)))
    _barh(fig.subplots(), frame, label_col, value_col, title, "tab:purple")
    return _png(fig)


def heatmap_png(cells: pl.DataFrame, title: str) -> bytes:
    """Return a weekday × hour heatmap of `avg_online` (rows weekday 1–7, columns hour 0–23)."""
    fig = _figure(figsize=(9, 3.2))
    ax = fig.subplots()
    ax.set_title(title, fontsize=10)
    if cells.is_empty():
        _empty(ax, "no online data")
        return _png(fig)
    grid = [[float("nan")] * 24 for _ in range(7)]
    for row in cells.iter_rows(named=True):
        if row["avg_online"] is not None:
            grid[row["weekday"] - 1][row["hour"]] = row["avg_online"]
    image = ax.imshow(grid, aspect="auto", cmap="viridis")
    ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("local hour")
    fig.colorbar(image, ax=ax, label="average online")
    return _png(fig)


def stacked_area_png(frame: pl.DataFrame, title: str) -> bytes:
    """Return a stacked area of `active_accounts` per `month`, one band per `cohort_year`."""
    fig = _figure(figsize=(9, 3.6))
    ax = fig.subplots()
    ax.set_title(title, fontsize=10)
    if frame.is_empty():
        _empty(ax, "no snapshot yet")
        return _png(fig)
    wide = frame.pivot(on="cohort_year", index="month", values="active_accounts").sort("month")
    years = [c for c in wide.columns if c != "month"]
    wide = wide.fill_null(0)
    ax.stackplot(wide["month"].to_list(), *[wide[y].to_list() for y in years], labels=years)
    ax.legend(fontsize=7, ncol=min(len(years), 8), loc="upper left", title="registered")
    ax.set_ylabel("active accounts")
    ax.xaxis.set_major_formatter(_concise_dates(ax.xaxis))
    return _png(fig)
