"""The polling sensors against the simulator: every poll spooled at once, a run requested per
batch, run keys, failures recorded as polls, and the ingest run they request writing the
warehouse (again and again without duplicating anything)."""

import json
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from tai_assets.core.spool import PollSpool
from tai_assets.defs.polling.jobs import ingest_job
from tai_assets.defs.polling.resources import (
    ChronoApiResource,
    GameServerResource,
    PollingSettings,
    PollSpoolResource,
)
from tai_assets.defs.polling.sensors import PollingCursor, build_polling_sensors
from tai_assets.instance import dead_runs
from tai_assets.settings import Settings
from tai_assets_tests.support.polling import (
    SERVER_SENSOR,
    WORLD_SENSOR,
    execute,
    polling_resources,
    run_ticks,
    spooled,
    tick,
)


def test_server_sensor_batches_polls_and_its_run_fills_the_warehouse(
    simulator, sim_clock, tmp_path
):
    sim, running = simulator
    database = str(tmp_path / "w.duckdb")
    resources = polling_resources(running, database, batch=3)
    first, second, third = run_ticks(SERVER_SENSOR, resources, sim_clock, 3)

    assert (
        not first.run_requests and "1/3 polls waiting for a run" in first.skip_reason.skip_message
    )
    assert "2/3 polls waiting for a run, 2 pending" in second.skip_reason.skip_message
    (request,) = third.run_requests
    polls = spooled(resources, "server")
    # The run carries no polls: it takes what the spool holds.
    assert not request.run_config and request.run_key == "server:3"
    assert [p["status"] for p in polls] == ["ok", "ok", "ok"]
    assert polls[0]["polled_at"] == datetime(2026, 1, 5, 18, 0, tzinfo=UTC).isoformat()
    assert sorted(polls[0]["player_names"]) == sorted(
        p.name for p in sim.players_online(datetime(2026, 1, 5, 18, 0, tzinfo=UTC))
    )

    assert execute(request, ingest_job, resources).success
    assert spooled(resources, "server") == []
    with duckdb.connect(database, read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_server_polls").fetchall() == [(3,)]
        sessions = conn.execute("SELECT count(*) FROM core.player_sessions").fetchall()[0][0]
    # Three polls a minute apart: every player seen is in exactly one session.
    assert sessions == len({name for p in polls for name in p["player_names"]})
    # Re-executing the run (a retry) leaves the warehouse as it was; so does delivering the
    # same polls again, as a run does after an earlier one died before marking them delivered.
    before = snapshot(database)
    assert execute(request, ingest_job, resources).success
    resources["spool"].spool().append("server", polls)
    assert execute(request, ingest_job, resources).success
    assert snapshot(database) == before and spooled(resources, "server") == []

    # A tick that lost the cursor (a daemon killed mid-tick) counts only what is still
    # pending: delivered polls are never requested again.
    sim_clock.advance(60)
    again = tick(SERVER_SENSOR, resources, None)
    assert "1/3 polls waiting for a run, 1 pending" in again.skip_reason.skip_message


def snapshot(database: str) -> dict:
    with duckdb.connect(database, read_only=True) as conn:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("raw.raw_server_polls", "core.server_online", "core.player_sessions")
        }


def test_dead_server_is_recorded_as_unreachable_within_bounds(sim_clock, tmp_path):
    dead = GameServerResource(host="127.0.0.1", port=9, timeout_seconds=0.3, attempts=2)
    started = time.monotonic()
    resources = {
        "game_server": dead,
        "polling": polling_settings(),
        "spool": PollSpoolResource(path=str(tmp_path / "spool.sqlite3")),
    }
    result = tick(SERVER_SENSOR, resources, None)
    elapsed = time.monotonic() - started
    (poll,) = spooled(resources, "server")
    assert poll["status"] == "unreachable" and poll["error"]
    assert elapsed < 10
    assert "unreachable" in result.skip_reason.skip_message


def polling_settings():
    from tai_assets.defs.polling.resources import PollingSettings

    return PollingSettings(poll_interval_seconds=60, poll_batch=3)


def test_over_100_online_is_count_only(sim_clock, tmp_path):
    from tai_assets.simulator import Simulator, SimulatorConfig

    spell = (sim_clock.now() - timedelta(hours=1), sim_clock.now() + timedelta(hours=1))
    sim = Simulator(
        SimulatorConfig(seed=3, crowd_spells=[spell], crowd_online=130), clock=sim_clock
    )
    with sim.serve() as running:
        resources = polling_resources(running, str(tmp_path / "w.duckdb"))
        tick(SERVER_SENSOR, resources, None)
        (poll,) = spooled(resources, "server")
    assert poll["status"] == "count_only"
    assert poll["online"] > 100
    assert "player_names" not in poll


def test_unreadable_cursor_is_reported_and_reset(simulator, tmp_path):
    _, running = simulator
    resources = polling_resources(running, str(tmp_path / "w.duckdb"))
    result = tick(SERVER_SENSOR, resources, "{not json")
    assert len(spooled(resources, "server")) == 1 and result.cursor.startswith("{")


def test_world_sensor_without_credentials_skips_and_says_why(simulator, tmp_path):
    _, running = simulator
    resources = polling_resources(running, str(tmp_path / "w.duckdb"), login=None, token=None)
    result = tick(WORLD_SENSOR, resources, None)
    assert not result.run_requests
    assert "CHRONO_LOGIN and CHRONO_TOKEN not set" in result.skip_reason.skip_message
    assert spooled(resources, "worlds") == []


def test_world_sensor_without_credentials_still_purges_its_ticks_once_per_batch(tmp_path):
    """Polling off is no reason to keep every tick forever: every TAI_POLL_BATCH skipped ticks
    the sensor purges its old ones, as a polling sensor does once per batch."""
    resources = {
        "chrono": ChronoApiResource(base_url="http://127.0.0.1:9", login=None, token=None),
        "game_server": GameServerResource(host="127.0.0.1", port=9),
        "polling": PollingSettings(poll_interval_seconds=60, poll_batch=3),
        "spool": PollSpoolResource(path=str(tmp_path / "spool.sqlite3")),
    }
    sensors = build_polling_sensors(Settings.from_env(), ingest_job, resources)
    cursor, idle = None, []
    with dg.instance_for_test() as instance:
        for _ in range(4):
            context = dg.build_sensor_context(cursor=cursor, instance=instance)
            cursor = sensors[WORLD_SENSOR](context).cursor
            idle.append(PollingCursor.decode(cursor).ticks_since_purge)
    assert idle == [1, 2, 0, 1]  # the third tick purged and started counting again


def test_world_sensor_wrong_token_is_recorded_without_leaking_it(simulator, tmp_path):
    _, running = simulator
    secret = "wrong-but-secret-value"
    resources = polling_resources(running, str(tmp_path / "w.duckdb"), token=secret)
    result = tick(WORLD_SENSOR, resources, None)
    (poll,) = spooled(resources, "worlds")
    assert poll["status"] == "auth_failed" and "401" in poll["error"]  # not an outage
    assert secret not in json.dumps(poll) and secret not in result.skip_reason.skip_message


def test_world_sensor_batches_and_its_run_writes_worlds_history(simulator, sim_clock, tmp_path):
    _, running = simulator
    database = str(tmp_path / "w.duckdb")
    resources = polling_resources(running, database, batch=2)
    _, second = run_ticks(WORLD_SENSOR, resources, sim_clock, 2)
    (request,) = second.run_requests
    polls = spooled(resources, "worlds")
    assert len(polls) == 2 and all(p["status"] == "ok" and p["worlds"] for p in polls)
    assert "secret-token" not in json.dumps(polls)
    assert execute(request, ingest_job, resources).success
    with duckdb.connect(database, read_only=True) as conn:
        names = conn.execute("SELECT DISTINCT name FROM raw.raw_world_polls").fetchall()
        history = conn.execute("SELECT count(*) FROM core.worlds_online").fetchall()[0][0]
    assert all("{" not in name for (name,) in names)
    assert history >= len(names)


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"name": "{FF0000}DM", "players": -1, "static": False, "ssmp": True}, "players"),
        ({"players": 3, "static": False, "ssmp": True}, "name"),
    ],
)
def test_invalid_world_record_is_kept_with_its_reason(record, reason):
    from tai_assets.sources.chrono import parse_worlds_document

    good = {"name": "{00FF00}Race", "players": 2, "static": True, "ssmp": False, "owner": "x"}
    valid, invalid = parse_worlds_document({"worlds": [good, record]})
    assert valid.valid and valid.name == "Race" and json.loads(valid.extra) == {"owner": "x"}
    assert not invalid.valid and reason in invalid.error


def test_chrono_resource_reports_missing_credentials():
    chrono = ChronoApiResource(base_url="http://127.0.0.1:9/api", login="tai", token=None)
    assert chrono.missing_credentials() == "world polling is off: CHRONO_TOKEN not set"
    assert chrono.poll().status == "unreachable"


def test_world_sensor_reads_its_token_from_an_env_var(simulator, tmp_path, monkeypatch):
    _, running = simulator
    monkeypatch.setenv("TAI_TEST_CHRONO_TOKEN", "secret-token")
    resources = polling_resources(running, str(tmp_path / "w.duckdb"))
    resources["chrono"] = resources["chrono"].model_copy(
        update={"token": dg.EnvVar("TAI_TEST_CHRONO_TOKEN")}
    )
    tick(WORLD_SENSOR, resources, None)
    (poll,) = spooled(resources, "worlds")
    assert poll["status"] == "ok", poll
    assert "secret-token" not in json.dumps(poll)


def test_a_poll_is_stamped_when_its_answer_arrives_not_when_it_was_asked(tmp_path):
    """The simulator answers each datagram 1 s late (real time): the poll's instant is after
    the answer, not at the start of the query."""
    from tai_assets.simulator import Simulator, SimulatorConfig

    sim = Simulator(SimulatorConfig(seed=5, accounts=50))
    sim.faults.udp_delay = 1.0
    with sim.serve("127.0.0.1") as running:
        resources = polling_resources(running, str(tmp_path / "w.duckdb"))
        resources["game_server"] = GameServerResource(
            host="127.0.0.1", port=running.udp_port, timeout_seconds=3, attempts=1
        )
        asked = datetime.now(UTC)
        tick(SERVER_SENSOR, resources, None)
        (poll,) = spooled(resources, "server")
    assert poll["status"] == "ok"
    stamped = datetime.fromisoformat(poll["polled_at"])
    assert stamped - asked >= timedelta(seconds=2)  # both `i` and `c` answered 1 s late


def test_no_run_is_requested_while_an_ingest_run_is_in_progress(simulator, sim_clock, tmp_path):
    """An ingest run queued, being launched or running takes (or took) what was pending of both
    sources when it started: while it is in progress (the warehouse locked for an hour, say),
    batches add no runs to the queue, only polls to the spool, whichever sensor asked for it;
    once it has ended, the next batch requests a run again, for every poll left pending."""
    _sim, running = simulator
    resources = polling_resources(running, str(tmp_path / "w.duckdb"), batch=2)
    sensors = build_polling_sensors(Settings.from_env(), ingest_job, resources)

    def event(run: dg.DagsterRun, event_type: dg.DagsterEventType) -> None:
        instance.handle_run_event(
            run.run_id, dg.DagsterEvent(event_type_value=event_type.value, job_name=run.job_name)
        )

    with dg.instance_for_test() as instance:
        in_progress = instance.add_run(
            dg.DagsterRun(
                job_name=ingest_job.name,
                status=dg.DagsterRunStatus.STARTING,
                tags={"tai/kind": "ingest", "tai/requested_by": "worlds"},
            )
        )
        cursor, results = None, []
        for tick in range(6):
            if tick == 4:
                event(in_progress, dg.DagsterEventType.RUN_START)  # it reads the spool
            result = sensors[SERVER_SENSOR](
                dg.build_sensor_context(cursor=cursor, instance=instance)
            )
            results.append(result)
            cursor = result.cursor
            sim_clock.advance(60)
        event(in_progress, dg.DagsterEventType.RUN_SUCCESS)
        after_end = sensors[SERVER_SENSOR](
            dg.build_sensor_context(cursor=cursor, instance=instance)
        )
    assert [len(r.run_requests) for r in results] == [0] * 6
    # Requesting no run, the sensor still purges its old ticks once per batch of ticks.
    purges = [PollingCursor.decode(r.cursor).ticks_since_purge for r in results]
    assert purges == [1, 0, 1, 0, 1, 0]
    assert "1/2 polls waiting for a run" in results[0].skip_reason.skip_message
    for result in results[1:]:
        assert "an ingest run is in progress" in result.skip_reason.skip_message
    assert "6 pending" in results[5].skip_reason.skip_message
    (request,) = after_end.run_requests
    assert request.tags["tai/polls"] == "7"  # every poll since, in one request


def test_a_run_whose_launch_died_does_not_hold_up_the_next_request(
    simulator, sim_clock, tmp_path, monkeypatch
):
    """A run left STARTING by a process that died is failed first (here at once: no worker
    ever started for it), so it cannot stand for a waiting run forever."""
    _sim, running = simulator
    resources = polling_resources(running, str(tmp_path / "w.duckdb"), batch=1)
    sensors = build_polling_sensors(Settings.from_env(), ingest_job, resources)
    monkeypatch.setattr(dead_runs, "STARTING_TIMEOUT_SECONDS", -1)
    with dg.instance_for_test() as instance:
        stuck = instance.add_run(
            dg.DagsterRun(
                job_name=ingest_job.name,
                status=dg.DagsterRunStatus.STARTING,
                tags={"tai/kind": "ingest", "tai/requested_by": "server"},
            )
        )
        result = sensors[SERVER_SENSOR](dg.build_sensor_context(instance=instance))
        status = instance.get_run_by_id(stuck.run_id).status
    assert status == dg.DagsterRunStatus.FAILURE
    assert len(result.run_requests) == 1


def test_the_two_sensors_batches_make_one_run_not_two(simulator, sim_clock, tmp_path):
    """Both sensors fill their batches at the same pace, and the daemon evaluates them side by
    side: neither sees the other's run yet. The spool records which asked first, and the run
    it asked for takes both sources' polls, so a batch of polls makes one run (each sensor
    asking at its own full batch made two, half of them finding a poll or two)."""
    _sim, running = simulator
    resources = polling_resources(running, str(tmp_path / "w.duckdb"), batch=3)
    sensors = build_polling_sensors(Settings.from_env(), ingest_job, resources)
    cursors: dict[int, str | None] = {SERVER_SENSOR: None, WORLD_SENSOR: None}
    requests: list[tuple[int, int, dg.RunRequest]] = []  # (minute, sensor, request)
    with dg.instance_for_test() as instance:
        for minute in range(9):
            # Both sensors tick, then the daemon launches what they asked for.
            asked = []
            for which in (SERVER_SENSOR, WORLD_SENSOR):
                result = sensors[which](
                    dg.build_sensor_context(cursor=cursors[which], instance=instance)
                )
                cursors[which] = result.cursor
                asked += [(minute, which, request) for request in result.run_requests or []]
            for _, _, request in asked:
                assert execute(request, ingest_job, resources).success
            requests += asked
            sim_clock.advance(60)
    # 9 polls of each source in batches of 3: three runs, each taking both sources.
    assert [(minute, which) for minute, which, _ in requests] == [
        (2, SERVER_SENSOR),
        (5, SERVER_SENSOR),
        (8, SERVER_SENSOR),
    ]
    assert [request.tags["tai/polls"] for _, _, request in requests] == ["3", "3", "3"]
    assert spooled(resources, "server") == [] and spooled(resources, "worlds") == []


def test_of_two_claims_on_the_same_polls_one_wins(tmp_path):
    spool = PollSpool(tmp_path / "spool.sqlite3")
    records = [{"polled_at": f"2026-01-05T18:0{i}:00+00:00", "status": "ok"} for i in range(3)]
    spool.append("server", records)
    spool.append("worlds", records)
    newest = spool.claim_run_request("server", 3)
    assert newest is not None
    # The worlds' batch is covered by the server sensor's request: no second run.
    assert spool.claim_run_request("worlds", 3) is None
    assert spool.pending_summary("worlds", 0) == (3, 0)
    spool.append("worlds", records)
    assert spool.pending_summary("worlds", 0) == (6, 3)
    assert spool.claim_run_request("worlds", 3) == newest + 3
