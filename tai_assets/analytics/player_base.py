"""The player base per month, from active accounts by month of registration
(`sql/analytics/player_base_active.sql`): registrations, active accounts, their age, cohorts."""

import polars as pl


def _with_age(active: pl.DataFrame) -> pl.DataFrame:
    return active.with_columns(
        age_months=(pl.col("month").dt.year() - pl.col("reg_month").dt.year()) * 12
        + pl.col("month").dt.month().cast(pl.Int32)
        - pl.col("reg_month").dt.month().cast(pl.Int32)
    )


def _weighted_median(ages: list[int], weights: list[int]) -> float | None:
    total = sum(weights)
    if not total:
        return None
    pairs = sorted(zip(ages, weights, strict=True))
    running, lower = 0, None
    for age, weight in pairs:
        running += weight
        if lower is None and running * 2 >= total:
            lower = age
            if running * 2 > total:
                return float(age)
        elif lower is not None:
            return (lower + age) / 2
    return float(lower)


def monthly_player_base(active: pl.DataFrame) -> pl.DataFrame:
    """Return per month: registrations, active accounts, and the median and mean age (whole
    months since registration) of the active accounts."""
    if active.is_empty():
        return pl.DataFrame(
            schema={
                "month": pl.Date,
                "registrations": pl.Int32,
                "active_accounts": pl.Int32,
                "median_age_months": pl.Float64,
                "mean_age_months": pl.Float64,
            }
        )
    aged = _with_age(active)
    rows = []
    for (month,), group in aged.group_by(["month"], maintain_order=True):
        accounts = group["accounts"].to_list()
        ages = group["age_months"].to_list()
        total = sum(accounts)
        rows.append(
            {
                "month": month,
                "registrations": int(group.filter(pl.col("age_months") == 0)["accounts"].sum()),
                "active_accounts": total,
                "median_age_months": _weighted_median(ages, accounts),
                "mean_age_months": sum(a * w for a, w in zip(ages, accounts, strict=True)) / total,
            }
        )
    return (
        pl.DataFrame(rows)
        .with_columns(pl.col("registrations", "active_accounts").cast(pl.Int32))
        .sort("month")
    )


def cohorts(active: pl.DataFrame) -> pl.DataFrame:
    """Return per month and registration year the active accounts (the stacked picture)."""
    return (
        active.group_by("month", cohort_year=pl.col("reg_month").dt.year().cast(pl.Int32))
        .agg(active_accounts=pl.col("accounts").sum().cast(pl.Int32))
        .sort("month", "cohort_year")
    )
