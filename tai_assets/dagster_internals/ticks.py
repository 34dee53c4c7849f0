"""Sensor ticks in the Dagster instance: the sensors' names, when one last ticked, and purging
the ticks nobody needs any more."""

import time
from datetime import UTC, datetime

import dagster as dg
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorType,
    SensorInstigatorData,
    TickStatus,
)

SERVER_SENSOR = "server_poll_sensor"
WORLD_SENSOR = "world_poll_sensor"
FRESHNESS_SENSOR = "polling_freshness_sensor"


def sensor_states(instance: dg.DagsterInstance, sensor_name: str) -> list[InstigatorState]:
    """Return the instance's stored states of the sensor called `sensor_name` (one per code
    location that defines it; none when it never ticked or the instance keeps no schedules)."""
    if instance.schedule_storage is None:
        return []
    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    return [state for state in states if state.name == sensor_name]


def last_tick_time(instance: dg.DagsterInstance, sensor_name: str) -> datetime | None:
    """Return when the sensor last ticked (= took its last poll) as naive UTC, or None.

    Polls reach the warehouse a batch at a time; the sensor's last tick says whether the
    collector itself is still polling.
    """
    stamps = [
        state.instigator_data.last_tick_timestamp
        for state in sensor_states(instance, sensor_name)
        if isinstance(state.instigator_data, SensorInstigatorData)
        and state.instigator_data.last_tick_timestamp
    ]
    return datetime.fromtimestamp(max(stamps), UTC).replace(tzinfo=None) if stamps else None


def sensor_instance(context: dg.SensorEvaluationContext) -> dg.DagsterInstance | None:
    """Return the instance a sensor is evaluated against, or None in a bare test context."""
    try:
        return context.instance
    except dg.DagsterInvariantViolationError:
        return None


def purge_old_ticks(
    instance: dg.DagsterInstance, sensor_name: str, retention_minutes: float
) -> None:
    """Delete this sensor's skipped and successful ticks older than the retention.

    Each of the 2,880 polling ticks a day is a row in the instance carrying the cursor (the
    pending polls); the data they carried is in the warehouse and the runs, so only the recent
    ticks are worth keeping. Dagster's own tick retention counts in whole days. Failed ticks are
    left to that retention.
    """
    before = time.time() - retention_minutes * 60
    for state in sensor_states(instance, sensor_name):
        instance.purge_ticks(
            state.instigator_origin_id,
            state.selector_id,
            before=before,
            tick_statuses=[TickStatus.SKIPPED, TickStatus.SUCCESS],
        )
