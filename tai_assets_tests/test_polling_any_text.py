"""Any string a source can send: both polling sensors against loopback stand-ins that answer with
arbitrary text (lone surrogates, NUL, control characters, 5,000 characters, every cp1251 byte).
No tick may fail, every poll must be spooled, and its ingest run must store it."""

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tai_assets.defs.polling.jobs import ingest_job
from tai_assets.sources.samp.protocol import parse_request
from tai_assets_tests.support.polling import (
    SERVER_SENSOR,
    WORLD_SENSOR,
    execute,
    polling_resources,
    tick,
)

ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(["\ud800", "\udfff", "\x00", "\x1b", "\n", "я"]), max_size=8),
    st.just("W" * 5000),
)
NAME_BYTES = st.binary(min_size=1, max_size=24)  # every byte, 0x98 (no cp1251 letter) included
ALL_CP1251_BYTES = bytes(range(1, 256))


class Answers:
    """What the stand-ins answer with, set per example."""

    hostname: bytes = b"host"
    names: list[bytes] = []
    world_name: str = "x"


@contextmanager
def game_server() -> Iterator[int]:
    """A UDP stand-in that answers `i` and `c` with Answers' raw bytes; yields its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(2048)
            except TimeoutError:
                continue
            request = parse_request(data)
            if request is None:
                continue
            out = bytearray(request.header)
            if request.opcode == b"i":
                out += struct.pack("<BHH", 0, len(Answers.names), 500)
                for text in (Answers.hostname, b"mode", b"ru"):
                    out += struct.pack("<I", len(text)) + text
            elif request.opcode == b"c":
                out += struct.pack("<H", len(Answers.names))
                for name in Answers.names:
                    out += struct.pack("<B", len(name)) + name + struct.pack("<i", 0)
            sock.sendto(bytes(out), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()


class WorldsHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        world = {"name": Answers.world_name, "players": 3, "static": False, "ssmp": True}
        # ensure_ascii: a lone surrogate travels as "\ud800", as a JSON API can send it.
        body = json.dumps({"worlds": [world, {**world, "name": "plain"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@contextmanager
def chrono_api() -> Iterator[str]:
    """An HTTP stand-in for chrono's /worlds answering with Answers.world_name; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), WorldsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


class Running:
    def __init__(self, udp_port: int, http_base_url: str):
        self.udp_port, self.http_base_url = udp_port, http_base_url


EXAMPLES = settings(
    max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def poll_and_ingest(tmp_path_factory, sensor: int, source: str, job, stored_sql: str):
    """Tick `sensor` once against the stand-ins, run what it requested; return the spooled
    poll and what `stored_sql` reads from the warehouse afterwards."""
    database = str(tmp_path_factory.mktemp("w") / "w.duckdb")
    with game_server() as port, chrono_api() as url:
        resources = polling_resources(Running(port, url), database, batch=1)
        result = tick(sensor, resources, None)
    assert isinstance(result, dg.SensorResult) and result.run_requests, result
    (poll,) = [p.record for p in resources["spool"].spool().pending(source)]
    assert execute(result.run_requests[0], job, resources).success
    with duckdb.connect(database, read_only=True) as conn:
        (stored,) = conn.execute(stored_sql).fetchone()
    return poll, stored


@EXAMPLES
@given(hostname=st.one_of(NAME_BYTES, st.just(b"H" * 5000)), names=st.lists(NAME_BYTES, max_size=6))
def test_server_sensor_records_any_bytes_a_server_sends(tmp_path_factory, hostname, names):
    Answers.hostname = hostname
    Answers.names = list(dict.fromkeys([*names, ALL_CP1251_BYTES[:255]]))
    poll, stored = poll_and_ingest(
        tmp_path_factory,
        SERVER_SENSOR,
        "server",
        ingest_job,
        "SELECT len(player_names) FROM raw.raw_server_polls",
    )
    assert poll["status"] == "ok" and len(poll["player_names"]) == len(set(poll["player_names"]))
    assert stored == len(poll["player_names"])


@EXAMPLES
@given(world_name=ANY_TEXT)
def test_world_sensor_records_any_string_the_api_sends(tmp_path_factory, world_name):
    Answers.world_name = world_name
    poll, stored = poll_and_ingest(
        tmp_path_factory,
        WORLD_SENSOR,
        "worlds",
        ingest_job,
        "SELECT count(*) FROM raw.raw_world_polls",
    )
    assert poll["status"] == "ok" and len(poll["worlds"]) == 2
    assert stored == 2
