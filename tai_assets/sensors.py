"""Polling sensors: each tick takes one poll, keeps it in the cursor, and every
TAI_POLL_BATCH polls launches one ingest run that carries them as run config.

Sensors never open the warehouse. A tick that fails to poll records the failure as a poll
(`unreachable`), so an outage shows as an outage and the tick itself never errors.
"""

import hashlib
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import dagster as dg

from tai_assets.clock import utc_now
from tai_assets.freshness import FRESHNESS_CHECKS, freshness_evaluation, verdicts_to_record
from tai_assets.maintenance import thin_succeeded_runs
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
from tai_assets.ticks import (
    FRESHNESS_SENSOR,
    SERVER_SENSOR,
    WORLD_SENSOR,
    purge_old_ticks,
    sensor_instance,
)

# Each source's sensor, its ingest op, and how its pending polls become the op's run config.
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


def tidy_instance(
    context: dg.SensorEvaluationContext, sensor_name: str, source: str, polling: PollingSettings
) -> None:
    """Purge the sensor's old ticks and thin the step detail of its source's succeeded runs
    (those that finished within the last day but before the detail retention)."""
    instance = sensor_instance(context)
    if instance is None:
        return  # a bare test context: no instance to tidy
    purge_old_ticks(instance, sensor_name, polling.tick_retention_minutes)
    cutoff = utc_now() - timedelta(minutes=polling.run_detail_retention_minutes)
    tags = {"tai/kind": "ingest", "tai/source": source}
    thin_succeeded_runs(instance, tags, cutoff, cutoff - timedelta(days=1))


def batch_or_wait(
    context: dg.SensorEvaluationContext,
    polling: PollingSettings,
    source: str,
    pending: list[dict],
    summary: str,
) -> dg.SensorResult:
    """Return a run request for a full batch (and an empty cursor), or keep waiting.

    Launching a batch is also when the instance is tidied, once per batch: the sensor's old
    ticks are purged and its older succeeded runs lose their step detail.
    """
    batch_size = polling.poll_batch
    if len(pending) < batch_size:
        return dg.SensorResult(
            skip_reason=f"{summary}; {len(pending)}/{batch_size} polls pending",
            cursor=encode_pending(pending),
        )
    sensor_name, op_name, to_config = INGEST_OPS[source]
    tidy_instance(context, sensor_name, source, polling)
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


def initialized_once(resources: Mapping[str, dg.ConfigurableResource]) -> Callable[[str], Any]:
    """Return a lookup of resources (EnvVars resolved) that initializes each once per process.

    Why the polling sensors do not declare their resources as parameters: for every tick of a
    sensor that does, Dagster builds a whole DagsterInstance (storages, schema checks: ~100 ms
    of CPU), and these two sensors tick 2,880 times a day. They need the instance only once per
    batch, and their resources never change while the code server runs.
    """
    ready: dict[str, Any] = {}

    def get(key: str) -> Any:
        if key not in ready:
            ready[key] = resources[key].process_config_and_initialize()
        return ready[key]

    return get


def build_polling_sensors(
    settings: Settings,
    ingest_server_job,
    ingest_world_job,
    resources: Mapping[str, dg.ConfigurableResource],
) -> list[dg.SensorDefinition]:
    """Return the two polling sensors, ticking every TAI_POLL_INTERVAL_SECONDS, using the
    `game_server`, `chrono` and `polling` resources of `resources` (the code location's)."""
    resource = initialized_once(resources)

    @dg.sensor(
        name=SERVER_SENSOR,
        job=ingest_server_job,
        minimum_interval_seconds=settings.poll_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Polls the game server (UDP query 'i' then 'c') once per tick.",
    )
    def server_poll_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        game_server: GameServerResource = resource("game_server")
        polling: PollingSettings = resource("polling")
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
    def world_poll_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        chrono: ChronoApiResource = resource("chrono")
        polling: PollingSettings = resource("polling")
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


def build_freshness_sensor(settings: Settings) -> dg.SensorDefinition:
    """Return the sensor that evaluates both freshness checks every TAI_FRESHNESS_MINUTES.

    It reads the instance only (the collectors' last ticks, the raw assets' last
    materializations) and reports the evaluations without a run: a run per evaluation would
    cost a process start and ~60 KB of instance each time. It records a verdict when it
    changes, and an unchanged one hourly (`verdicts_to_record`).
    """

    @dg.sensor(
        name=FRESHNESS_SENSOR,
        minimum_interval_seconds=settings.freshness_minutes * 60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Evaluates the polling freshness checks (is each collector still polling, "
        "do its polls reach the warehouse?) without a run; records a verdict when it changes, "
        "and hourly.",
    )
    def polling_freshness_sensor(
        context: dg.SensorEvaluationContext, polling: PollingSettings
    ) -> dg.SensorResult:
        now = utc_now()
        evaluations = [
            freshness_evaluation(check, context.instance, polling, now)
            for check in FRESHNESS_CHECKS
        ]
        due, cursor = verdicts_to_record(evaluations, context.cursor, now)
        purge_old_ticks(context.instance, FRESHNESS_SENSOR, polling.tick_retention_minutes)
        if not due:
            verdicts = ", ".join(f"{e.check_name}={e.passed}" for e in evaluations)
            return dg.SensorResult(skip_reason=f"verdicts unchanged ({verdicts})", cursor=cursor)
        return dg.SensorResult(asset_events=due, cursor=cursor)

    return polling_freshness_sensor
