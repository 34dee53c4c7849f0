"""A bounded SA-MP query client: one call polls a server once and never raises.

``query_server`` asks ``i`` (players, max players, hostname) and, when at most 100 players are
online, ``c`` (the names). open.mp sends no answer at all to ``c`` above 100 players, so the
result then says ``count_only``. Every failure becomes a status with a reason, because a poll
that fails must be recorded, never lost to an exception.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tai_assets.sources.samp.protocol import (
    MalformedPacketError,
    build_header,
    build_request,
    parse_clients,
    parse_info,
)

Status = Literal["ok", "count_only", "malformed", "unreachable"]

#: open.mp answers ``c`` only up to this many players online.
MAX_LISTED_PLAYERS = 100
#: Hard bound of one whole ``query_server`` call, DNS included.
DEFAULT_BUDGET_S = 9.5
DNS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class ServerPollResult:
    """The outcome of one poll of a game server.

    ``player_names`` is set only when ``status == "ok"``; ``error`` says why a poll is
    ``count_only``, ``malformed`` (the server answered ``i``, but not in a form that parses: up,
    count unknown) or ``unreachable``; ``latency_ms`` is the round trip of the ``i`` answer;
    ``escaped_names`` counts names that held bytes Windows-1251 does not define.
    """

    status: Status
    online: int | None
    max_players: int | None
    hostname: str | None
    player_names: list[str] | None
    error: str | None
    latency_ms: float | None
    escaped_names: int = 0


def _unreachable(error: str) -> ServerPollResult:
    return ServerPollResult("unreachable", None, None, None, None, error, None)


def resolve_ipv4(host: str, timeout_s: float = DNS_TIMEOUT_S) -> str:
    """Return the IPv4 address of ``host`` (a literal is returned as is).

    Name resolution runs in a helper thread so that a hanging resolver cannot exceed
    ``timeout_s``. Raises ``OSError`` when the name does not resolve in time.
    """
    try:
        return str(ipaddress.IPv4Address(host))
    except ipaddress.AddressValueError:
        pass
    box: dict[str, object] = {}

    def work() -> None:
        try:
            infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_DGRAM)
            box["ip"] = infos[0][4][0]
        except OSError as exc:
            box["error"] = exc

    worker = threading.Thread(target=work, name=f"resolve-{host}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if "ip" in box:
        return str(box["ip"])
    if "error" in box:
        raise OSError(f"cannot resolve {host!r}: {box['error']}")
    raise OSError(f"cannot resolve {host!r}: resolver timed out after {timeout_s:g} s")


class _Exchange:
    """Sends one opcode with retries and waits for the datagram that answers it."""

    def __init__(self, sock: socket.socket, ip: str, port: int, deadline: float) -> None:
        self.sock = sock
        self.addr = (ip, port)
        self.ip = ip
        self.port = port
        self.deadline = deadline
        self.malformed_answers = 0

    def ask(
        self, opcode: bytes, timeout_s: float, attempts: int, parse: Callable[[bytes, bytes], Any]
    ) -> tuple[Any, str | None, float | None]:
        """Return ``(parsed, None, rtt_ms)`` or ``(None, reason, None)`` after all attempts."""
        header = build_header(self.ip, self.port, opcode)
        request = build_request(self.ip, self.port, opcode)
        last_malformed: str | None = None
        sent_any = False
        for _ in range(max(1, attempts)):
            now = time.monotonic()
            if now >= self.deadline:
                break
            try:
                self.sock.sendto(request, self.addr)
                sent_any = True
            except OSError as exc:
                return None, f"send failed: {exc}", None
            sent_at = time.monotonic()
            attempt_end = min(sent_at + timeout_s, self.deadline)
            while True:
                remaining = attempt_end - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    ready, _, _ = select.select([self.sock], [], [], remaining)
                    if not ready:
                        break
                    data, source = self.sock.recvfrom(65535)
                except OSError:
                    # e.g. ICMP port unreachable surfacing on some platforms: treat as loss.
                    continue
                if source[:2] != self.addr or data[:11] != header:
                    continue  # not an answer to this request: ignore it
                try:
                    parsed = parse(data, header)
                except MalformedPacketError as exc:
                    last_malformed = f"malformed {opcode.decode()!r} answer: {exc}"
                    self.malformed_answers += 1
                    continue
                return parsed, None, (time.monotonic() - sent_at) * 1000.0
        if last_malformed:
            return None, last_malformed, None
        if not sent_any:
            return None, f"no time left to ask {opcode.decode()!r}", None
        return None, f"no answer to {opcode.decode()!r} after {attempts} attempt(s)", None


def query_server(
    host: str,
    port: int,
    *,
    timeout_s: float = 1.5,
    attempts: int = 3,
    budget_s: float = DEFAULT_BUDGET_S,
) -> ServerPollResult:
    """Poll the SA-MP/open.mp server at ``host:port`` once and return what it said.

    Sends ``i`` (up to ``attempts`` times, waiting ``timeout_s`` each), then ``c`` the same way
    if at most 100 players are online. The whole call, name resolution included, ends within
    ``budget_s`` seconds. Datagrams from another address or with another header/opcode are
    ignored; a malformed answer counts as a failed attempt. Never raises for network or
    protocol problems: they come back as ``malformed`` (``i`` answered, never parseably),
    ``unreachable`` (no ``i`` answer at all) or ``count_only`` (count known, names not).
    """
    started = time.monotonic()
    deadline = started + budget_s
    try:
        ip = resolve_ipv4(host, timeout_s=min(DNS_TIMEOUT_S, budget_s))
    except OSError as exc:
        return _unreachable(str(exc))
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError as exc:
        return _unreachable(f"cannot open a UDP socket: {exc}")
    try:
        sock.setblocking(False)
        exchange = _Exchange(sock, ip, port, deadline)
        info, error, rtt = exchange.ask(b"i", timeout_s, attempts, parse_info)
        if info is None and exchange.malformed_answers:
            return ServerPollResult("malformed", None, None, None, None, error, None)
        if info is None:
            return _unreachable(error or "no answer")
        base = {
            "online": info.players,
            "max_players": info.max_players,
            "hostname": info.hostname,
            "latency_ms": rtt,
        }
        if info.players > MAX_LISTED_PLAYERS:
            return ServerPollResult(
                status="count_only",
                player_names=None,
                error=f"{info.players} players online: the server lists names only up to "
                f"{MAX_LISTED_PLAYERS}",
                **base,
            )
        players, error, _ = exchange.ask(b"c", timeout_s, attempts, parse_clients)
        if players is None:
            return ServerPollResult(
                status="count_only", player_names=None, error=error or "no answer", **base
            )
        if len(players) > info.players:
            # Someone joined between `i` and `c`: ask `i` once more so that the count recorded
            # covers the names (if it still does not, the poll is kept as it is and the
            # count_covers_names check shows it).
            again, _, _ = exchange.ask(b"i", timeout_s, 1, parse_info)
            if again is not None and again.players >= len(players):
                base.update(online=again.players, max_players=again.max_players)
        return ServerPollResult(
            status="ok",
            player_names=[p.name for p in players],
            error=None,
            escaped_names=sum(1 for p in players if p.escaped),
            **base,
        )
    except Exception as exc:  # a poll must never raise: record whatever went wrong
        return _unreachable(f"unexpected error: {type(exc).__name__}: {exc}")
    finally:
        sock.close()
