"""What is wrong right now, as incidents: each has a stable key (so its start and its end are
told apart from its persistence) and one line saying what happened."""

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from tai_assets.core.spool import PollSpool
from tai_assets.dagster_internals.check_history import failed_checks
from tai_assets.defs.polling.freshness import FRESHNESS_CHECKS, freshness_evaluation
from tai_assets.defs.polling.resources import PollingSettings

WILL_RETRY_TAG = "dagster/will_retry"
FAILED_RUN_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Incident:
    """Something the operator must hear about: `key` identifies it while it lasts."""

    key: str
    text: str


def _when(value: dg.MetadataValue | None) -> str:
    if isinstance(value, dg.TimestampMetadataValue):
        return datetime.fromtimestamp(value.value, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "never"


def freshness_incidents(
    instance: dg.DagsterInstance,
    polling: PollingSettings,
    now: datetime,
    sources: tuple[str, ...] = ("server", "worlds"),
) -> list[Incident]:
    """A collector of `sources` that stopped polling, or whose polls stopped reaching the
    warehouse (the freshness checks' verdicts). A deployment that has not delivered a poll
    yet (nothing polled, nothing stored) is starting, not stale."""
    incidents = []
    for check, source in zip(FRESHNESS_CHECKS, ("server", "worlds"), strict=True):
        if source not in sources:
            continue
        evaluation = freshness_evaluation(check, instance, polling, now)
        if not evaluation.passed:
            polled = _when(evaluation.metadata.get("collector_last_polled"))
            stored = _when(evaluation.metadata.get("newest_in_warehouse"))
            if polled == stored == "never":
                continue
            text = f"{check.table} is stale: last poll {polled}, newest in the warehouse {stored}"
            incidents.append(Incident(f"freshness:{check.name}", text))
    return incidents


def _instant(record: dict) -> datetime:
    return datetime.fromisoformat(record["polled_at"])


def source_incidents(spool: PollSpool, down_minutes: int, now: datetime) -> list[Incident]:
    """A source that has answered no poll for `down_minutes`, and a refused chrono token, read
    from the newest polls in the spool (the collectors write it before anything else)."""
    incidents = []
    since = now - timedelta(minutes=down_minutes)
    for source, name in (("server", "the game server"), ("worlds", "the chrono API")):
        recent = spool.recent(source, 1000)
        window = [poll for poll in recent if _instant(poll) >= since]
        failed = {"unreachable", "auth_failed", "rate_limited"}
        older = [poll for poll in recent if _instant(poll) < since]
        if window and older and all(poll["status"] in failed for poll in window):
            last_answer = next((p for p in recent if p["status"] not in failed), None)
            since_text = last_answer["polled_at"][:19] if last_answer else "ever"
            incidents.append(
                Incident(
                    f"down:{source}",
                    f"{name} has not answered for {down_minutes} min (last answer: "
                    f"{since_text} UTC; {window[0].get('error') or window[0]['status']})",
                )
            )
        if recent and recent[0]["status"] == "auth_failed":
            incidents.append(
                Incident(
                    "auth:chrono",
                    "the chrono API refuses CHRONO_LOGIN / CHRONO_TOKEN (expired?): world "
                    "polling records nothing until it is replaced",
                )
            )
    return incidents


def failed_run_incidents(instance: dg.DagsterInstance, now: datetime) -> list[Incident]:
    """A job whose latest finished run (within a day) failed and will not be retried."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
            updated_after=now - FAILED_RUN_LOOKBACK,
        ),
        limit=500,
    )
    latest: dict[str, dg.RunRecord] = {}
    for record in records:  # newest first
        latest.setdefault(record.dagster_run.job_name, record)
    incidents = []
    for job, record in sorted(latest.items()):
        run = record.dagster_run
        if run.status == dg.DagsterRunStatus.FAILURE and run.tags.get(WILL_RETRY_TAG) != "true":
            incidents.append(
                Incident(f"run:{job}", f"{job} failed for good (run {run.run_id[:8]})")
            )
    return incidents


def check_incidents(instance: dg.DagsterInstance, keys: list[dg.AssetCheckKey]) -> list[Incident]:
    """A data-quality check whose latest evaluation failed."""
    failed = failed_checks(instance, keys)
    return [Incident(f"check:{name}", f"check {name} failed") for name in failed]


def transitions(
    open_incidents: dict[str, str], current: list[Incident]
) -> tuple[list[Incident], list[Incident]]:
    """Return the incidents that started (not open before) and those that ended (open before,
    not now)."""
    now_keys = {incident.key for incident in current}
    started = [incident for incident in current if incident.key not in open_incidents]
    ended = [Incident(key, text) for key, text in open_incidents.items() if key not in now_keys]
    return started, ended


def started_message(incident: Incident) -> str:
    """Return the HTML message announcing an incident."""
    return f"🔴 <b>tai</b>: {html.escape(incident.text)}"


def ended_message(incident: Incident) -> str:
    """Return the HTML message saying an incident is over."""
    return f"🟢 <b>tai</b>: resolved: {html.escape(incident.text)}"
