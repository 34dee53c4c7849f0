"""Polling sensors: each tick takes one poll and appends it to the durable poll spool at once;
every TAI_POLL_BATCH new polls, it requests one ingest run, which takes everything pending.

Sensors never open the warehouse, and runs carry no polls: a run that dies, fails for good or is
never launched leaves its polls pending in the spool for the next one. The cursor only says up to
which spool entry a run was last requested, and holds polls the spool could not take (a full or
read-only data folder) until it can. A tick that fails to poll records the failure as a poll
(`unreachable`), so an outage shows as an outage and the tick itself never errors.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dagster as dg

from tai_assets.common.clock import utc_now
from tai_assets.core.polls import (
    asked_to_wait_until,
    decode_pending,
    encode_pending,
    server_record,
    storable_text,
    world_record,
)
from tai_assets.core.spool import SpoolUnavailable
from tai_assets.dagster_internals.event_log import thin_succeeded_runs
from tai_assets.dagster_internals.ticks import (
    FRESHNESS_SENSOR,
    SERVER_SENSOR,
    WORLD_SENSOR,
    purge_old_ticks,
    sensor_instance,
)
from tai_assets.defs.polling.freshness import (
    FRESHNESS_CHECKS,
    freshness_evaluation,
    verdicts_to_record,
)
from tai_assets.defs.polling.resources import (
    ChronoApiResource,
    GameServerResource,
    PollingSettings,
    PollSpoolResource,
)
from tai_assets.instance.dead_runs import fail_dead_runs
from tai_assets.settings import Settings

SENSOR_OF_SOURCE = {"server": SERVER_SENSOR, "worlds": WORLD_SENSOR}


@dataclass
class PollingCursor:
    """What a polling sensor remembers between ticks: the newest spool entry it requested a
    run for, polls it took that the spool could not store yet, how many ticks it made since it
    last purged its old ticks, and (after a 429 with Retry-After) the instant before which it
    must not poll."""

    requested_through: int = 0
    unspooled: list[dict] = field(default_factory=list)
    ticks_since_purge: int = 0
    not_before: str | None = None

    def encode(self) -> str:
        """Return the cursor as ASCII text (any string a source sent survives it)."""
        return json.dumps(
            {
                "requested_through": self.requested_through,
                "unspooled": encode_pending(self.unspooled),
                "ticks_since_purge": self.ticks_since_purge,
                "not_before": self.not_before,
            }
        )

    @classmethod
    def decode(cls, text: str | None) -> "PollingCursor":
        """Return the cursor `encode` wrote; none (or an older format) is a fresh cursor."""
        if not text or not text.startswith("{"):
            return cls()
        state = json.loads(text)
        return cls(
            int(state.get("requested_through", 0)),
            decode_pending(state.get("unspooled")),
            int(state.get("ticks_since_purge", state.get("idle_ticks", 0))),
            state.get("not_before"),
        )


def read_cursor(context: dg.SensorEvaluationContext) -> PollingCursor:
    """Return the sensor's cursor; an unreadable one is logged and reset (nothing is lost:
    the polls are in the spool)."""
    try:
        return PollingCursor.decode(context.cursor)
    except (ValueError, TypeError) as error:
        context.log.error(f"Sensor cursor unreadable ({error}); starting afresh.")
        return PollingCursor()


# An ingest run in these states takes, or has taken, what is pending of both sources; polls
# spooled after it read the spool wait for the next batch. (A run whose worker died is failed
# by `fail_dead_runs` first; NOT_STARTED is not counted, as nothing would fail one that stayed
# so.)
IN_PROGRESS_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def ingest_run_in_progress(instance: dg.DagsterInstance) -> bool:
    """Return whether an ingest run (either sensor's, or a retry of one) is queued, starting or
    running. Another request would add nothing but a run that finds a poll or two: the two
    sensors fill their batches at about the same time, and the second would otherwise ask for
    a run while the first one's is ingesting. While the warehouse stays locked or full, each
    failing run and its retries would pile up in the queue (an hour-long lock left 248 queued
    runs)."""
    tags = {"tai/kind": "ingest"}
    return instance.get_runs_count(dg.RunsFilter(tags=tags, statuses=IN_PROGRESS_STATUSES)) > 0


def tidy_instance(
    context: dg.SensorEvaluationContext, source: str, polling: PollingSettings
) -> None:
    """Once per batch: purge the sensor's old ticks, and thin the step detail of the succeeded
    ingest runs (finished within the last day but before the detail retention)."""
    instance = sensor_instance(context)
    if instance is None:
        return  # a bare test context: no instance to tidy
    purge_old_ticks(instance, SENSOR_OF_SOURCE[source], polling.tick_retention_minutes)
    cutoff = utc_now() - timedelta(minutes=polling.run_detail_retention_minutes)
    thin_succeeded_runs(instance, {"tai/kind": "ingest"}, cutoff, cutoff - timedelta(days=1))


def purge_ticks_now_and_then(
    context: dg.SensorEvaluationContext,
    cursor: PollingCursor,
    source: str,
    polling: PollingSettings,
) -> None:
    """Count a tick that requested no run; every TAI_POLL_BATCH of them, purge the sensor's old
    ticks (a run request purges them too). Either sensor's batch starts the run that takes
    both sources, so one sensor may seldom request one: it must not keep every tick."""
    cursor.ticks_since_purge += 1
    if cursor.ticks_since_purge >= polling.poll_batch:
        instance = sensor_instance(context)
        if instance is not None:
            purge_old_ticks(instance, SENSOR_OF_SOURCE[source], polling.tick_retention_minutes)
        cursor.ticks_since_purge = 0


def skip_without_polling(
    context: dg.SensorEvaluationContext, source: str, polling: PollingSettings, reason: str
) -> dg.SensorResult:
    """Return a skipped tick that took no poll (world polling off, or a Retry-After)."""
    cursor = read_cursor(context)
    purge_ticks_now_and_then(context, cursor, source, polling)
    return dg.SensorResult(skip_reason=reason, cursor=cursor.encode())


def spool_and_maybe_request(
    context: dg.SensorEvaluationContext,
    polling: PollingSettings,
    spool: PollSpoolResource,
    source: str,
    record: dict,
    summary: str,
    not_before: str | None = None,
) -> dg.SensorResult:
    """Append the poll to the spool, then request an ingest run when TAI_POLL_BATCH polls
    have arrived that no run was requested for (by either sensor); return the tick's result.

    A spool that cannot be written keeps the poll (and any before it) in the cursor, to be
    spooled by the first tick that can; no run is requested meanwhile.
    """
    summary = storable_text(summary) or ""
    cursor = read_cursor(context)
    cursor.not_before = not_before
    takes = [*cursor.unspooled, record]
    try:
        spool.spool().append(source, takes)
        pending, waiting = spool.spool().pending_summary(source, cursor.requested_through)
    except SpoolUnavailable as error:
        cursor.unspooled = takes
        message = f"{summary}; spool unavailable ({error}): {len(takes)} polls kept in the cursor"
        context.log.error(message)
        return dg.SensorResult(skip_reason=message, cursor=cursor.encode())
    cursor.unspooled = []
    if waiting < polling.poll_batch:
        purge_ticks_now_and_then(context, cursor, source, polling)
        return dg.SensorResult(
            skip_reason=f"{summary}; {waiting}/{polling.poll_batch} polls waiting for a run, "
            f"{pending} pending in the spool",
            cursor=cursor.encode(),
        )
    instance = sensor_instance(context)
    if instance is not None:
        # First, so that a run whose worker died does not count as in progress.
        for run_id in fail_dead_runs(instance):
            context.log.warning(f"run {run_id} had lost its worker process; marked failed")
        if ingest_run_in_progress(instance):
            purge_ticks_now_and_then(context, cursor, source, polling)
            return dg.SensorResult(
                skip_reason=f"{summary}; {pending} pending in the spool: an ingest run is "
                "in progress; what it does not take waits for the next batch",
                cursor=cursor.encode(),
            )
    try:
        newest = spool.spool().claim_run_request(source, polling.poll_batch)
        why_not = "the other sensor asked for the run that takes them"
    except SpoolUnavailable as error:
        newest, why_not = None, f"spool unavailable ({error}); a later tick asks"
    if newest is None:
        purge_ticks_now_and_then(context, cursor, source, polling)
        return dg.SensorResult(
            skip_reason=f"{summary}; {pending} pending in the spool: {why_not}",
            cursor=cursor.encode(),
        )
    tidy_instance(context, source, polling)
    cursor.ticks_since_purge = 0
    cursor.requested_through = newest
    request = dg.RunRequest(
        run_key=f"{source}:{newest}",
        tags={
            "tai/requested_by": source,
            "tai/polls": str(pending),
            "tai/spool_through": str(newest),
        },
    )
    return dg.SensorResult(run_requests=[request], cursor=cursor.encode())


def describe_server_poll(record: dict) -> str:
    """Return one line on a server poll for the tick's log."""
    if record["status"] == "ok":
        return f"server ok: {record.get('online')} online"
    if record["status"] == "count_only":
        return f"server count_only: {record.get('online')} online ({record.get('error')})"
    return f"server {record['status']} ({record.get('error')})"


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
    settings: Settings, ingest_job, resources: Mapping[str, dg.ConfigurableResource]
) -> list[dg.SensorDefinition]:
    """Return the two polling sensors, ticking every TAI_POLL_INTERVAL_SECONDS, using the
    `game_server`, `chrono`, `polling` and `spool` resources of `resources` (the code
    location's); a full batch of either requests `ingest_job`, which takes both sources."""
    resource = initialized_once(resources)

    @dg.sensor(
        name=SERVER_SENSOR,
        job=ingest_job,
        minimum_interval_seconds=settings.poll_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Polls the game server (UDP query 'i' then 'c') once per tick.",
    )
    def server_poll_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        game_server: GameServerResource = resource("game_server")
        polling: PollingSettings = resource("polling")
        result = game_server.poll()
        # Stamped when the answer is in: after a retry, the start of the query is seconds
        # before the state the answer describes.
        record = server_record(result, utc_now())
        # The summary is the tick's skip reason (shown in the UI); `context.log` is kept for
        # problems, as the first use of it in a tick builds a whole DagsterInstance.
        summary = describe_server_poll(record)
        return spool_and_maybe_request(
            context, polling, resource("spool"), "server", record, summary
        )

    @dg.sensor(
        name=WORLD_SENSOR,
        job=ingest_job,
        minimum_interval_seconds=settings.poll_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Polls the chrono API's /worlds once per tick (needs CHRONO_LOGIN/TOKEN).",
    )
    def world_poll_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        chrono: ChronoApiResource = resource("chrono")
        polling: PollingSettings = resource("polling")
        reason = chrono.missing_credentials()
        if reason:
            return skip_without_polling(context, "worlds", polling, reason)
        # A wait this sensor was asked for (its cursor keeps it while the spool refuses the
        # poll that carried it), or one in the newest spooled poll (the stand-in's too).
        spool: PollSpoolResource = resource("spool")
        cursor_wait = read_cursor(context).not_before
        waits = [
            datetime.fromisoformat(cursor_wait) if cursor_wait else None,
            asked_to_wait_until(spool.spool().newest("worlds")),
        ]
        waiting_until = max((wait for wait in waits if wait is not None), default=None)
        if waiting_until and utc_now() < waiting_until:
            until = waiting_until.isoformat()
            reason = f"the API asked to wait (Retry-After) until {until}: poll skipped"
            return skip_without_polling(context, "worlds", polling, reason)
        result = chrono.poll()
        answered_at = utc_now()  # the poll is stamped when its answer is in
        record = world_record(result, answered_at)
        invalid = sum(1 for w in result.worlds if not w.valid)
        not_before = asked_to_wait_until(record)
        if result.status == "ok":
            summary = f"worlds ok: {len(result.worlds)} listed"
            if invalid:
                summary += f", {invalid} failed validation (kept as 'invalid' rows)"
                context.log.warning(summary)
        else:
            summary = f"worlds {result.status} ({result.error})"
            if result.status == "auth_failed":
                context.log.error(summary)
        return spool_and_maybe_request(
            context,
            polling,
            spool,
            "worlds",
            record,
            summary,
            not_before.isoformat() if not_before else None,
        )

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
