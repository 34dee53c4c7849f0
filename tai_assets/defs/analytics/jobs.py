"""The analytics jobs: one per period kind, and the retention job."""

import dagster as dg

from tai_assets.defs.analytics.partitions import DAILY, MONTHLY, WEEKLY, YEARLY

analytics_daily_job = dg.define_asset_job(
    "analytics_daily_job",
    selection=[
        "daily_activity",
        "session_habits",
        "daily_digest",
        "genre_popularity",
        *(f"export_{name}" for name in ("daily_activity", "session_habits", "daily_digest")),
        "export_genre_popularity",
    ],
    partitions_def=DAILY,
    description="Daily activity, session habits, genre popularity and the daily digest of one "
    "local day.",
)
weekly_digest_job = dg.define_asset_job(
    "weekly_digest_job", selection=["weekly_digest", "export_weekly_digest"], partitions_def=WEEKLY
)
monthly_digest_job = dg.define_asset_job(
    "monthly_digest_job",
    selection=[
        "monthly_digest",
        "online_heatmap",
        "export_monthly_digest",
        "export_online_heatmap",
    ],
    partitions_def=MONTHLY,
)
yearly_digest_job = dg.define_asset_job(
    "yearly_digest_job", selection=["yearly_digest", "export_yearly_digest"], partitions_def=YEARLY
)
player_retention_job = dg.define_asset_job("player_retention_job", selection=["player_retention"])
analytics_refresh_job = dg.define_asset_job(
    "analytics_refresh_job",
    selection=[
        "world_tags",
        "online_heatmap_recent",
        "player_profiles",
        "name_history",
        "player_base",
        "player_base_cohorts",
        "rp_names",
        "player_churn",
    ],
    description="The analytics that are replaced whole each day: world genres (re-tags every "
    "name, after a rule change too), the last 28 days' heatmap, player profiles, name history, "
    "player base, role-play names, churn.",
)

ANALYTICS_JOBS = [
    analytics_daily_job,
    weekly_digest_job,
    monthly_digest_job,
    yearly_digest_job,
    player_retention_job,
    analytics_refresh_job,
]
