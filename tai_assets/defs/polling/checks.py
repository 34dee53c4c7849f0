"""Asset checks on the polling tables: every rule is a SQL file in `sql/checks/<source>/` that
returns the offending rows.

The checks of one source run as one op (a `multi_asset_check`), runnable from the UI and
scheduled by `TAI_CHECKS_CRON`: every evaluation is kept in the instance, so their cadence is its
growth. The two freshness checks are also reported every few minutes, without a run, by
`polling_freshness_sensor` (see `freshness.py`).
Each check looks at the last `lookback_days` of data so that its cost does not grow with history
(set `lookback_days: 0` in run config to check everything).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import dagster as dg
import duckdb

from tai_assets.common.clock import utc_now
from tai_assets.common.markdown import frame_to_markdown
from tai_assets.common.sql_files import sql_path
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


_HEADER = re.compile(r"^-- (check|asset|description): (.+)$", re.MULTILINE)


def load_rules(source: str) -> list[Rule]:
    """Return the rules of one source ("server" or "worlds"), one per `sql/checks/<source>/`
    file; each file names its check, asset and description in its header comment."""
    rules = []
    for path in sql_path("checks", source).glob("*.sql"):
        text = path.read_text(encoding="utf-8")
        header = dict(_HEADER.findall(text))
        missing = {"check", "asset", "description"} - header.keys()
        if missing:
            raise ValueError(f"{path}: header lacks {', '.join(sorted(missing))}")
        rules.append(Rule(header["check"], header["asset"], header["description"], text))
    return sorted(rules, key=lambda rule: rule.name)


SERVER_RULES = load_rules("server")
WORLD_RULES = load_rules("worlds")


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
