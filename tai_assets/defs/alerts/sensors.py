"""The alerts sensor: once a minute it lists what is wrong and tells the operator's Telegram
chat when an incident starts and when it ends (never once per tick)."""

import json

import dagster as dg

from tai_assets.common.clock import utc_now
from tai_assets.defs.alerts.incidents import (
    Incident,
    check_incidents,
    ended_message,
    failed_run_incidents,
    freshness_incidents,
    source_incidents,
    started_message,
    transitions,
)
from tai_assets.defs.alerts.resources import AlertResource
from tai_assets.defs.analytics.checks import DAILY_ACTIVITY_CHECK, PLAYER_RETENTION_CHECK
from tai_assets.defs.players.checks import CHECK_SPECS as SNAPSHOT_CHECK_SPECS
from tai_assets.defs.polling.checks import SERVER_RULES, WORLD_RULES
from tai_assets.defs.polling.resources import ChronoApiResource, PollingSettings, PollSpoolResource

ALERTS_SENSOR = "alerts_sensor"
DATA_QUALITY_CHECKS = [
    *(dg.AssetCheckKey(dg.AssetKey(rule.asset), rule.name) for rule in SERVER_RULES + WORLD_RULES),
    *(spec.key for spec in SNAPSHOT_CHECK_SPECS),
    DAILY_ACTIVITY_CHECK.key,
    PLAYER_RETENTION_CHECK.key,
]


def current_incidents(
    instance: dg.DagsterInstance,
    polling: PollingSettings,
    spool: PollSpoolResource,
    chrono: ChronoApiResource,
    down_minutes: int,
) -> list[Incident]:
    """Return every incident open now."""
    now = utc_now()
    sources = ("server",) if chrono.missing_credentials() else ("server", "worlds")
    return [
        *freshness_incidents(instance, polling, now, sources),
        *source_incidents(spool.spool(), down_minutes, now),
        *failed_run_incidents(instance, now),
        *check_incidents(instance, DATA_QUALITY_CHECKS),
    ]


def announce(
    alerts: AlertResource, open_incidents: dict[str, str], current: list[Incident]
) -> tuple[dict[str, str], list[str]]:
    """Send a message per incident that started or ended; return the incidents open after it
    (a message that could not be sent is tried again next tick) and what was sent."""
    started, ended = transitions(open_incidents, current)
    still_open = dict(open_incidents)
    sent = []
    for incident in started:
        if alerts.send(started_message(incident)).status == "sent":
            still_open[incident.key] = incident.text
            sent.append(f"started: {incident.text}")
    for incident in ended:
        if alerts.send(ended_message(incident)).status == "sent":
            still_open.pop(incident.key, None)
            sent.append(f"ended: {incident.text}")
    return still_open, sent


def alerts_sensor(
    context: dg.SensorEvaluationContext,
    alerts: AlertResource,
    polling: PollingSettings,
    spool: PollSpoolResource,
    chrono: ChronoApiResource,
) -> dg.SensorResult:
    """Compare the incidents open now with those announced (the cursor) and announce changes."""
    if not alerts.enabled:
        return dg.SensorResult(
            skip_reason="alerts are off: TELEGRAM_BOT_TOKEN and TELEGRAM_ALERT_CHAT_ID not set"
        )
    try:
        open_incidents = json.loads(context.cursor) if context.cursor else {}
    except ValueError:
        open_incidents = {}
    current = current_incidents(context.instance, polling, spool, chrono, alerts.down_minutes)
    still_open, sent = announce(alerts, open_incidents, current)
    cursor = json.dumps(still_open, sort_keys=True, ensure_ascii=True)
    summary = "; ".join(sent) or f"{len(still_open)} incidents open, nothing new"
    return dg.SensorResult(skip_reason=summary, cursor=cursor)


def build_alerts_sensor(enabled: bool) -> dg.SensorDefinition:
    """Return the alerts sensor, running from the start when alerts are configured and
    stopped otherwise (a stopped sensor costs no tick a minute; it can be started from the UI
    once TELEGRAM_ALERT_CHAT_ID is set)."""
    status = dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED
    return dg.sensor(
        name=ALERTS_SENSOR,
        minimum_interval_seconds=60,
        default_status=status,
        description="Tells TELEGRAM_ALERT_CHAT_ID when an incident starts and when it ends: a "
        "stale collector, a source down for TAI_ALERT_DOWN_MINUTES, a refused chrono token, a "
        "run failed for good, a failed data-quality check.",
    )(alerts_sensor)
