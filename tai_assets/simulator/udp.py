"""The simulated game server's UDP side: answers SA-MP queries like open.mp does."""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
from collections.abc import Callable
from datetime import datetime

from tai_assets.simulator.config import SimulatorConfig
from tai_assets.simulator.faults import Faults, Stats
from tai_assets.simulator.population import Population
from tai_assets.sources.samp.protocol import (
    HEADER_LEN,
    PlayerEntry,
    ServerInfo,
    encode_clients,
    encode_info,
    encode_ping,
    encode_rules,
    parse_request,
)

MAX_LISTED_PLAYERS = 100


def corrupt(answer: bytes, rng: random.Random) -> bytes:
    """Return ``answer`` damaged so that a strict parser must reject it.

    Either a length/count field is inflated past the end of the datagram, or bytes are
    appended after a complete body.
    """
    opcode = answer[10:11]
    if rng.random() < 0.5:
        return answer + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    body = bytearray(answer)
    if opcode == b"i":  # hostname length (u32 after u8 + u16 + u16)
        struct.pack_into("<I", body, HEADER_LEN + 5, 0x7FFF0000)
    elif opcode in (b"c", b"r"):  # one more entry than the datagram holds
        (count,) = struct.unpack_from("<H", body, HEADER_LEN)
        struct.pack_into("<H", body, HEADER_LEN, count + 1 + rng.randrange(5))
    else:
        body += b"\x00"
    return bytes(body)


class UdpServer:
    """Threaded UDP responder for opcodes ``i``, ``c``, ``r``, ``p`` with fault injection."""

    def __init__(
        self,
        config: SimulatorConfig,
        population: Population,
        faults: Faults,
        stats: Stats,
        now: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.population = population
        self.faults = faults
        self.stats = stats
        self.now = now
        self._rng = random.Random(config.seed ^ 0x5A5A)
        self._rng_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._stray_sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.port = 0

    def start(self, host: str, port: int = 0) -> int:
        """Bind ``host:port`` (0 = a free port), start serving, return the port."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.2)
        self._stray_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._stray_sock.bind((host, 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._loop, name="sim-udp", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        self._stop.set()
        if self._sock and self._stray_sock:
            # wake the receive loop up instead of waiting for its timeout
            with contextlib.suppress(OSError):
                self._stray_sock.sendto(b"", self._sock.getsockname())
        if self._thread:
            self._thread.join(timeout=2)
        for sock in (self._sock, self._stray_sock):
            if sock:
                sock.close()

    def _chance(self, p: float) -> bool:
        if p <= 0:
            return False
        with self._rng_lock:
            return self._rng.random() < p

    def _loop(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                data, addr = self._sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                self._handle(data, addr)
            except Exception:  # a bad request must never kill the server thread
                continue

    def server_info(self, players: int) -> ServerInfo:
        """Return the ``i`` answer body for ``players`` online."""
        c = self.config
        return ServerInfo(c.password, players, c.max_players, c.hostname, c.gamemode, c.language)

    def _handle(self, data: bytes, addr: tuple[str, int]) -> None:
        request = parse_request(data)
        if request is None:
            return
        opcode = request.opcode.decode("latin-1")
        self.stats.bump("udp_requests", opcode)
        now = self.now()
        if self.faults.udp_silent_at(now):
            return
        faulty = opcode in self.faults.udp_fault_opcodes
        if faulty and self._chance(self.faults.packet_loss):
            return
        header = request.header
        if request.opcode == b"p":
            answer = encode_ping(header, request.payload)
        elif request.opcode == b"r":
            answer = encode_rules(header, self.config.rules)
        elif request.opcode in (b"i", b"c"):
            online = self.population.online_at(now.timestamp())
            if request.opcode == b"i":
                answer = encode_info(header, self.server_info(len(online)))
            elif len(online) > MAX_LISTED_PLAYERS:
                return  # like open.mp: no answer at all above 100 players
            else:
                answer = encode_clients(header, [PlayerEntry(n, s) for n, s in online])
        else:
            return
        if faulty and self._chance(self.faults.truncated_rate):
            with self._rng_lock:
                answer = answer[: self._rng.randrange(HEADER_LEN, len(answer))]
        elif faulty and self._chance(self.faults.malformed_rate):
            with self._rng_lock:
                answer = corrupt(answer, self._rng)
        if faulty and self._chance(self.faults.stray_rate):
            self._send_stray(answer, addr)
        self.stats.record_udp_answer(opcode, addr)
        delay = self.faults.udp_delay
        if delay > 0:
            timer = threading.Timer(delay, self._send, (answer, addr))
            timer.daemon = True
            timer.start()
        else:
            self._send(answer, addr)

    def _send(self, answer: bytes, addr: tuple[str, int], stray: bool = False) -> None:
        sock = self._stray_sock if stray else self._sock
        try:
            if sock is not None:
                sock.sendto(answer, addr)
        except OSError:
            pass

    def _send_stray(self, answer: bytes, addr: tuple[str, int]) -> None:
        kinds = self.faults.stray_kinds or ("header",)
        with self._rng_lock:
            kind = self._rng.choice(list(kinds))
            other_ip = bytes(self._rng.randrange(1, 255) for _ in range(4))
        if kind == "source":  # the right bytes, from another port: not our server
            self._send(answer, addr, stray=True)
        elif kind == "opcode":  # our address, another opcode
            header = answer[:10] + (b"r" if answer[10:11] != b"r" else b"i")
            self._send(encode_rules(header, self.config.rules), addr)
        else:  # another server's header
            self._send(answer[:4] + other_ip + answer[8:], addr)
