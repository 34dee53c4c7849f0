"""The analytics jobs: one per period kind, and the retention job."""

import dagster as dg

from tai_assets.defs.analytics.partitions import DAILY, MONTHLY, WEEKLY, YEARLY

analytics_daily_job = dg.define_asset_job(
    "analytics_daily_job",
    selection=["daily_activity", "session_habits", "daily_digest", "genre_popularity"],
    partitions_def=DAILY,
    description="Daily activity, session habits, genre popularity and the daily digest of one "
    "local day.",
)
weekly_digest_job = dg.define_asset_job(
    "weekly_digest_job", selection=["weekly_digest"], partitions_def=WEEKLY
)
monthly_digest_job = dg.define_asset_job(
    "monthly_digest_job", selection=["monthly_digest"], partitions_def=MONTHLY
)
yearly_digest_job = dg.define_asset_job(
    "yearly_digest_job", selection=["yearly_digest"], partitions_def=YEARLY
)
player_retention_job = dg.define_asset_job("player_retention_job", selection=["player_retention"])
world_tags_job = dg.define_asset_job(
    "world_tags_job",
    selection=["world_tags"],
    description="Re-tags every world name (after a rule change, or for names seen since).",
)

ANALYTICS_JOBS = [
    analytics_daily_job,
    weekly_digest_job,
    monthly_digest_job,
    yearly_digest_job,
    player_retention_job,
    world_tags_job,
]
