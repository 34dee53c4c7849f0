"""The player base from the latest weekly snapshot: registrations and active accounts per
month with their age, the cohorts by year of registration (a stacked picture), the share of
role-play names per registration year; and churn per week, from the sessions."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from tai_assets.analytics.player_base import cohorts, monthly_player_base
from tai_assets.analytics.plots import bars_png, stacked_area_png
from tai_assets.common.markdown import frame_to_markdown, png_image
from tai_assets.common.sql_files import read_sql
from tai_assets.defs.analytics.assets import GROUP, OWNERS, table_metadata
from tai_assets.defs.analytics.checks import problems_verdict
from tai_assets.defs.analytics.partitions import REPORT_TZ, now_naive
from tai_assets.defs.resources import WarehouseResource
from tai_assets.warehouse.connection import scalar

LATEST_SNAPSHOT = dg.AssetDep("players_snapshot", partition_mapping=dg.LastPartitionMapping())
COHORTS_CHECK = dg.AssetCheckSpec(
    "cohorts_add_up",
    asset="player_base",
    description="Each month's cohorts add up to its active accounts; registrations ≤ active.",
)
SHARES_CHECK = dg.AssetCheckSpec(
    "shares_within_0_1",
    asset="rp_names",
    description="Every share within [0, 1]; role-play names ≤ accounts.",
)
CHURN_CHECK = dg.AssetCheckSpec(
    "churned_within_regulars",
    asset="player_churn",
    description="0 ≤ churned ≤ regulars each week; shares within [0, 1].",
)


def cohorts_check(base: pl.DataFrame, by_cohort: pl.DataFrame) -> dg.AssetCheckResult:
    """Return whether the cohorts add up to each month's active accounts."""
    sums = by_cohort.group_by("month").agg(pl.col("active_accounts").sum().alias("cohorts"))
    joined = base.join(sums, on="month", how="left")
    problems = []
    off = joined.filter(pl.col("cohorts").fill_null(0) != pl.col("active_accounts"))
    if off.height:
        problems.append(f"{off.height} months whose cohorts do not add up")
    if (base["registrations"] > base["active_accounts"]).any():
        problems.append("registrations above active accounts")
    return problems_verdict(COHORTS_CHECK.name, problems, None, months=base.height)


@dg.multi_asset(
    outs={
        "player_base": dg.AssetOut(
            metadata=table_metadata("replace"),
            kinds={"duckdb", "polars", "matplotlib"},
            group_name=GROUP,
            owners=OWNERS,
            description="Per local month: registrations, accounts active (registered by the "
            "month's end, last activity in it or later), their median and mean age in months.",
        ),
        "player_base_cohorts": dg.AssetOut(
            metadata=table_metadata("replace"),
            kinds={"duckdb", "polars", "matplotlib"},
            group_name=GROUP,
            owners=OWNERS,
            description="Active accounts per month by year of registration (stacked picture).",
        ),
    },
    deps=[LATEST_SNAPSHOT],
    check_specs=[COHORTS_CHECK],
)
def player_base(warehouse: WarehouseResource) -> Iterator:
    """Compute the player base and its cohorts from the latest players snapshot."""
    with warehouse.connect() as conn:
        active = conn.sql(
            read_sql("analytics/player_base_active.sql"), params={"tz": REPORT_TZ}
        ).pl()
        week = scalar(conn, "SELECT max(snapshot_week) FROM core.players_snapshot")
    base = monthly_player_base(active)
    base = base.with_columns(snapshot_week=pl.lit(week, dtype=pl.Date))
    by_cohort = cohorts(active)
    yield dg.Output(
        base,
        output_name="player_base",
        metadata={
            "months": base.height,
            "latest": dg.MetadataValue.md(
                frame_to_markdown(base.tail(12).with_columns(pl.selectors.float().round(1)), 12)
            ),
        },
    )
    yield dg.Output(
        by_cohort,
        output_name="player_base_cohorts",
        metadata={
            "picture": dg.MetadataValue.md(
                png_image(
                    stacked_area_png(by_cohort, "active accounts by year of registration"),
                    "active accounts by year of registration",
                )
            ),
            "rows": by_cohort.height,
        },
    )
    yield cohorts_check(base, by_cohort)


def shares_check(frame: pl.DataFrame) -> dg.AssetCheckResult:
    """Return whether every role-play share is a share."""
    problems = []
    if frame.height and not frame["share"].is_between(0.0, 1.0).all():
        problems.append("a share outside [0, 1]")
    if (frame["rp_names"] > frame["accounts"]).any():
        problems.append("more role-play names than accounts")
    return problems_verdict(SHARES_CHECK.name, problems, None, years=frame.height)


@dg.asset(
    deps=[LATEST_SNAPSHOT],
    metadata=table_metadata("replace"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[SHARES_CHECK],
)
def rp_names(warehouse: WarehouseResource) -> Iterator:
    """The share of role-play names (`Firstname_Lastname`) per local year of registration."""
    with warehouse.connect() as conn:
        frame = conn.sql(read_sql("analytics/rp_names.sql"), params={"tz": REPORT_TZ}).pl()
    frame = frame.with_columns(share=pl.col("rp_names") / pl.col("accounts"))
    shown = frame.with_columns(pl.col("registration_year").cast(pl.String))
    yield dg.Output(
        frame,
        metadata={
            "picture": dg.MetadataValue.md(
                png_image(
                    bars_png(
                        shown.sort("registration_year", descending=True),
                        "registration_year",
                        "share",
                        "role-play names, share by year of registration",
                    ),
                    "role-play names by year",
                )
            ),
            "years": dg.MetadataValue.md(frame_to_markdown(frame, limit=30)),
        },
    )
    yield shares_check(frame)


def churn_check(frame: pl.DataFrame) -> dg.AssetCheckResult:
    """Return whether churn stays within the regulars."""
    problems = []
    if ((frame["churned"] < 0) | (frame["churned"] > frame["regulars"])).any():
        problems.append("churned outside 0..regulars")
    if frame.height and not frame["share"].drop_nulls().is_between(0.0, 1.0).all():
        problems.append("a share outside [0, 1]")
    return problems_verdict(CHURN_CHECK.name, problems, None, weeks=frame.height)


@dg.asset(
    deps=["player_sessions"],
    metadata=table_metadata("replace"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[CHURN_CHECK],
)
def player_churn(warehouse: WarehouseResource) -> Iterator:
    """Per local week: players regular in the 30 days before it (sessions on ≥ 4 days) who are
    not seen in the 30 days from its start, with their share."""
    with warehouse.connect() as conn:
        frame = conn.sql(
            read_sql("analytics/player_churn.sql"), params={"tz": REPORT_TZ, "now": now_naive()}
        ).pl()
    shown = frame.tail(20).with_columns(pl.col("week").cast(pl.String))
    yield dg.Output(
        frame,
        metadata={
            "weeks": frame.height,
            "picture": dg.MetadataValue.md(
                png_image(
                    bars_png(shown.reverse(), "week", "churned", "churned regulars per week"),
                    "churned regulars per week",
                )
            ),
            "latest": dg.MetadataValue.md(frame_to_markdown(frame.tail(8), limit=8)),
        },
    )
    yield churn_check(frame)


PLAYER_BASE_ASSETS = [player_base, rp_names, player_churn]
