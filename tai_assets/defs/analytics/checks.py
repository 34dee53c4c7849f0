"""The analytics checks. Each is declared on its asset (`check_specs`) and evaluated in the same
step from what the step computed, so a partition and its verdict always belong together."""

import dagster as dg
import polars as pl

from tai_assets.analytics.activity import DailyActivity
from tai_assets.analytics.telegram import DeliveryResult

DAILY_ACTIVITY_CHECK = dg.AssetCheckSpec(
    "figures_consistent",
    asset="daily_activity",
    description="0 ≤ availability ≤ 1, new ≤ active players, answered ≤ polls.",
)
PLAYER_RETENTION_CHECK = dg.AssetCheckSpec(
    "shares_valid",
    asset="player_retention",
    description="Every share in [0, 1]; retained ≤ cohort size; shares fall as N grows.",
)


def delivered_check_spec(digest: str) -> dg.AssetCheckSpec:
    """Return the `delivered` check of a digest asset."""
    return dg.AssetCheckSpec(
        "delivered",
        asset=digest,
        description="The Telegram post did not fail (disabled or skipped also pass).",
    )


def problems_verdict(
    check_name: str, problems: list[str], asset_key: str | None = None, **metadata
) -> dg.AssetCheckResult:
    """Return a check result that passes when `problems` is empty and names each problem in
    its metadata (with any other figures worth seeing)."""
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not problems,
        metadata={**metadata, "problems": ", ".join(problems) or "none"},
    )


def activity_check_result(row: DailyActivity) -> dg.AssetCheckResult:
    """Return the verdict on a day's figures: each problem found is named in the metadata."""
    problems = []
    if row.availability is not None and not 0 <= row.availability <= 1:
        problems.append("availability outside [0, 1]")
    if row.new_players > row.active_players:
        problems.append("more new players than active players")
    if row.polls_answered > row.polls:
        problems.append("more answered polls than polls")
    return problems_verdict(DAILY_ACTIVITY_CHECK.name, problems)


def retention_check_result(frame: pl.DataFrame) -> dg.AssetCheckResult:
    """Return the verdict on a retention table: shares in [0, 1], retained ≤ cohort size, and
    retention never rising with N within a cohort."""
    problems = []
    if frame.height:
        if frame.filter((pl.col("share") < 0) | (pl.col("share") > 1)).height:
            problems.append("share outside [0, 1]")
        if frame.filter(pl.col("retained") > pl.col("cohort_size")).height:
            problems.append("retained > cohort size")
        rising = (
            frame.sort("cohort_kind", "cohort_start", "days")
            .with_columns(prev=pl.col("retained").shift(1).over("cohort_kind", "cohort_start"))
            .filter(pl.col("retained") > pl.col("prev"))
        )
        if rising.height:
            problems.append("retention rises with N")
    return problems_verdict(PLAYER_RETENTION_CHECK.name, problems)


def delivered_check_result(delivery: DeliveryResult) -> dg.AssetCheckResult:
    """Return the (warning) verdict on a digest's Telegram delivery: only `failed` fails."""
    return dg.AssetCheckResult(
        check_name="delivered",
        passed=delivery.status != "failed",
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "status": delivery.status,
            "attempts": delivery.attempts,
            "error": delivery.error or "",
        },
    )
