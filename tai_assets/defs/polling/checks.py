"""Asset checks on the polling tables: every rule is a SQL query that returns the offending rows.

The checks of one source run as one op (a `multi_asset_check`), runnable from the UI and
scheduled by `TAI_CHECKS_CRON`: every evaluation is kept in the instance, so their cadence is its
growth. The two freshness checks are also reported every few minutes, without a run, by
`polling_freshness_sensor` (see `freshness.py`).
Each check looks at the last `lookback_days` of data so that its cost does not grow with history
(set `lookback_days: 0` in run config to check everything).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import dagster as dg
import duckdb

from tai_assets.common.clock import utc_now
from tai_assets.common.markdown import frame_to_markdown
from tai_assets.defs.polling.freshness import (
    SERVER_FRESHNESS,
    WORLD_FRESHNESS,
    FreshnessCheck,
    freshness_result,
)
from tai_assets.defs.polling.resources import PollingSettings
from tai_assets.defs.resources import WarehouseResource


class PollingChecksConfig(dg.Config):
    """How far back the polling checks look (days; 0 = all history)."""

    lookback_days: int = 2


@dataclass(frozen=True)
class Rule:
    """One check: its name, the asset it guards, what it asserts, and the SQL of violations."""

    name: str
    asset: str
    description: str
    violations_sql: str
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR


def _session_rules(asset: str, entity: str, points_sql: str) -> list[Rule]:
    table = f"core.{asset}"
    return [
        Rule(
            f"{asset}_end_after_start",
            asset,
            "Every session ends at or after its start.",
            f"SELECT * FROM {table} WHERE session_end < session_start AND session_end >= $since",
        ),
        Rule(
            f"{asset}_separated_by_gap",
            asset,
            "Sessions of one entity never overlap and are separated by more than the gap.",
            f"""SELECT * FROM (
                  SELECT {entity}, session_start, session_end,
                         lag(session_end) OVER (PARTITION BY {entity} ORDER BY session_start)
                           AS previous_end
                  FROM {table} WHERE session_end >= $since - to_seconds($gap)
                ) WHERE previous_end IS NOT NULL
                  AND session_start <= previous_end + to_seconds($gap)""",
        ),
        Rule(
            f"{asset}_boundaries_are_sightings",
            asset,
            "Every session starts and ends at a poll that lists it.",
            f"""WITH sightings AS ({points_sql})
                SELECT s.* FROM {table} s
                WHERE s.session_end >= $since AND (
                  NOT EXISTS (SELECT 1 FROM sightings p
                              WHERE p.entity = s.{entity} AND p.seen_at = s.session_start)
                  OR NOT EXISTS (SELECT 1 FROM sightings p
                                 WHERE p.entity = s.{entity} AND p.seen_at = s.session_end))""",
        ),
    ]


_PLAYER_SIGHTINGS = """
    SELECT polled_at AS seen_at, unnest(player_names) AS entity FROM raw.raw_server_polls
    WHERE status = 'ok' AND polled_at >= $since - to_seconds($gap) - INTERVAL 1 DAY"""
_WORLD_SIGHTINGS = """
    SELECT polled_at AS seen_at, name AS entity FROM raw.raw_world_polls
    WHERE status = 'ok' AND polled_at >= $since - to_seconds($gap) - INTERVAL 1 DAY"""


SERVER_RULES = [
    Rule(
        "raw_server_polls_unique_and_past",
        "raw_server_polls",
        "Poll instants are unique and none lies in the future.",
        """SELECT polled_at, count(*) AS n FROM raw.raw_server_polls
           WHERE polled_at >= $since GROUP BY polled_at
           HAVING count(*) > 1 OR polled_at > $now + INTERVAL 1 MINUTE""",
    ),
    Rule(
        "raw_server_polls_count_covers_names",
        "raw_server_polls",
        "The online count is at least the number of names the poll listed.",
        """SELECT polled_at, online, len(player_names) AS names FROM raw.raw_server_polls
           WHERE polled_at >= $since AND status = 'ok'
             AND (online IS NULL OR online < len(player_names))""",
    ),
    Rule(
        "server_online_no_repeats",
        "server_online",
        "Consecutive rows of the online series differ (a row is a change).",
        """SELECT * FROM (
             SELECT changed_at, status, online,
                    lag(status) OVER (ORDER BY changed_at) AS previous_status,
                    lag(online) OVER (ORDER BY changed_at) AS previous_online
             FROM core.server_online WHERE changed_at >= $since - INTERVAL 1 DAY
           ) WHERE changed_at >= $since AND status = previous_status
               AND online IS NOT DISTINCT FROM previous_online""",
    ),
    *_session_rules("player_sessions", "player", _PLAYER_SIGHTINGS),
]

WORLD_RULES = [
    Rule(
        "raw_world_polls_unique_and_past",
        "raw_world_polls",
        "Each (poll, world index) is unique and no poll lies in the future.",
        """SELECT polled_at, world_index, count(*) AS n FROM raw.raw_world_polls
           WHERE polled_at >= $since GROUP BY polled_at, world_index
           HAVING count(*) > 1 OR polled_at > $now + INTERVAL 1 MINUTE""",
    ),
    Rule(
        "worlds_online_no_consecutive_duplicates",
        "worlds_online",
        "Consecutive rows of one world differ in (players, static, ssmp).",
        """SELECT * FROM (
             SELECT name, saved_at, players, static, ssmp,
                    lag(players) OVER w AS previous_players,
                    lag(static) OVER w AS previous_static,
                    lag(ssmp) OVER w AS previous_ssmp
             FROM core.worlds_online WHERE saved_at >= $since - INTERVAL 1 DAY
             WINDOW w AS (PARTITION BY name ORDER BY saved_at)
           ) WHERE saved_at >= $since AND players = previous_players
               AND static IS NOT DISTINCT FROM previous_static
               AND ssmp IS NOT DISTINCT FROM previous_ssmp""",
    ),
    *_session_rules("world_sessions", "name", _WORLD_SIGHTINGS),
]


def evaluate_rule(conn: duckdb.DuckDBPyConnection, rule: Rule, params: dict) -> dg.AssetCheckResult:
    """Run one rule and return its check result: passed when the query finds no violation."""
    used = {k: v for k, v in params.items() if f"${k}" in rule.violations_sql}
    violations = conn.sql(rule.violations_sql, params=used).pl()
    metadata = {"violations": violations.height}
    if violations.height:
        metadata["sample"] = dg.MetadataValue.md(frame_to_markdown(violations, limit=5))
    return dg.AssetCheckResult(
        asset_key=rule.asset,
        check_name=rule.name,
        passed=violations.height == 0,
        severity=rule.severity,
        metadata=metadata,  # the rule's description is on its spec, not stored per evaluation
    )


def rule_params(lookback_days: int, gap_seconds: int, now: datetime) -> dict:
    """Return the parameters the rules use: the time window and the gap."""
    naive_now = now.replace(tzinfo=None)
    since = naive_now - timedelta(days=lookback_days) if lookback_days > 0 else datetime(1970, 1, 1)
    return {"since": since, "now": naive_now, "gap": gap_seconds}


def newest_poll_in_warehouse(
    conn: duckdb.DuckDBPyConnection, check: FreshnessCheck
) -> datetime | None:
    """Return the newest poll instant of the check's raw polls table (naive UTC), None when
    empty."""
    return conn.execute(f"SELECT max(polled_at) FROM {check.table}").fetchone()[0]


def _specs(rules: list[Rule], freshness: FreshnessCheck) -> list[dg.AssetCheckSpec]:
    specs = [dg.AssetCheckSpec(r.name, asset=r.asset, description=r.description) for r in rules]
    return [*specs, freshness.spec()]


def evaluate_polling_checks(
    context: dg.AssetCheckExecutionContext,
    config: PollingChecksConfig,
    warehouse: WarehouseResource,
    polling: PollingSettings,
    rules: list[Rule],
    freshness: FreshnessCheck,
    gap_seconds: int,
) -> Iterator[dg.AssetCheckResult]:
    """Yield the results of the selected rules of one source, and of its freshness check."""
    now = utc_now()
    params = rule_params(config.lookback_days, gap_seconds, now)
    selected = {key.name for key in context.selected_asset_check_keys}
    with warehouse.connect() as conn:
        for rule in rules:
            if rule.name in selected:
                yield evaluate_rule(conn, rule, params)
        if freshness.name in selected:
            newest = newest_poll_in_warehouse(conn, freshness)
            yield freshness_result(freshness, context.instance, newest, polling, now)


@dg.multi_asset_check(
    specs=_specs(SERVER_RULES, SERVER_FRESHNESS),
    name="server_polling_checks",
    pool="warehouse",
    can_subset=True,
)
def server_polling_checks(
    context: dg.AssetCheckExecutionContext,
    config: PollingChecksConfig,
    warehouse: WarehouseResource,
    polling: PollingSettings,
) -> Iterator[dg.AssetCheckResult]:
    """Evaluate the game-server rules (raw polls, online series, player sessions)."""
    gap = polling.player_session_gap_seconds
    yield from evaluate_polling_checks(
        context, config, warehouse, polling, SERVER_RULES, SERVER_FRESHNESS, gap
    )


@dg.multi_asset_check(
    specs=_specs(WORLD_RULES, WORLD_FRESHNESS),
    name="world_polling_checks",
    pool="warehouse",
    can_subset=True,
)
def world_polling_checks(
    context: dg.AssetCheckExecutionContext,
    config: PollingChecksConfig,
    warehouse: WarehouseResource,
    polling: PollingSettings,
) -> Iterator[dg.AssetCheckResult]:
    """Evaluate the worlds rules (raw polls, worlds history, world sessions)."""
    gap = polling.world_session_gap_seconds
    yield from evaluate_polling_checks(
        context, config, warehouse, polling, WORLD_RULES, WORLD_FRESHNESS, gap
    )


POLLING_CHECKS = [server_polling_checks, world_polling_checks]
