"""The simulator's HTTP APIs (training /api/user, chrono /api/worlds) and their faults."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig

START = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
AUTH = {"X-Login": "tai", "X-Token": "secret-token"}
RECORD_FIELDS = {
    "id", "login", "lastlogin", "regdate", "moder", "mute", "verify", "verifyText", "warn",
    "online", "playerid", "access", "bonuspoints", "premium", "premium_expdate", "chase_rating",
}  # fmt: skip
MSK_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture
def sim():
    return Simulator(SimulatorConfig(seed=5, accounts=1234, per_page=100), ManualClock(START))


@pytest.fixture
def api(sim):
    with sim.serve() as running, httpx.Client(base_url=running.http_base_url) as client:
        yield client


def test_worlds_need_credentials(api, sim):
    began = time.time()
    assert api.get("/worlds").status_code == 401
    assert api.get("/worlds", headers={**AUTH, "X-Token": "wrong"}).status_code == 401
    response = api.get("/worlds", headers=AUTH)
    assert response.status_code == 200
    worlds = response.json()["worlds"]
    assert worlds
    for world in worlds:
        assert {"name", "players", "static", "ssmp"} <= world.keys()
        assert isinstance(world["players"], int) and isinstance(world["static"], bool)
        assert re.search(r"\{[0-9A-F]{6}\}", world["name"])
        assert set(world) - {"name", "players", "static", "ssmp"}  # extra unknown fields
    assert any(w["static"] for w in worlds)
    # Every request is a poll the statistics time (the fault suite's accounting uses them).
    times = sim.stats.to_dict()["poll_times"]["/api/worlds"]
    assert len(times) == 3 and began <= times[0] <= times[1] <= times[2] <= time.time()


def test_worlds_repeat_clean_names_during_a_day(sim):
    dupes = 0
    for minute in range(0, 24 * 60, 10):
        worlds = sim.worlds_payload(START + timedelta(minutes=minute))["worlds"]
        clean = [re.sub(r"\{[0-9A-Fa-f]{6}\}", "", w["name"]) for w in worlds]
        dupes += len(clean) != len(set(clean))
    assert dupes > 0


def test_user_pages_have_the_api_shape(api):
    body = api.get("/user", params={"page": 1}).json()
    meta = body["meta"]
    assert meta["last_page"] == 13 and meta["total"] == 1234 and meta["per_page"] == 100
    assert meta["current_page"] == 1
    ids = [r["id"] for r in body["data"]]
    assert ids == list(range(1234, 1134, -1))  # newest first
    for record in body["data"]:
        assert set(record) == RECORD_FIELDS
        for key in ("regdate", "lastlogin", "premium_expdate"):
            value = record[key]
            assert isinstance(value, int) or value == "" or MSK_STAMP.match(value), value
        for warn in record["warn"]:
            assert set(warn) == {"admin", "bantime", "reason"}
    last = api.get("/user", params={"page": 13}).json()
    assert [r["id"] for r in last["data"]] == list(range(34, 0, -1))
    assert api.get("/user", params={"page": 14}).json()["data"] == []


def test_timestamps_mix_strings_epochs_and_never(sim):
    records = [sim.accounts.record(i) for i in range(1, 1001)]
    values = [r["lastlogin"] for r in records]
    assert any(isinstance(v, int) and v > 0 for v in values)
    assert any(isinstance(v, str) and v != "1970-01-01 03:00:00" for v in values)
    assert any(v in (0, "1970-01-01 03:00:00") for v in values)
    # Moscow time: the string form of an epoch is 3 hours ahead of UTC.
    rec = next(r for r in records if isinstance(r["regdate"], str))
    assert datetime.strptime(rec["regdate"], "%Y-%m-%d %H:%M:%S") <= START.replace(
        tzinfo=None
    ) + timedelta(hours=3)


def test_429_with_retry_after_seconds_and_date(sim, api):
    sim.faults.http_429_next(2, retry_after=7)
    for _ in range(2):
        response = api.get("/user", params={"page": 1})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
    sim.faults.http_429_next(1, retry_after=2, as_http_date=True)
    response = api.get("/user", params={"page": 1})
    assert response.status_code == 429
    when = parsedate_to_datetime(response.headers["Retry-After"])
    assert 0 < (when - datetime.now(UTC)).total_seconds() <= 4
    assert api.get("/user", params={"page": 1}).status_code == 200
    assert sim.stats.page_requests[1] == 4 and sim.stats.page_served[1] == 1


def test_5xx_streak_and_failing_pages(sim, api):
    sim.faults.http_5xx_next(3)
    assert [api.get("/user", params={"page": 2}).status_code for _ in range(4)] == [
        503, 503, 503, 200,
    ]  # fmt: skip
    sim.faults.fail_page(5, times=2, status=502)
    assert api.get("/user", params={"page": 4}).status_code == 200
    assert [api.get("/user", params={"page": 5}).status_code for _ in range(3)] == [502, 502, 200]


def test_faults_for_one_endpoint_only(sim, api):
    sim.faults.http_5xx_next(1, endpoint="worlds")
    assert api.get("/user").status_code == 200
    assert api.get("/worlds", headers=AUTH).status_code == 503
    assert api.get("/worlds", headers=AUTH).status_code == 200


def test_slow_responses(sim, api):
    sim.faults.slow_seconds = 0.3
    started = time.monotonic()
    assert api.get("/user").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_malformed_records(sim, api):
    sim.faults.malformed_record_rate = 0.05
    records = [
        r for page in range(1, 14) for r in api.get("/user", params={"page": page}).json()["data"]
    ]
    bad = [
        r
        for r in records
        if not isinstance(r.get("id"), int)
        or not isinstance(r["warn"], list)
        or isinstance(r["regdate"], dict)
    ]
    assert len(records) == 1234
    expected = sum(sim.accounts.is_malformed(i) for i in range(1, 1235))
    assert len(bad) == expected and 20 < expected < 110


def test_registrations_shift_pages(sim, api):
    first = api.get("/user", params={"page": 1}).json()
    sim.register_accounts(3)
    second = api.get("/user", params={"page": 2}).json()
    assert second["meta"]["total"] == 1237
    ids_1 = [r["id"] for r in first["data"]]
    ids_2 = [r["id"] for r in second["data"]]
    assert ids_2[:3] == ids_1[-3:]  # the last 3 of page 1 slid onto page 2
    new = api.get("/user", params={"page": 1}).json()["data"][0]
    assert new["id"] == 1237


def test_registrations_per_requests_and_over_time():
    clock = ManualClock(START)
    cfg = SimulatorConfig(
        seed=5, accounts=500, register_every_requests=2, register_batch=5, registrations_per_hour=10
    )
    sim = Simulator(cfg, clock)
    with sim.serve() as running, httpx.Client(base_url=running.http_base_url) as api:
        totals = [api.get("/user", params={"page": 1}).json()["meta"]["total"] for _ in range(4)]
        assert totals == [500, 505, 505, 510]
        clock.advance(3600)
        assert api.get("/user").json()["meta"]["total"] == 520
        body = api.get("/user").json()  # the 6th request registers 5 more
        assert body["data"][0]["id"] == body["meta"]["total"] == 525


def test_post_faults_from_another_process(sim, api):
    root = str(api.base_url).removesuffix("/api/")
    response = httpx.post(
        f"{root}/_sim/faults",
        json={"packet_loss": 0.25, "http_429_next": {"n": 1, "retry_after": 3}, "register": 2},
    )
    assert response.status_code == 200
    assert sim.faults.packet_loss == 0.25
    r = api.get("/user")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert api.get("/user").json()["meta"]["total"] == 1236
    stats = httpx.get(f"{root}/_sim/stats").json()
    assert stats["page_requests"]["1"] == 2


def test_fault_knobs_round_trip_as_json(sim, api):
    root = str(api.base_url).removesuffix("/api/")
    spec = {
        "udp_outages": [["2026-01-05T16:10:00Z", "2026-01-05T16:20:00Z"]],
        "fail_pages": {"3": 2},
        "http_5xx_next": {"n": 1, "status": 502, "endpoint": "worlds"},
        "stray_rate": 0.5,
        "udp_fault_opcodes": "c",
    }
    knobs = httpx.post(f"{root}/_sim/faults", json=spec).json()
    assert knobs["pending_http_faults"] == 3 and knobs["stray_rate"] == 0.5
    assert sim.faults.udp_silent_at(START + timedelta(minutes=15))
    assert not sim.faults.udp_silent_at(START + timedelta(minutes=25))
    assert api.get("/user", params={"page": 3}).status_code == 500
    assert httpx.get(f"{root}/_sim/faults").json()["udp_fault_opcodes"] == "c"
    httpx.post(f"{root}/_sim/faults", json={"reset": True, "reset_stats": True})
    assert sim.faults.pending_http_faults() == 0 and sim.faults.udp_outages == []
    assert api.get("/user", params={"page": 3}).status_code == 200
    assert sim.stats.page_requests == {3: 1}
    assert httpx.post(f"{root}/_sim/faults", content=b"{not json").status_code == 400
