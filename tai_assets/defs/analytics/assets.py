"""Analytics assets: daily activity, digests per day/week/month/year, retention, session habits.

Everything here is wiring: the numbers come from ``tai_assets.analytics`` (pure functions over
polars frames), read from the core tables by SQL through ``WarehouseResource`` and written by the
warehouse IO manager into schema ``analytics`` (DDL in ``sql/ddl/40_analytics.sql``).

Periods are local calendar periods in ``TAI_REPORT_TIMEZONE`` (default Europe/Moscow; weeks run
Monday–Sunday). Each time-partitioned asset's last partition is the last *complete* period, so a
digest is only ever made after its period ends; the schedules below materialize it shortly after
midnight, and any older partition can be backfilled from the UI.
"""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl

from tai_assets.analytics import queries
from tai_assets.analytics.activity import daily_activity as compute_daily_activity
from tai_assets.analytics.activity import daily_activity_frame
from tai_assets.analytics.activity import session_habits as compute_session_habits
from tai_assets.analytics.online import online_steps
from tai_assets.analytics.plots import habits_png, online_curve_png, retention_png
from tai_assets.analytics.retention import retention
from tai_assets.common.markdown import frame_to_markdown, png_image
from tai_assets.defs.analytics.checks import (
    DAILY_ACTIVITY_CHECK,
    PLAYER_RETENTION_CHECK,
    activity_check_result,
    retention_check_result,
)
from tai_assets.defs.analytics.partitions import (
    DAILY,
    REPORT_TZ,
    SESSION_DEPS,
    now_naive,
    period_of,
)
from tai_assets.defs.analytics.resources import AnalyticsSettings
from tai_assets.defs.resources import WarehouseResource
from tai_assets.warehouse.io_manager import WRITE_MODE_KEY

OWNERS = ["team:tai"]
GROUP = "analytics"


def table_metadata(mode: str, partition_expr: str | None = None) -> dict:
    """Return an analytics asset's definition metadata: its schema, write mode and partition."""
    meta = {"schema": "analytics", WRITE_MODE_KEY: mode}
    if partition_expr:
        meta["partition_expr"] = partition_expr
    return meta


def key_values(row: dict) -> str:
    """Return a row as a two-column Markdown table (field, value), for metadata."""
    frame = pl.DataFrame({"field": list(row), "value": [str(v) for v in row.values()]})
    return frame_to_markdown(frame, limit=len(row))


@dg.asset(
    partitions_def=DAILY,
    deps=[*SESSION_DEPS, "raw_server_polls"],
    metadata=table_metadata("replace_partition", "day"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[DAILY_ACTIVITY_CHECK],
)
def daily_activity(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Per local day: active and new players, sessions, total and median play time, peak online
    and when, server availability (share of polls answered) and worlds opened."""
    day = period_of(context, "day")
    start, end = day.start_utc, day.end_utc
    with warehouse.connect() as conn:
        changes = queries.server_online_window(conn, start, end)
        row = compute_daily_activity(
            day,
            queries.player_sessions_overlapping(conn, start, end),
            queries.first_sessions(conn, start, end),
            changes,
            queries.poll_statuses(conn, start, end),
            queries.world_sessions_starting(conn, start, end),
        )
    frame = daily_activity_frame([row]).with_columns(computed_at=pl.lit(now_naive()))
    picture = online_curve_png(online_steps(changes, start, end), REPORT_TZ, f"online, {day.start}")
    yield dg.Output(
        frame,
        metadata={
            "picture": dg.MetadataValue.md(png_image(picture, f"online on {day.start}")),
            "figures": dg.MetadataValue.md(key_values(row.as_dict())),
            "active_players": row.active_players,
            "peak_online": dg.MetadataValue.int(row.peak_online)
            if row.peak_online is not None
            else dg.MetadataValue.null(),
        },
    )
    yield activity_check_result(row)


@dg.asset(
    partitions_def=DAILY,
    deps=["player_sessions"],
    metadata=table_metadata("replace_partition", "day"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
)
def session_habits(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """Per local day: sessions per player, and the pauses between a player's sessions that day."""
    day = period_of(context, "day")
    with warehouse.connect() as conn:
        sessions = queries.player_sessions_starting(conn, day.start_utc, day.end_utc)
    summary, detail = compute_session_habits(day, sessions)
    frame = summary.with_columns(computed_at=pl.lit(now_naive()))
    picture = habits_png(detail, f"session habits, {day.start}")
    top = detail.head(10).with_columns(
        gaps_minutes=pl.col("gaps_minutes")
        .list.eval(pl.element().round(0))
        .cast(pl.List(pl.String))
        .list.join(", ")
    )
    return dg.Output(
        frame,
        metadata={
            "picture": dg.MetadataValue.md(png_image(picture, f"session habits on {day.start}")),
            "figures": dg.MetadataValue.md(key_values(summary.to_dicts()[0])),
            "most_sessions": dg.MetadataValue.md(frame_to_markdown(top, limit=10)),
        },
    )


@dg.asset(
    deps=[dg.AssetDep("players_snapshot", partition_mapping=dg.LastPartitionMapping())],
    metadata=table_metadata("replace"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[PLAYER_RETENTION_CHECK],
)
def player_retention(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    analytics_settings: AnalyticsSettings,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Rolling retention by month and year of registration, from the latest players snapshot:
    the share of each cohort whose lastlogin − regdate ≥ N days, for each N, with cohort sizes."""
    with warehouse.connect() as conn:
        snapshot = queries.latest_players_snapshot(conn)
    if snapshot.is_empty():
        context.log.info("No players snapshot yet: retention is empty.")
        snapshot_time = now_naive()
    else:
        snapshot_time = snapshot["snapshot_time"].max()
    exclude_before = date.fromisoformat(analytics_settings.retention_exclude_before)
    frame = retention(
        snapshot,
        snapshot_time,
        REPORT_TZ,
        analytics_settings.retention_days,
        exclude_before,
    )
    yearly = (
        frame.filter(pl.col("cohort_kind") == "year").pivot(
            on="days", index=["cohort_start", "cohort_size"], values="share"
        )
        if frame.height
        else frame
    )
    yield dg.Output(
        frame,
        metadata={
            "picture": dg.MetadataValue.md(
                png_image(retention_png(frame, "year"), "retention by year of registration")
                + "\n\n"
                + png_image(
                    retention_png(frame, "month", max_cohorts=6),
                    "retention by month of registration",
                )
            ),
            "yearly_cohorts": dg.MetadataValue.md(
                frame_to_markdown(yearly.with_columns(pl.selectors.float().round(3)), limit=20)
                if yearly.height
                else "_no cohorts_"
            ),
            "players": snapshot.height,
            "snapshot_week": str(snapshot["snapshot_week"].max()) if snapshot.height else "none",
        },
    )
    yield retention_check_result(frame)
