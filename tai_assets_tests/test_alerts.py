"""Alerts to the operator's chat, against the loopback Bot API stand-in and a real instance:
one message when an incident starts, none while it lasts, one when it ends; the token never
in a message."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from tai_assets.common.clock import use_clock
from tai_assets.core.spool import PollSpool
from tai_assets.defs.alerts.resources import AlertResource
from tai_assets.defs.alerts.sensors import build_alerts_sensor
from tai_assets.defs.analytics.checks import DAILY_ACTIVITY_CHECK
from tai_assets.defs.polling.freshness import newest_poll_metadata
from tai_assets.defs.polling.resources import ChronoApiResource, PollingSettings, PollSpoolResource
from tai_assets_tests.support.fake_bot_api import fake_bot_api

TOKEN = "alert-bot-token-never-shown"
alerts_sensor = build_alerts_sensor(enabled=True)
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def server_poll(at: datetime, status: str = "ok") -> dict:
    poll = {"polled_at": at.isoformat(), "status": status}
    if status == "ok":
        poll |= {"online": 1, "max_players": 300, "player_names": ["A"]}
    else:
        poll["error"] = "no answer to 'i' after 3 attempt(s)"
    return poll


@pytest.fixture
def setup(tmp_path):
    spool_path = str(tmp_path / "spool.sqlite3")
    clock = Clock(T0)
    with fake_bot_api(TOKEN) as bot, dg.instance_for_test() as instance, use_clock(clock):
        resources = {
            "alerts": AlertResource(
                bot_token=TOKEN, chat_id="ops", api_base_url=bot.base_url, down_minutes=10
            ),
            "polling": PollingSettings(poll_interval_seconds=60, poll_batch=3),
            "spool": PollSpoolResource(path=spool_path),
            "chrono": ChronoApiResource(base_url="http://127.0.0.1:9", login="tai", token="x"),
        }
        state = {"cursor": None}

        def tick() -> list[str]:
            """Evaluate the sensor once; return the texts of the messages it sent."""
            before = len(bot.requests)
            context = dg.build_sensor_context(
                instance=instance, cursor=state["cursor"], resources=resources
            )
            result = alerts_sensor(context)
            state["cursor"] = result.cursor
            assert TOKEN not in (result.cursor or "") and TOKEN not in str(result.skip_reason)
            return [request["body"]["text"] for request in bot.requests[before:]]

        yield tick, PollSpool(spool_path), clock, instance, bot


def texts_with(messages: list[str], fragment: str) -> list[str]:
    return [message for message in messages if fragment in message]


def test_a_source_down_is_announced_once_and_its_end_once(setup):
    tick, spool, clock, _, bot = setup
    spool.append("server", [server_poll(T0 - timedelta(minutes=m)) for m in range(30, 12, -1)])
    failing = [server_poll(T0 - timedelta(minutes=m), "unreachable") for m in range(12, -1, -1)]
    spool.append("server", failing)

    first = tick()
    (down,) = texts_with(first, "has not answered for 10 min")
    assert down.startswith("🔴") and "the game server" in down
    assert texts_with(tick(), "has not answered") == []  # still down: no second message

    clock.now = T0 + timedelta(minutes=1)
    spool.append("server", [server_poll(clock.now)])
    (back,) = texts_with(tick(), "has not answered")
    assert back.startswith("🟢") and "resolved" in back
    assert all(TOKEN not in request["body"]["text"] for request in bot.requests)
    assert all(request["body"]["chat_id"] == "ops" for request in bot.requests)


def test_a_refused_token_a_run_failed_for_good_and_a_failed_check_are_announced(setup):
    tick, spool, _, instance, _ = setup
    spool.append("worlds", [{"polled_at": T0.isoformat(), "status": "auth_failed", "error": "401"}])

    @dg.op
    def boom():
        raise RuntimeError("the warehouse is on fire")

    @dg.job
    def ingest_polls_job():
        boom()

    assert not ingest_polls_job.execute_in_process(instance=instance, raise_on_error=False).success

    @dg.asset(name="daily_activity", check_specs=[DAILY_ACTIVITY_CHECK])
    def broken_activity():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="figures_consistent", passed=False)

    dg.materialize(
        [broken_activity], instance=instance, resources={"io_manager": dg.mem_io_manager}
    )

    # The server's polls last reached the warehouse an hour ago.
    stale = newest_poll_metadata([(T0 - timedelta(hours=1)).replace(tzinfo=None)])
    instance.report_runless_asset_event(dg.AssetMaterialization("raw_server_polls", metadata=stale))

    messages = tick()
    assert texts_with(messages, "refuses CHRONO_LOGIN / CHRONO_TOKEN")
    assert texts_with(messages, "ingest_polls_job failed for good")
    assert texts_with(messages, "check daily_activity:figures_consistent failed")
    assert texts_with(messages, "raw_server_polls is stale")
    assert not texts_with(messages, "raw_world_polls is stale")  # never delivered: starting
    assert tick() == []  # all of it still holds: nothing new to say

    @dg.job(name="ingest_polls_job")
    def fixed_job():
        dg.op(name="fine")(lambda: None)()

    assert fixed_job.execute_in_process(instance=instance).success
    (ended,) = tick()
    assert ended.startswith("🟢") and "ingest_polls_job" in ended


def test_alerts_are_off_without_a_chat(tmp_path):
    resources = {
        "alerts": AlertResource(bot_token=TOKEN),
        "polling": PollingSettings(),
        "spool": PollSpoolResource(path=str(tmp_path / "spool.sqlite3")),
        "chrono": ChronoApiResource(base_url="http://127.0.0.1:9"),
    }
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources)
        result = alerts_sensor(context)
    assert "alerts are off" in result.skip_reason.skip_message


def test_the_sensor_runs_from_the_start_only_when_alerts_are_configured():
    assert build_alerts_sensor(True).default_status == dg.DefaultSensorStatus.RUNNING
    assert build_alerts_sensor(False).default_status == dg.DefaultSensorStatus.STOPPED
