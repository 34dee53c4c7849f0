"""The simulator's UDP server, spoken to with raw sockets."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig
from tai_assets.sources.samp.protocol import (
    build_request,
    parse_clients,
    parse_info,
    parse_ping,
    parse_rules,
)

PEAK = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)


@pytest.fixture
def setup():
    clock = ManualClock(PEAK)
    spell = (PEAK + timedelta(hours=1), PEAK + timedelta(hours=2))
    sim = Simulator(SimulatorConfig(seed=3, crowd_spells=[spell]), clock=clock)
    with sim.serve() as running:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(3.0)
        yield sim, clock, running, sock
        sock.close()


def ask(sock, port, opcode, payload=b""):
    request = build_request("127.0.0.1", port, opcode, payload)
    sock.sendto(request, ("127.0.0.1", port))
    try:
        data, _ = sock.recvfrom(65535)
    except TimeoutError:
        return request, None
    return request, data


def test_answers_every_opcode(setup):
    sim, _, running, sock = setup
    request, data = ask(sock, running.udp_port, b"i")
    info = parse_info(data, request)
    assert info == sim.server_info()
    request, data = ask(sock, running.udp_port, b"c")
    assert parse_clients(data, request) == sim.players_online()
    request, data = ask(sock, running.udp_port, b"r")
    assert parse_rules(data, request)["version"].startswith("omp")
    request, data = ask(sock, running.udp_port, b"p", b"\x01\x02\x03\x04")
    assert parse_ping(data, request) == b"\x01\x02\x03\x04"
    assert sim.stats.udp_requests == {"i": 1, "c": 1, "r": 1, "p": 1}


def test_echoes_whatever_address_the_request_names(setup):
    _, _, running, sock = setup
    request = build_request("10.0.0.9", 1234, b"i")
    sock.sendto(request, ("127.0.0.1", running.udp_port))
    data, _ = sock.recvfrom(65535)
    assert data[:11] == request


def test_no_answer_at_all_to_c_above_100_players(setup):
    sim, clock, running, sock = setup
    clock.advance(1.5 * 3600)
    request, data = ask(sock, running.udp_port, b"i")
    assert parse_info(data, request).players > 100
    sock.settimeout(1.0)
    assert ask(sock, running.udp_port, b"c")[1] is None
    assert sim.stats.udp_requests["c"] == 1 and sim.stats.udp_answers["c"] == 0


def test_ignores_garbage_requests(setup):
    _, _, running, sock = setup
    sock.settimeout(0.3)
    for junk in (b"", b"SAMP", b"XAMP\x7f\x00\x00\x01\x61\x1ei", b"SAMP\x7f\x00\x00\x01\x61\x1ep"):
        sock.sendto(junk, ("127.0.0.1", running.udp_port))
        with pytest.raises(TimeoutError):
            sock.recvfrom(65535)
    # still alive afterwards
    sock.settimeout(3.0)
    assert ask(sock, running.udp_port, b"i")[1] is not None
