"""The simulated population, worlds and accounts: realistic, deterministic, cheap."""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from tai_assets.simulator import AcceleratedClock, ManualClock, Simulator, SimulatorConfig

DAY0 = datetime(2026, 1, 5, tzinfo=UTC)


def make(seed=1, **kwargs) -> Simulator:
    return Simulator(SimulatorConfig(seed=seed, **kwargs), clock=ManualClock(DAY0))


def test_same_seed_same_state_other_seed_other_state():
    a, b, c = make(11), make(11), make(12)
    for minutes in (0, 333, 1000, 3 * 1440 + 7):
        at = DAY0 + timedelta(minutes=minutes)
        assert a.players_online(at) == b.players_online(at)
        assert a.worlds_payload(at) == b.worlds_payload(at)
    assert [a.accounts.record(i) for i in (1, 77, 4999)] == [
        b.accounts.record(i) for i in (1, 77, 4999)
    ]
    at = DAY0 + timedelta(hours=17)
    assert a.players_online(at) != c.players_online(at)
    # Order of evaluation does not matter: a day computed first or last is the same day.
    late = DAY0 + timedelta(days=40, hours=18)
    assert make(11).players_online(late) == a.players_online(late)


def test_a_day_of_players_looks_like_a_real_server():
    sim = make(2)
    end = DAY0 + timedelta(days=1)
    intervals = sim.truth.player_intervals(DAY0, end)
    names = {n for n, _, _ in intervals}
    assert 250 <= len(names) <= 600
    assert all(len(n) <= 24 for n in names)
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in n) for n in names)
    counts = [sim.truth.online_count(DAY0 + timedelta(minutes=m)) for m in range(0, 1440, 5)]
    assert 75 <= max(counts) <= 100
    assert min(counts) < 0.4 * max(counts)  # a daily curve, not a flat line
    per_name = defaultdict(list)
    for name, s, e in intervals:
        per_name[name].append((s, e))
    gaps = [
        (b[0] - a[1]).total_seconds()
        for spans in per_name.values()
        for a, b in itertools.pairwise(spans)
    ]
    assert all(g > 0 for g in gaps)  # merged per name: no overlap, no touching
    assert sum(g <= 6 * 60 for g in gaps) >= 20  # drops with quick reconnects
    lengths = [(e - s).total_seconds() for _, s, e in intervals]
    assert sum(length >= 3 * 3600 for length in lengths) >= 10  # some stay for hours
    # the truth agrees with what the server would list
    at = DAY0 + timedelta(hours=17, minutes=3)
    listed = {p.name for p in sim.players_online(at)}
    assert listed == {n for n, s, e in intervals if s <= at < e}


def test_crowd_spell_is_above_100_throughout_and_only_there():
    spell = (DAY0 + timedelta(hours=15), DAY0 + timedelta(hours=15, minutes=40))
    sim = make(3, crowd_spells=[spell])
    inside = [sim.truth.online_count(spell[0] + timedelta(seconds=s)) for s in range(0, 2400, 30)]
    assert min(inside) > 100
    for delta in (timedelta(seconds=-1), timedelta(minutes=41), timedelta(hours=-3)):
        assert sim.truth.online_count(spell[0] + delta) <= 100
    extras = sim.truth.crowd_players(DAY0, DAY0 + timedelta(days=1))
    assert extras
    without = {n for n, _, _ in sim.truth.player_intervals(*spell, include_crowd=False)}
    assert not set(extras) & without


def test_worlds_open_and_close():
    sim = make(4)
    end = DAY0 + timedelta(days=1)
    intervals = sim.truth.world_intervals(DAY0, end)
    static = {w["name"] for w in sim.worlds_payload(DAY0)["worlds"] if w["static"]}
    assert len(static) == 3
    dynamic = [(n, s, e) for n, s, e in intervals if not (s == DAY0 and e == end)]
    assert len(dynamic) > 40
    assert all("{" not in n for n, _, _ in intervals)  # clean names
    # a world empties before it closes
    world = sim.worlds.for_day(int(DAY0.timestamp()) // 86_400)[0]
    last_minute = datetime.fromtimestamp(world.close - 30, UTC)
    assert world.players_at(last_minute.timestamp(), sim.config.seed) == 0


def test_any_day_is_cheap():
    sim = make(5)
    started = time.monotonic()
    for days in (0, 365, 3000):
        sim.players_online(DAY0 + timedelta(days=days, hours=18))
        sim.worlds_payload(DAY0 + timedelta(days=days, hours=18))
    assert time.monotonic() - started < 2.0


def test_a_million_accounts_cost_no_memory():
    sim = make(6, accounts=1_000_000)
    page = sim.accounts.page(5000, DAY0)
    assert page["meta"]["last_page"] == 10_000
    assert page["data"][0]["id"] == 1_000_000 - 4999 * 100
    assert sim.accounts.page(5000, DAY0) == page  # generated, not stored, and stable
    started = time.monotonic()
    for p in range(1, 21):
        sim.accounts.page(p, DAY0)
    assert time.monotonic() - started < 1.0


def test_truth_writes_json(tmp_path):
    sim = make(7)
    path = sim.truth.write(tmp_path / "truth.json", DAY0, DAY0 + timedelta(hours=6))
    data = json.loads(path.read_text())
    assert data["seed"] == 7 and data["players"] and data["worlds"]
    first = data["players"][0]
    assert set(first) == {"name", "start", "end"}
    assert datetime.fromisoformat(first["start"]).tzinfo is not None


def test_accelerated_clock():
    clock = AcceleratedClock(DAY0, speed=3600)
    time.sleep(0.05)
    elapsed = (clock.now() - DAY0).total_seconds()
    assert 100 < elapsed < 3600


def test_manual_clock():
    clock = ManualClock(DAY0)
    assert clock.advance(90) == DAY0 + timedelta(seconds=90)
    assert clock.now() == DAY0 + timedelta(seconds=90)


def test_some_accounts_rename_each_week_and_keep_their_id():
    sim = make(3, accounts=4000)
    monday = DAY0  # 2026-01-05 is a Monday; simulated weeks run Thursday to Thursday (epoch)
    logins = [
        {r["id"]: r["login"] for r in (sim.accounts.record(i, at) for i in range(1, 4001))}
        for at in (monday, monday + timedelta(days=7), monday + timedelta(days=7, hours=1))
    ]
    week_before, week_after, hour_after = logins
    renamed = {i for i in week_before if week_before[i] != week_after[i]}
    # 0.4 % a week of 4,000 accounts: about 16; the same account id under a new login.
    assert 4 <= len(renamed) <= 40, len(renamed)
    assert week_after == hour_after  # no rename within the hour
    assert all(week_after[i].endswith(str(i)) for i in renamed)
    unrenamed = make(3, accounts=4000, renames_per_week=0).accounts
    assert all(unrenamed.record(i, monday)["login"] != week_after[i] for i in renamed)


def test_players_take_breaks_of_weeks_when_asked():
    sim = make(4, break_share=0.25)
    population = sim.population
    day0 = int(DAY0.timestamp()) // 86_400
    away = [population.on_break(0, day0 + d) for d in range(120)]
    assert sum(away) == 30  # a quarter of the 120-day cycle, in one stretch
    assert "".join("x" if a else "." for a in away * 2).count("x" * 30) >= 1
    # Nobody on a break plays that day (after 08:00: sessions of the day before last at most
    # 8 hours); without breaks some of them would.
    for d in range(3):
        day = day0 + d
        start = DAY0 + timedelta(days=d)
        intervals = sim.truth.player_intervals(start, start + timedelta(days=1))
        names = {n for n, began, _ in intervals if began >= start + timedelta(hours=8)}
        resting = {population.names[i] for i in range(len(population.names))
                   if population.on_break(i, day)}  # fmt: skip
        assert resting and not names & resting
        unrested = make(4).truth.player_intervals(start, start + timedelta(days=1))
        assert {n for n, began, _ in unrested if began >= start + timedelta(hours=8)} & resting
