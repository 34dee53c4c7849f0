"""The players snapshot's checks: pure functions over what the write step has in hand, declared
on the write op (`CHECK_SPECS`) and yielded by it after both tables are written."""

from datetime import date

import dagster as dg
import polars as pl

from tai_assets.sources.training_api.crawler import DriftReport

QUARANTINE_FAIL_RATIO = 0.001  # quarantined records above 0.1 % fail the check
DROP_WARN_RATIO = 0.05  # over 5 % fewer players than the previous snapshot warns
SNAPSHOT_KEY = dg.AssetKey("players_snapshot")


def check_ids_unique(frame: pl.DataFrame, duplicates_removed: int) -> dg.AssetCheckResult:
    """Return whether every ``id`` occurs once in the snapshot (duplicates from page drift are
    removed while assembling; this guards that step)."""
    repeated = int(frame.get_column("id").is_duplicated().sum()) if frame.height else 0
    return dg.AssetCheckResult(
        asset_key=SNAPSHOT_KEY,
        check_name="id_unique",
        passed=repeated == 0,
        metadata={"rows_with_repeated_id": repeated, "duplicates_removed": duplicates_removed},
    )


def check_row_count(
    rows: int, quarantined: int, drift: DriftReport, partial: bool
) -> dg.AssetCheckResult:
    """Return whether the snapshot holds every account the API reported when the crawl ended.

    The crawl re-reads the head of the list until it holds nothing new, so the rows plus the
    quarantined records must be at least the final ``total`` (the last page read). More is
    possible only when accounts were deleted during the crawl (they were read before they
    went); fewer means accounts are missing, and fails. A deliberately partial crawl
    (``max_pages``) warns.
    """
    accounted = rows + quarantined
    metadata = {
        "rows": rows,
        "quarantined": quarantined,
        "api_total_min": drift.min_total,
        "api_total_max": drift.max_total,
        "api_total_first": drift.first_total,
        "api_total_last": drift.last_total,
    }
    if partial:
        return dg.AssetCheckResult(
            asset_key=SNAPSHOT_KEY,
            check_name="row_count_matches_api_total",
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="partial crawl (max_pages): fewer rows than the API reports, by design",
            metadata=metadata,
        )
    if drift.last_total is None:
        return dg.AssetCheckResult(
            asset_key=SNAPSHOT_KEY,
            check_name="row_count_matches_api_total",
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="the API reported no meta.total: nothing to compare with",
            metadata=metadata,
        )
    passed = accounted >= drift.last_total
    return dg.AssetCheckResult(
        asset_key=SNAPSHOT_KEY,
        check_name="row_count_matches_api_total",
        passed=passed,
        description=(
            f"rows + quarantined = {accounted}; the API's total when the crawl ended: "
            f"{drift.last_total} (between {drift.min_total} and {drift.max_total} during it)"
        ),
        metadata=metadata,
    )


def check_regdate_before_lastlogin(frame: pl.DataFrame) -> dg.AssetCheckResult:
    """Return whether ``regdate <= lastlogin`` for every player that has both."""
    bad = frame.filter(
        pl.col("regdate").is_not_null()
        & pl.col("lastlogin").is_not_null()
        & (pl.col("regdate") > pl.col("lastlogin"))
    )
    return dg.AssetCheckResult(
        asset_key=SNAPSHOT_KEY,
        check_name="regdate_not_after_lastlogin",
        passed=bad.height == 0,
        metadata={
            "violations": bad.height,
            "sample_ids": str(bad.get_column("id").head(10).to_list()),
        },
    )


def check_no_big_drop(rows: int, previous: tuple[date, int] | None) -> dg.AssetCheckResult:
    """Return a warning when the snapshot has over 5 % fewer players than the previous one."""
    if previous is None:
        return dg.AssetCheckResult(
            asset_key=SNAPSHOT_KEY,
            check_name="no_big_drop_vs_previous",
            passed=True,
            description="no earlier snapshot to compare with",
            metadata={"rows": rows},
        )
    previous_week, previous_rows = previous
    change = (rows - previous_rows) / previous_rows if previous_rows else 0.0
    return dg.AssetCheckResult(
        asset_key=SNAPSHOT_KEY,
        check_name="no_big_drop_vs_previous",
        passed=change >= -DROP_WARN_RATIO,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rows": rows,
            "previous_week": previous_week.isoformat(),
            "previous_rows": previous_rows,
            "change_percent": round(100 * change, 2),
        },
    )


def check_quarantine_rate(quarantined: int, records_seen: int) -> dg.AssetCheckResult:
    """Return a failure when more than 0.1 % of the records read were quarantined."""
    ratio = quarantined / records_seen if records_seen else 0.0
    return dg.AssetCheckResult(
        asset_key=SNAPSHOT_KEY,
        check_name="quarantine_rate",
        passed=ratio <= QUARANTINE_FAIL_RATIO,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "quarantined": quarantined,
            "records_seen": records_seen,
            "quarantined_percent": round(100 * ratio, 4),
        },
    )


CHECK_SPECS = [
    dg.AssetCheckSpec(
        "id_unique", asset=SNAPSHOT_KEY, description="`id` is unique within a snapshot."
    ),
    dg.AssetCheckSpec(
        "row_count_matches_api_total",
        asset=SNAPSHOT_KEY,
        description="Rows + quarantined records cover the API's `meta.total` as it stood when "
        "the crawl ended (its last page, a re-read of the head).",
    ),
    dg.AssetCheckSpec(
        "regdate_not_after_lastlogin",
        asset=SNAPSHOT_KEY,
        description="`regdate <= lastlogin` wherever both exist.",
    ),
    dg.AssetCheckSpec(
        "no_big_drop_vs_previous",
        asset=SNAPSHOT_KEY,
        description="Warns when the snapshot has over 5 % fewer players than the previous one.",
    ),
    dg.AssetCheckSpec(
        "quarantine_rate",
        asset=SNAPSHOT_KEY,
        description="Fails when more than 0.1 % of the records were quarantined.",
    ),
]
