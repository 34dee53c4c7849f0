"""The analytics partitions: local days, weeks (Monday–Sunday), months and years.

Periods are local calendar periods in TAI_REPORT_TIMEZONE (default Europe/Moscow) from
TAI_ANALYTICS_START_DATE. Each partitions definition's last partition is the last *complete*
period, so a digest is only ever made after its period ends.
"""

from datetime import datetime

import dagster as dg

from tai_assets.analytics.periods import Period, PeriodKind
from tai_assets.common.clock import utc_now
from tai_assets.settings import current_settings

REPORT_TZ = current_settings().report_timezone
ANALYTICS_START = current_settings().analytics_start_date.isoformat()

DAILY = dg.DailyPartitionsDefinition(start_date=ANALYTICS_START, timezone=REPORT_TZ)
WEEKLY = dg.WeeklyPartitionsDefinition(start_date=ANALYTICS_START, day_offset=1, timezone=REPORT_TZ)
MONTHLY = dg.MonthlyPartitionsDefinition(start_date=ANALYTICS_START, timezone=REPORT_TZ)
YEARLY = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", start=ANALYTICS_START[:4], fmt="%Y", timezone=REPORT_TZ
)

# The core tables a period's figures are computed from.
SESSION_DEPS = ["player_sessions", "world_sessions", "worlds_online", "server_online"]


def period_of(context: dg.AssetExecutionContext, kind: PeriodKind) -> Period:
    """Return the report period of the run's partition."""
    start = context.partition_time_window.start
    return Period(kind, start.date(), REPORT_TZ)


def now_naive() -> datetime:
    """Return now as naive UTC, how the warehouse stores instants (`computed_at`)."""
    return utc_now().replace(tzinfo=None)
