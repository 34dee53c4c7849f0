"""The query client against the simulator's real UDP server on loopback."""

from __future__ import annotations

import itertools
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig
from tai_assets.sources.samp.client import query_server

# 19:00 Moscow time: the evening peak, dozens of players online.
PEAK = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
FAST = {"timeout_s": 0.25, "attempts": 3}


@pytest.fixture
def clock():
    return ManualClock(PEAK)


@pytest.fixture
def sim(clock):
    spell = (PEAK + timedelta(hours=2), PEAK + timedelta(hours=3))
    return Simulator(SimulatorConfig(seed=7, crowd_spells=[spell]), clock=clock)


@pytest.fixture
def server(sim):
    with sim.serve() as running:
        yield running


def test_ok_poll_lists_every_player(sim, server):
    result = query_server("127.0.0.1", server.udp_port, **FAST)
    expected = [p.name for p in sim.players_online()]
    assert result.status == "ok", result.error
    assert result.error is None
    assert 30 < result.online <= 100
    assert result.online == len(expected)
    assert result.player_names == expected
    assert result.max_players == sim.config.max_players
    assert result.hostname == "TRAINING SANDBOX | Песочница"
    assert result.latency_ms is not None and result.latency_ms >= 0


def test_hostname_resolves_to_ipv4(server):
    assert query_server("localhost", server.udp_port, **FAST).status == "ok"


def test_more_than_100_players_is_count_only(sim, clock, server):
    clock.advance(2.5 * 3600)  # inside the crowd spell
    before = sim.stats.udp_requests["c"]
    result = query_server("127.0.0.1", server.udp_port, **FAST)
    assert result.status == "count_only"
    assert result.online > 100
    assert result.player_names is None
    assert "100" in result.error
    assert sim.stats.udp_requests["c"] == before  # the client did not even ask for names


def test_no_answer_to_c_is_count_only(sim, server):
    sim.faults.udp_fault_opcodes = "c"
    sim.faults.packet_loss = 1.0
    result = query_server("127.0.0.1", server.udp_port, **FAST)
    assert result.status == "count_only"
    assert result.online == len(sim.players_online())
    assert result.player_names is None
    assert "no answer" in result.error


def test_malformed_c_is_count_only_with_reason(sim, server):
    sim.faults.udp_fault_opcodes = "c"
    sim.faults.malformed_rate = 1.0
    result = query_server("127.0.0.1", server.udp_port, **FAST)
    assert result.status == "count_only"
    assert result.error.startswith("malformed")


@pytest.mark.parametrize("knob", ["malformed_rate", "truncated_rate"])
def test_broken_i_answers_are_malformed_not_unreachable(sim, server, knob):
    """The server answered, so it is up; only its count is unknown."""
    setattr(sim.faults, knob, 1.0)
    for _ in range(2):
        result = query_server("127.0.0.1", server.udp_port, **FAST)
        assert result.status == "malformed"
        assert result.online is None and result.player_names is None
        assert result.error.startswith("malformed 'i' answer")


def test_packet_loss_is_absorbed_by_retries(sim, server):
    sim.faults.packet_loss = 0.3
    results = [query_server("127.0.0.1", server.udp_port, **FAST) for _ in range(12)]
    assert {r.status for r in results} <= {"ok", "count_only", "malformed", "unreachable"}
    assert sum(r.status == "ok" for r in results) >= 8
    for r in results:
        if r.status == "unreachable":
            assert r.online is None  # an outage is never "0 online"


def test_total_loss_is_unreachable(sim, server):
    sim.faults.packet_loss = 1.0
    result = query_server("127.0.0.1", server.udp_port, **FAST)
    assert result.status == "unreachable"
    assert "no answer" in result.error


def test_outage_window_in_simulated_time(sim, clock, server):
    sim.faults.add_outage(clock.now(), clock.now() + timedelta(minutes=10))
    assert query_server("127.0.0.1", server.udp_port, **FAST).status == "unreachable"
    clock.advance(11 * 60)
    assert query_server("127.0.0.1", server.udp_port, **FAST).status == "ok"
    sim.faults.udp_down = True
    assert query_server("127.0.0.1", server.udp_port, **FAST).status == "unreachable"


@pytest.mark.parametrize("kind", ["header", "opcode", "source"])
def test_stray_datagrams_are_ignored(sim, server, kind):
    sim.faults.stray_rate = 1.0
    sim.faults.stray_kinds = (kind,)
    # A slow real answer makes sure the stray one arrives first and would be read first.
    sim.faults.udp_delay = 0.05
    result = query_server("127.0.0.1", server.udp_port, timeout_s=1.0, attempts=1)
    assert result.status == "ok", result.error
    assert result.player_names == [p.name for p in sim.players_online()]


def test_a_call_is_bounded_by_its_budget(sim, server):
    sim.faults.udp_down = True
    started = time.monotonic()
    result = query_server("127.0.0.1", server.udp_port, timeout_s=1.5, attempts=50, budget_s=1.0)
    assert result.status == "unreachable"
    assert time.monotonic() - started < 1.5


def test_a_silent_port_is_unreachable():
    # A socket that never answers: every attempt times out.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        started = time.monotonic()
        result = query_server("127.0.0.1", port, timeout_s=0.3, attempts=2)
        assert result.status == "unreachable"
        assert time.monotonic() - started < 1.5


def test_unresolvable_host_does_not_raise():
    result = query_server("no-such-host.invalid", 7777, **FAST)
    assert result.status == "unreachable"
    assert "resolve" in result.error


class JoinAtClientListClock(ManualClock):
    """A clock that reads `before` until the server has been asked for the player list (`c`),
    then `after`: a player joins between the `i` and the `c` of a poll."""

    def __init__(self, before: datetime, after: datetime) -> None:
        super().__init__(before)
        self.before, self.after = before, after
        self.sim: Simulator | None = None

    def now(self) -> datetime:
        asked_list = self.sim is not None and self.sim.stats.udp_requests["c"] > 0
        return self.after if asked_list else self.before


def test_a_join_between_i_and_c_is_counted_by_asking_i_again():
    probe = Simulator(SimulatorConfig(seed=7), clock=ManualClock(PEAK))
    minutes = (PEAK + timedelta(minutes=m) for m in range(240))
    counts = [(t, len(probe.population.online_at(t.timestamp()))) for t in minutes]
    before, after = next((a, b) for a, b in itertools.pairwise(counts) if a[1] < b[1] <= 100)
    clock = JoinAtClientListClock(before[0], after[0])
    clock.sim = sim = Simulator(SimulatorConfig(seed=7), clock=clock)
    with sim.serve() as running:
        result = query_server("127.0.0.1", running.udp_port, **FAST)
    assert result.status == "ok", result.error
    assert sim.stats.udp_requests["i"] == sim.stats.udp_answers["i"] == 2  # asked again
    assert sim.stats.udp_polls["i"] == 1  # ... within one poll, which the simulator counts once
    with sim.serve() as running:
        query_server("127.0.0.1", running.udp_port, **FAST)
    assert sim.stats.udp_polls["i"] == 2  # another socket: another poll
    assert len(sim.stats.poll_times["i"]) == 2  # each poll's instant, once
    assert len(result.player_names) == after[1] > before[1]
    assert result.online == after[1]
