"""Polling sensors: each tick takes one poll, keeps it in the cursor, and every
TAI_POLL_BATCH polls launches one ingest run that carries them as run config.

Sensors never open the warehouse. A tick that fails to poll records the failure as a poll
(`unreachable`), so an outage shows as an outage and the tick itself never errors.
"""

import hashlib
import time
from datetime import UTC, datetime

import dagster as dg
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorType,
    SensorInstigatorData,
    TickStatus,
)

from tai_assets.clock import utc_now
from tai_assets.polling.records import (
    decode_pending,
    encode_pending,
    server_batch,
    server_record,
    world_batch,
    world_record,
)
from tai_assets.resources import ChronoApiResource, GameServerResource, PollingSettings
from tai_assets.settings import Settings

# Each source's sensor, its ingest op, and how its pending polls become the op's run config.
SERVER_SENSOR = "server_poll_sensor"
WORLD_SENSOR = "world_poll_sensor"
INGEST_OPS = {
    "server": (SERVER_SENSOR, "ingest_server_polls", server_batch),
    "worlds": (WORLD_SENSOR, "ingest_world_polls", world_batch),
}


def pending_from_cursor(context: dg.SensorEvaluationContext) -> list[dict]:
    """Return the polls a sensor holds in its cursor; an unreadable cursor is logged and reset."""
    try:
        return decode_pending(context.cursor)
    except ValueError as error:
        context.log.error(f"Sensor cursor unreadable ({error}); starting a new batch.")
        return []


def batch_run_key(source: str, pending: list[dict]) -> str:
    """Return a run key naming exactly these polls, so a repeated tick launches nothing new."""
    digest = hashlib.sha256("|".join(p["polled_at"] for p in pending).encode()).hexdigest()
    return f"{source}:{pending[0]['polled_at']}:{len(pending)}:{digest[:12]}"


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


def purge_old_ticks(
    context: dg.SensorEvaluationContext, sensor_name: str, retention_minutes: int
) -> None:
    """Delete this sensor's skipped and run-launching ticks older than the retention.

    Each of the 2,880 polling ticks a day is a row in the instance carrying the cursor (the
    pending polls); the data they carried is in the warehouse and the runs, so only the recent
    ticks are worth keeping. Dagster's own tick retention counts in whole days. Failed ticks are
    left to that retention.
    """
    before = time.time() - retention_minutes * 60
    try:
        instance = context.instance
    except dg.DagsterInvariantViolationError:
        return  # evaluated without an instance (a bare test context): no ticks to purge
    for state in sensor_states(instance, sensor_name):
        instance.purge_ticks(
            state.instigator_origin_id,
            state.selector_id,
            before=before,
            tick_statuses=[TickStatus.SKIPPED, TickStatus.SUCCESS],
        )


def batch_or_wait(
    context: dg.SensorEvaluationContext,
    polling: PollingSettings,
    source: str,
    pending: list[dict],
    summary: str,
) -> dg.SensorResult:
    """Return a run request for a full batch (and an empty cursor), or keep waiting.

    Launching a batch is also when the sensor's old ticks are purged (once per batch).
    """
    batch_size = polling.poll_batch
    if len(pending) < batch_size:
        return dg.SensorResult(
            skip_reason=f"{summary}; {len(pending)}/{batch_size} polls pending",
            cursor=encode_pending(pending),
        )
    sensor_name, op_name, to_config = INGEST_OPS[source]
    purge_old_ticks(context, sensor_name, polling.tick_retention_minutes)
    request = dg.RunRequest(
        run_key=batch_run_key(source, pending),
        run_config={"ops": {op_name: {"config": to_config(pending)}}},
        tags={
            "tai/source": source,
            "tai/polls": str(len(pending)),
            "tai/first_poll": pending[0]["polled_at"],
            "tai/last_poll": pending[-1]["polled_at"],
        },
    )
    return dg.SensorResult(run_requests=[request], cursor=encode_pending([]))


def describe_server_poll(record: dict) -> str:
    """Return one line on a server poll for the tick's log."""
    if record["status"] == "ok":
        return f"server ok: {record.get('online')} online"
    if record["status"] == "count_only":
        return f"server count_only: {record.get('online')} online ({record.get('error')})"
    return f"server unreachable ({record.get('error')})"


def build_polling_sensors(settings: Settings, ingest_server_job, ingest_world_job) -> list:
    """Return the two polling sensors, ticking every TAI_POLL_INTERVAL_SECONDS."""

    @dg.sensor(
        name=SERVER_SENSOR,
        job=ingest_server_job,
        minimum_interval_seconds=settings.poll_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Polls the game server (UDP query 'i' then 'c') once per tick.",
    )
    def server_poll_sensor(
        context: dg.SensorEvaluationContext,
        game_server: GameServerResource,
        polling: PollingSettings,
    ) -> dg.SensorResult:
        pending = pending_from_cursor(context)
        polled_at = utc_now()
        record = server_record(game_server.poll(), polled_at)
        pending.append(record)
        summary = describe_server_poll(record)
        context.log.info(summary)
        return batch_or_wait(context, polling, "server", pending, summary)

    @dg.sensor(
        name=WORLD_SENSOR,
        job=ingest_world_job,
        minimum_interval_seconds=settings.poll_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Polls the chrono API's /worlds once per tick (needs CHRONO_LOGIN/TOKEN).",
    )
    def world_poll_sensor(
        context: dg.SensorEvaluationContext,
        chrono: ChronoApiResource,
        polling: PollingSettings,
    ) -> dg.SensorResult | dg.SkipReason:
        reason = chrono.missing_credentials()
        if reason:
            return dg.SkipReason(reason)
        pending = pending_from_cursor(context)
        polled_at = utc_now()
        result = chrono.poll()
        record = world_record(result, polled_at)
        pending.append(record)
        invalid = sum(1 for w in result.worlds if not w.valid)
        if result.status == "ok":
            summary = f"worlds ok: {len(result.worlds)} listed"
            if invalid:
                summary += f", {invalid} failed validation (kept as 'invalid' rows)"
                context.log.warning(summary)
        else:
            summary = f"worlds unreachable ({result.error})"
        return batch_or_wait(context, polling, "worlds", pending, summary)

    return [server_poll_sensor, world_poll_sensor]
