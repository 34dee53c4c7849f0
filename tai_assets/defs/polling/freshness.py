"""Collector freshness: is each polling sensor still polling, and do its polls reach the
warehouse?

One verdict serves two callers: the polling checks op (which reads the newest poll from the
warehouse) and `polling_freshness_sensor` (which reads it from the raw asset's last
materialization, so it never opens DuckDB and costs no run).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from tai_assets.dagster_internals.ticks import SERVER_SENSOR, WORLD_SENSOR, last_tick_time
from tai_assets.defs.polling.resources import PollingSettings

# Materialization metadata of a raw polls asset: the newest poll instant the batch delivered.
NEWEST_POLL_KEY = "newest_polled_at"
# The sensor records a verdict when it changes, and an unchanged one this often.
UNCHANGED_VERDICT_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class FreshnessCheck:
    """The freshness check of one raw polls asset and the sensor that collects its polls."""

    asset: str
    sensor: str

    @property
    def name(self) -> str:
        """The check's name."""
        return f"{self.asset}_fresh"

    @property
    def table(self) -> str:
        """The warehouse table of the raw polls (a fixed identifier, never data)."""
        return f"raw.{self.asset}"

    @property
    def key(self) -> dg.AssetCheckKey:
        """The check's key."""
        return dg.AssetCheckKey(dg.AssetKey(self.asset), self.name)

    def spec(self) -> dg.AssetCheckSpec:
        """Return the check's spec (what the UI shows)."""
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            description="The collector polled within the last 3 poll intervals (its sensor's "
            "last tick), and the newest poll reached the warehouse within a batch plus 3 "
            "intervals (polls arrive in batches).",
        )


SERVER_FRESHNESS = FreshnessCheck("raw_server_polls", SERVER_SENSOR)
WORLD_FRESHNESS = FreshnessCheck("raw_world_polls", WORLD_SENSOR)
FRESHNESS_CHECKS = [SERVER_FRESHNESS, WORLD_FRESHNESS]


def _timestamp(instant: datetime | None) -> dg.MetadataValue:
    if instant is None:
        return dg.MetadataValue.text("never")
    return dg.MetadataValue.timestamp(instant.replace(tzinfo=UTC))


def judge_freshness(
    newest_delivered: datetime | None,
    collector_last: datetime | None,
    now: datetime,
    polling: PollingSettings,
) -> tuple[bool, dict]:
    """Return (fresh?, metadata) from the newest poll in the warehouse and the collector's
    last tick (naive UTC; an unknown last tick judges the warehouse alone).

    A collector is stale when it has not polled for 3 intervals, or when nothing it polled has
    reached the warehouse for a batch plus 3 intervals (its runs fail or are not launched).
    """
    naive_now = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    stale_after = timedelta(seconds=3 * polling.poll_interval_seconds)
    undelivered_after = timedelta(seconds=(polling.poll_batch + 3) * polling.poll_interval_seconds)
    delivered = newest_delivered is not None and newest_delivered >= naive_now - undelivered_after
    polling_on = collector_last is None or collector_last >= naive_now - stale_after
    metadata = {
        "newest_in_warehouse": _timestamp(newest_delivered),
        "collector_last_polled": _timestamp(collector_last),
    }
    return delivered and polling_on, metadata


def newest_delivered_poll(instance: dg.DagsterInstance, asset: str) -> datetime | None:
    """Return the newest poll instant the raw asset's last materialization delivered (naive
    UTC), or None when it was never materialized."""
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    materialization = event.asset_materialization if event else None
    value = materialization.metadata.get(NEWEST_POLL_KEY) if materialization else None
    if value is None:
        return None
    return datetime.fromtimestamp(value.value, UTC).replace(tzinfo=None)


def newest_poll_metadata(polled_at: list[datetime]) -> dict:
    """Return the raw asset's materialization metadata naming its newest poll (naive UTC)."""
    return {NEWEST_POLL_KEY: _timestamp(max(polled_at))} if polled_at else {}


def _verdict(
    check: FreshnessCheck,
    instance: dg.DagsterInstance,
    newest_delivered: datetime | None,
    polling: PollingSettings,
    now: datetime,
) -> tuple[bool, dict]:
    collector = last_tick_time(instance, check.sensor)
    return judge_freshness(newest_delivered, collector, now, polling)


def freshness_result(
    check: FreshnessCheck,
    instance: dg.DagsterInstance,
    newest_delivered: datetime | None,
    polling: PollingSettings,
    now: datetime,
) -> dg.AssetCheckResult:
    """Return the check's result in a checks run, which read `newest_delivered` from the
    warehouse. Severity WARN: a stale collector is a failed warning, not a data error."""
    passed, metadata = _verdict(check, instance, newest_delivered, polling, now)
    return dg.AssetCheckResult(
        asset_key=check.asset,
        check_name=check.name,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def freshness_evaluation(
    check: FreshnessCheck, instance: dg.DagsterInstance, polling: PollingSettings, now: datetime
) -> dg.AssetCheckEvaluation:
    """Return the check's evaluation as `polling_freshness_sensor` reports it: from the
    instance alone (the newest poll is in the raw asset's last materialization)."""
    newest = newest_delivered_poll(instance, check.asset)
    passed, metadata = _verdict(check, instance, newest, polling, now)
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(check.asset),
        check_name=check.name,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def verdicts_to_record(
    evaluations: list[dg.AssetCheckEvaluation], cursor: str | None, now: datetime
) -> tuple[list[dg.AssetCheckEvaluation], str]:
    """Return the evaluations worth recording, and the sensor's next cursor.

    An evaluation is recorded when its verdict differs from the last one recorded, or when
    that one is older than UNCHANGED_VERDICT_EVERY. A stale collector still turns red at the
    next evaluation, but a steady state costs the instance one row an hour per check instead
    of one every TAI_FRESHNESS_MINUTES (each row stays for the run retention). The cursor maps
    check name to the last recorded verdict and when it was recorded (epoch seconds); an
    unreadable cursor records everything.
    """
    try:
        last = json.loads(cursor) if cursor else {}
    except ValueError:
        last = {}
    due, at = [], now.timestamp()
    for evaluation in evaluations:
        previous = last.get(evaluation.check_name)
        unchanged = previous is not None and previous["passed"] == evaluation.passed
        if unchanged and at - previous["at"] < UNCHANGED_VERDICT_EVERY.total_seconds():
            continue
        due.append(evaluation)
        last[evaluation.check_name] = {"passed": evaluation.passed, "at": at}
    return due, json.dumps(last, sort_keys=True)
