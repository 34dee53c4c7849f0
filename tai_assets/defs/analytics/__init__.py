"""The analytics domain: daily activity, session habits, digests of every period, retention,
world genres."""

import dagster as dg

from tai_assets.defs.analytics.assets import daily_activity, player_retention, session_habits
from tai_assets.defs.analytics.digests import DIGESTS
from tai_assets.defs.analytics.genres import GENRE_ASSETS
from tai_assets.defs.analytics.jobs import ANALYTICS_JOBS
from tai_assets.defs.analytics.people import PEOPLE_ASSETS
from tai_assets.defs.analytics.player_base import PLAYER_BASE_ASSETS
from tai_assets.defs.analytics.schedules import ANALYTICS_SCHEDULES
from tai_assets.defs.analytics.sensors import ANALYTICS_SENSORS

ANALYTICS_ASSETS = [
    daily_activity,
    session_habits,
    *DIGESTS,
    player_retention,
    *GENRE_ASSETS,
    *PEOPLE_ASSETS,
    *PLAYER_BASE_ASSETS,
]


def analytics_definitions() -> dg.Definitions:
    """Return the analytics domain's definitions (its checks are declared on its assets)."""
    return dg.Definitions(
        assets=ANALYTICS_ASSETS,
        jobs=ANALYTICS_JOBS,
        schedules=ANALYTICS_SCHEDULES,
        sensors=ANALYTICS_SENSORS,
    )
