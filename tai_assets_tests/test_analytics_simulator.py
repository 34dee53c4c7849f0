"""Analytics on simulator data: a simulated Moscow day's core tables, built from the
simulator's minute-by-minute ground truth, give the daily activity and digest that a naive,
independent computation over the same rows gives."""

import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import polars as pl
import pytest

from tai_assets.analytics.names import is_unsafe_name
from tai_assets.core.derive import refresh_world_session_stats
from tai_assets.defs.analytics.assets import daily_activity
from tai_assets.defs.analytics.digests import daily_digest
from tai_assets.defs.analytics.resources import AnalyticsSettings, TelegramResource
from tai_assets.defs.resources import WarehouseResource
from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig
from tai_assets.warehouse import connection
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager
from tai_assets_tests.support.oracles import is_publishable_player

DAY_START = datetime(2026, 1, 4, 21, 0)  # 5 January 2026, 00:00 Moscow, naive UTC
DAY_END = DAY_START + timedelta(days=1)
PLAYER_GAP = timedelta(seconds=2700)
WORLD_GAP = timedelta(seconds=1800)
COLOUR = re.compile(r"\{[0-9A-Fa-f]{6}\}")


def naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def sessions_from_listings(listings: dict[str, list[datetime]], gap: timedelta):
    """(name, start, end): first listing to last, listings closer than ``gap`` are one."""
    out = []
    for name, times in listings.items():
        start = prev = times[0]
        for t in times[1:]:
            if t - prev > gap:
                out.append((name, start, prev))
                start = t
            prev = t
        out.append((name, start, prev))
    return out


@pytest.fixture(scope="module")
def simulated():
    sim = Simulator(
        SimulatorConfig(seed=7, accounts=100), clock=ManualClock(datetime(2026, 1, 6, tzinfo=UTC))
    )
    players: dict[str, list[datetime]] = defaultdict(list)
    worlds: dict[str, list[datetime]] = defaultdict(list)
    online_changes, world_changes = [], []
    last_online, last_world = None, {}
    t = DAY_START - timedelta(hours=6)
    while t < DAY_END + timedelta(hours=6):
        aware = t.replace(tzinfo=UTC)
        names = sim.truth.online_names(aware)
        for name in names:
            players[name].append(t)
        count = sim.truth.online_count(aware)
        if count != last_online:
            online_changes.append((t, "up", count, 300))
            last_online = count
        best: dict[str, int] = {}
        for w in sim.truth.worlds_at(aware):
            clean = COLOUR.sub("", w["name"]).strip()
            best[clean] = max(best.get(clean, -1), w["players"])
        for clean, n in best.items():
            worlds[clean].append(t)
            if last_world.get(clean) != n:
                world_changes.append((clean, n, t))
            last_world[clean] = n
        for gone in set(last_world) - set(best):
            del last_world[gone]
        t += timedelta(minutes=1)
    return {
        "player_sessions": sessions_from_listings(players, PLAYER_GAP),
        "world_sessions": sessions_from_listings(worlds, WORLD_GAP),
        "server_online": online_changes,
        "worlds_online": world_changes,
    }


@pytest.fixture(scope="module")
def database(simulated, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("sim") / "warehouse.duckdb")
    columns = {
        "player_sessions": ["player", "session_start", "session_end"],
        "world_sessions": ["name", "session_start", "session_end"],
        "server_online": ["changed_at", "status", "online", "max_players"],
        "worlds_online": ["name", "players", "saved_at"],
    }
    with connection.connect(path) as conn:
        for table, cols in columns.items():
            frame = pl.DataFrame(simulated[table], schema=cols, orient="row")
            conn.register("rows_in", frame.to_arrow())
            conn.execute(f"INSERT INTO core.{table} ({', '.join(cols)}) SELECT * FROM rows_in")
            conn.unregister("rows_in")
        refresh_world_session_stats(conn, None)  # as the ingest does
    return path


def materialized(database: str, asset) -> dict:
    resources = {
        "io_manager": TaiWarehouseIOManager(database=database),
        "warehouse": WarehouseResource(database=database),
        "analytics_settings": AnalyticsSettings(),
        "telegram": TelegramResource(),
    }
    assert dg.materialize([asset], partition_key="2026-01-05", resources=resources).success
    with duckdb.connect(database, read_only=True) as conn:
        cursor = conn.execute(f"SELECT * FROM analytics.{asset.key.path[-1]}")
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def test_daily_activity_matches_naive_count(simulated, database):
    row = materialized(database, daily_activity)
    sessions = simulated["player_sessions"]
    overlapping = [s for s in sessions if s[2] >= DAY_START and s[1] < DAY_END]
    assert row["active_players"] == len({s[0] for s in overlapping}) > 50
    assert row["sessions"] == sum(1 for s in sessions if DAY_START <= s[1] < DAY_END)
    inside = sum((min(e, DAY_END) - max(s, DAY_START)).total_seconds() for _, s, e in overlapping)
    assert row["total_play_hours"] == pytest.approx(inside / 3600)
    in_day = [c for c in simulated["server_online"] if DAY_START <= c[0] < DAY_END]
    before = [c for c in simulated["server_online"] if c[0] <= DAY_START][-1]
    peak = max(c[2] for c in [before, *in_day])
    assert row["peak_online"] == peak
    assert row["day"] == date(2026, 1, 5)


def _score(points: list[tuple[float, int]]) -> float:
    area, prev_t, prev_y = 0.0, 0.0, 0.0
    for t, p in points:
        y = max(0, p - 1)
        area += (t - prev_t) * (y + prev_y) / 2
        prev_t, prev_y = t, y
    return area


def test_daily_digest_matches_naive_ranking(simulated, database):
    row = materialized(database, daily_digest)
    hours: dict[str, float] = defaultdict(float)
    for name, s, e in simulated["player_sessions"]:
        if DAY_START <= s < DAY_END and is_publishable_player(name):
            hours[name] += (e - s).total_seconds() / 3600
    expected_players = sorted(hours, key=lambda n: (-hours[n], n))[:3]
    assert [p["player"] for p in json.loads(row["top_players"])] == expected_players

    best: dict[str, tuple[float, int]] = {}
    for name, s, e in simulated["world_sessions"]:
        if not DAY_START <= s < DAY_END or is_unsafe_name(name):
            continue
        pts = [
            ((t - s).total_seconds() / 3600, n)
            for w, n, t in simulated["worlds_online"]
            if w == name and s <= t <= e
        ]
        score, peak = _score(pts), max((n for _, n in pts), default=0)
        length = (e - s).total_seconds() / 3600
        if peak >= 5 and score >= 0.6 and length >= 20 / 60 and score > best.get(name, (-1, 0))[0]:
            best[name] = (score, peak)
    expected_worlds = sorted(best, key=lambda n: (-best[n][0], -best[n][1], n))[:5]
    got = json.loads(row["top_worlds"])
    assert [w["name"] for w in got] == expected_worlds
    assert [w["score"] for w in got] == pytest.approx(
        [best[n][0] for n in expected_worlds], abs=1e-3
    )
    assert row["markdown"].startswith("# Итоги дня: 5 января 2026")
