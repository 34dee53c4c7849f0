"""When people play and who they are: the online heatmap (per month, and the last 28 days),
player profiles, and accounts' name changes between snapshots."""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import polars as pl

from tai_assets.analytics.plots import bars_png, heatmap_png
from tai_assets.common.markdown import frame_to_markdown, png_image
from tai_assets.common.sql_files import read_sql
from tai_assets.defs.analytics.assets import GROUP, OWNERS, table_metadata
from tai_assets.defs.analytics.checks import problems_verdict
from tai_assets.defs.analytics.partitions import MONTHLY, REPORT_TZ, now_naive, period_of
from tai_assets.defs.resources import WarehouseResource

HEATMAP_CHECK = dg.AssetCheckSpec(
    "cells_valid",
    asset="online_heatmap",
    description="At most 7 × 24 cells, weekdays 1–7, hours 0–23, averages ≥ 0.",
)
RECENT_DAYS = 28


def heatmap_check(cells: pl.DataFrame, check_name: str, asset: str) -> dg.AssetCheckResult:
    """Return the verdict on heatmap cells (each problem named)."""
    problems = []
    if cells.height > 7 * 24:
        problems.append(f"{cells.height} cells")
    if cells.height and not cells["weekday"].is_between(1, 7).all():
        problems.append("a weekday outside 1–7")
    if cells.height and not cells["hour"].is_between(0, 23).all():
        problems.append("an hour outside 0–23")
    if (cells["avg_online"].drop_nulls() < 0).any():
        problems.append("a negative average")
    return problems_verdict(check_name, problems, asset, cells=cells.height)


def _heatmap(conn, start, end) -> pl.DataFrame:
    return conn.sql(
        read_sql("analytics/online_heatmap.sql"),
        params={"start": start, "end": end, "tz": REPORT_TZ},
    ).pl()


def _heatmap_output(cells: pl.DataFrame, month, title: str) -> dg.Output:
    frame = cells.with_columns(month=pl.lit(month))
    busiest = cells.sort("avg_online", descending=True, nulls_last=True).head(5)
    return dg.Output(
        frame,
        metadata={
            "picture": dg.MetadataValue.md(png_image(heatmap_png(cells, title), title)),
            "busiest_hours": dg.MetadataValue.md(
                frame_to_markdown(busiest.with_columns(pl.col("avg_online").round(1)), limit=5)
            ),
            "cells": cells.height,
        },
    )


@dg.asset(
    partitions_def=MONTHLY,
    deps=["server_online"],
    metadata=table_metadata("replace_partition", "month"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[HEATMAP_CHECK],
)
def online_heatmap(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """When people play: the average online count per local weekday × hour of the month
    (minute samples of the online series, up-time only), as a heatmap."""
    month = period_of(context, "month")
    with warehouse.connect() as conn:
        cells = _heatmap(conn, month.start_utc, month.end_utc)
    yield _heatmap_output(cells, month.start, f"average online, {month.start:%Y-%m}")
    yield heatmap_check(cells, HEATMAP_CHECK.name, "online_heatmap")


RECENT_CHECK = dg.AssetCheckSpec(
    "cells_valid", asset="online_heatmap_recent", description=HEATMAP_CHECK.description
)


@dg.asset(
    deps=["server_online"],
    metadata=table_metadata("replace"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[RECENT_CHECK],
)
def online_heatmap_recent(
    warehouse: WarehouseResource,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """The heatmap of the last 28 days (to the last whole minute), refreshed daily."""
    end = now_naive().replace(second=0, microsecond=0)
    start = end - timedelta(days=RECENT_DAYS)
    with warehouse.connect() as conn:
        cells = _heatmap(conn, start, end)
    yield _heatmap_output(cells, start.date(), f"average online, last {RECENT_DAYS} days")
    yield heatmap_check(cells, RECENT_CHECK.name, "online_heatmap_recent")


@dg.asset(
    deps=["player_sessions", "players_snapshot"],
    metadata=table_metadata("replace"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
)
def player_profiles(warehouse: WarehouseResource) -> dg.Output[pl.DataFrame]:
    """Every player ever seen: first and last seen, sessions, total hours and hours in the last
    7 and 30 days, median session length, the local hour they usually start, and the account
    (id, regdate) of that login in the latest players snapshot."""
    now = now_naive()
    with warehouse.connect() as conn:
        frame = conn.sql(
            read_sql("analytics/player_profiles.sql"), params={"now": now, "tz": REPORT_TZ}
        ).pl()
    frame = frame.with_columns(computed_at=pl.lit(now))
    matched = int(frame["account_id"].is_not_null().sum()) if frame.height else 0
    title = "Most hours in the last 30 days (top 20)"
    busiest = frame.sort("hours_last_30_days", descending=True).head(20)
    busiest = busiest.filter(pl.col("hours_last_30_days") > 0)
    picture = bars_png(busiest, "player", "hours_last_30_days", title)
    return dg.Output(
        frame,
        metadata={
            "players": frame.height,
            "with_account": matched,
            "picture": dg.MetadataValue.md(png_image(picture, title)),
            "most_hours": dg.MetadataValue.md(
                frame_to_markdown(
                    frame.select(
                        "player", "sessions", "total_hours", "hours_last_30_days", "usual_hour"
                    ).with_columns(pl.selectors.float().round(1)),
                    limit=10,
                )
            ),
        },
    )


@dg.asset(
    deps=["players_snapshot"],
    metadata=table_metadata("replace"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
)
def name_history(warehouse: WarehouseResource) -> dg.Output[pl.DataFrame]:
    """Accounts seen under a different login between two consecutive snapshots: the old and
    the new login and the weeks of the change."""
    with warehouse.connect() as conn:
        frame = conn.sql(read_sql("analytics/name_history.sql")).pl()
    title = "Renamed accounts per snapshot week"
    per_week = frame.group_by("first_week_new").len("renamed").sort("first_week_new").tail(26)
    per_week = per_week.sort("first_week_new", descending=True)
    picture = bars_png(per_week, "first_week_new", "renamed", title)
    return dg.Output(
        frame,
        metadata={
            "changes": frame.height,
            "accounts": frame["account_id"].n_unique() if frame.height else 0,
            "latest": dg.MetadataValue.md(frame_to_markdown(frame.tail(10), limit=10)),
            "picture": dg.MetadataValue.md(png_image(picture, title)),
        },
    )


PEOPLE_ASSETS = [online_heatmap, online_heatmap_recent, player_profiles, name_history]
