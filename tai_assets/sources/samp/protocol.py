"""SA-MP / open.mp query protocol: pure encoding and decoding of UDP datagrams.

A request is ``b"SAMP"`` + the server's IPv4 address (4 bytes) + its port (u16 little-endian) +
a one-byte opcode (``i``, ``c``, ``r`` or ``p``); a ``p`` (ping) request carries 4 more bytes that
the answer echoes. Every answer starts with the same 11 header bytes. All integers are
little-endian; text that is not ASCII is Windows-1251 (``cp1251``).

Answer bodies:

* ``i``: u8 password flag, u16 players, u16 max players, then hostname, gamemode and language,
  each a u32 length and that many bytes.
* ``c``: u16 count, then per player a u8 length, the name, and an i32 score.
* ``r``: u16 count, then per rule a u8-length name and a u8-length value.
* ``p``: the 4-byte payload of the request.

Parsers are strict: a body that is truncated, has a length running past the end, or has
trailing bytes raises :class:`MalformedPacketError`.
"""

from __future__ import annotations

import ipaddress
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAGIC = b"SAMP"
HEADER_LEN = 11
OPCODES = (b"i", b"c", b"r", b"p")
PING_PAYLOAD_LEN = 4
ENCODING = "cp1251"


class MalformedPacketError(ValueError):
    """A datagram that claims to answer our request but cannot be decoded."""


@dataclass(frozen=True)
class ServerInfo:
    """The body of an ``i`` (information) answer."""

    password: bool
    players: int
    max_players: int
    hostname: str
    gamemode: str
    language: str


@dataclass(frozen=True)
class PlayerEntry:
    """One player of a ``c`` (client list) answer; ``escaped`` when its name held bytes that
    are not Windows-1251 (see :func:`decode_text`)."""

    name: str
    score: int
    escaped: bool = False


_ESCAPED_BYTE = re.compile(rb"\\x([0-9a-f]{2})")


def decode_text(raw: bytes) -> tuple[str, bool]:
    """Return ``raw`` decoded from Windows-1251, and whether it needed escapes.

    A byte Windows-1251 leaves undefined (0x98) becomes the four characters ``\\x98``, not
    U+FFFD: two names that differ only there stay two names, and :func:`encode_text` gives the
    original bytes back. (SA-MP nicknames cannot hold a backslash, so the escape is unambiguous
    for them.)
    """
    try:
        return raw.decode(ENCODING), False
    except UnicodeDecodeError:
        return raw.decode(ENCODING, errors="backslashreplace"), True


def encode_text(value: str) -> bytes:
    """Return the Windows-1251 bytes of ``value``, turning ``\\xNN`` escapes back into bytes
    (the inverse of :func:`decode_text`); characters cp1251 lacks become ``?``."""
    encoded = value.encode(ENCODING, errors="replace")
    return _ESCAPED_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), encoded)


@dataclass(frozen=True)
class Request:
    """A decoded request datagram (server side)."""

    header: bytes
    ip: str
    port: int
    opcode: bytes
    payload: bytes


# --------------------------------------------------------------------------- requests


def build_header(ip: str, port: int, opcode: bytes) -> bytes:
    """Return the 11-byte header ``SAMP`` + IPv4 + u16 LE port + opcode.

    It is both the start of a request and the prefix every answer to it must repeat.
    """
    if len(opcode) != 1:
        raise ValueError(f"opcode must be one byte, got {opcode!r}")
    if not 0 <= port <= 0xFFFF:
        raise ValueError(f"port out of range: {port}")
    try:
        addr = ipaddress.IPv4Address(ip)
    except ipaddress.AddressValueError as exc:
        raise ValueError(f"not an IPv4 address: {ip!r}") from exc
    return MAGIC + addr.packed + struct.pack("<H", port) + opcode


def build_request(ip: str, port: int, opcode: bytes, payload: bytes = b"") -> bytes:
    """Return the request datagram for ``opcode`` sent to the server at ``ip:port``.

    ``p`` needs a 4-byte ``payload`` (echoed by the server); the other opcodes take none.
    """
    if opcode == b"p":
        if len(payload) != PING_PAYLOAD_LEN:
            raise ValueError("a ping request needs a 4-byte payload")
    elif payload:
        raise ValueError(f"opcode {opcode!r} takes no payload")
    return build_header(ip, port, opcode) + payload


def parse_request(data: bytes) -> Request | None:
    """Decode a request datagram (server side); ``None`` if it is not a query request.

    Unknown opcodes decode too (the server decides to ignore them); a ``p`` without its 4-byte
    payload does not.
    """
    if len(data) < HEADER_LEN or not data.startswith(MAGIC):
        return None
    header = data[:HEADER_LEN]
    opcode = data[10:11]
    payload = data[HEADER_LEN:]
    if opcode == b"p":
        if len(payload) < PING_PAYLOAD_LEN:
            return None
        payload = payload[:PING_PAYLOAD_LEN]
    ip = str(ipaddress.IPv4Address(data[4:8]))
    (port,) = struct.unpack_from("<H", data, 8)
    return Request(header=header, ip=ip, port=port, opcode=opcode, payload=payload)


# --------------------------------------------------------------------------- encoders


def _text(value: str) -> bytes:
    return encode_text(value)


def _check_header(request_header: bytes) -> bytes:
    header = bytes(request_header[:HEADER_LEN])
    if len(header) != HEADER_LEN or not header.startswith(MAGIC):
        raise ValueError("request_header must be the 11-byte SAMP header")
    return header


def encode_info(request_header: bytes, info: ServerInfo) -> bytes:
    """Return the ``i`` answer datagram for ``info`` (server side)."""
    out = bytearray(_check_header(request_header))
    out += struct.pack("<BHH", 1 if info.password else 0, info.players, info.max_players)
    for value in (info.hostname, info.gamemode, info.language):
        raw = _text(value)
        out += struct.pack("<I", len(raw)) + raw
    return bytes(out)


def encode_clients(request_header: bytes, players: Iterable[PlayerEntry]) -> bytes:
    """Return the ``c`` answer datagram listing ``players`` (server side).

    Names longer than 255 bytes in cp1251 raise ``ValueError`` (the length is a u8).
    """
    players = list(players)
    out = bytearray(_check_header(request_header))
    out += struct.pack("<H", len(players))
    for player in players:
        raw = _text(player.name)
        if len(raw) > 0xFF:
            raise ValueError(f"player name too long for a u8 length: {player.name!r}")
        out += struct.pack("<B", len(raw)) + raw + struct.pack("<i", player.score)
    return bytes(out)


def encode_rules(
    request_header: bytes, rules: Mapping[str, str] | Iterable[tuple[str, str]]
) -> bytes:
    """Return the ``r`` answer datagram for ``rules`` (name -> value pairs, server side)."""
    items = list(rules.items()) if isinstance(rules, Mapping) else list(rules)
    out = bytearray(_check_header(request_header))
    out += struct.pack("<H", len(items))
    for name, value in items:
        for text in (name, value):
            raw = _text(text)
            if len(raw) > 0xFF:
                raise ValueError(f"rule text too long for a u8 length: {text!r}")
            out += struct.pack("<B", len(raw)) + raw
    return bytes(out)


def encode_ping(request_header: bytes, payload: bytes) -> bytes:
    """Return the ``p`` answer datagram echoing the 4-byte ``payload`` (server side)."""
    if len(payload) != PING_PAYLOAD_LEN:
        raise ValueError("a ping answer echoes a 4-byte payload")
    return _check_header(request_header) + bytes(payload)


# --------------------------------------------------------------------------- parsers


class _Reader:
    """Cursor over an answer body that raises MalformedPacketError on any overrun."""

    def __init__(self, body: bytes, what: str) -> None:
        self.body = body
        self.pos = 0
        self.what = what

    def take(self, n: int, field: str) -> bytes:
        end = self.pos + n
        if end > len(self.body):
            raise MalformedPacketError(
                f"{self.what} answer truncated: {field} needs {n} bytes at offset "
                f"{HEADER_LEN + self.pos}, only {len(self.body) - self.pos} left"
            )
        chunk = self.body[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt: str, field: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), field))

    def text(self, length_fmt: str, field: str) -> str:
        return self.text_and_escaped(length_fmt, field)[0]

    def text_and_escaped(self, length_fmt: str, field: str) -> tuple[str, bool]:
        (length,) = self.unpack(length_fmt, f"{field} length")
        return decode_text(self.take(length, field))

    def finish(self) -> None:
        if self.pos != len(self.body):
            raise MalformedPacketError(
                f"{self.what} answer has {len(self.body) - self.pos} unexpected trailing bytes"
            )


def _body(data: bytes, request_header: bytes, opcode: bytes, what: str) -> _Reader:
    header = bytes(request_header[:HEADER_LEN])
    if len(header) != HEADER_LEN:
        raise ValueError("request_header must be the 11-byte SAMP header")
    if header[10:11] != opcode:
        raise ValueError(f"request_header is for opcode {header[10:11]!r}, not {opcode!r}")
    if len(data) < HEADER_LEN:
        raise MalformedPacketError(f"{what} answer shorter than the 11-byte header")
    if data[:HEADER_LEN] != header:
        raise MalformedPacketError(f"{what} answer does not repeat our request header")
    return _Reader(bytes(data[HEADER_LEN:]), what)


def parse_info(data: bytes, request_header: bytes) -> ServerInfo:
    """Decode an ``i`` answer to the request whose header is ``request_header``."""
    reader = _body(data, request_header, b"i", "info")
    password, players, max_players = reader.unpack("<BHH", "counts")
    if password > 1:
        raise MalformedPacketError(f"info answer has password flag {password}, not 0 or 1")
    hostname = reader.text("<I", "hostname")
    gamemode = reader.text("<I", "gamemode")
    language = reader.text("<I", "language")
    reader.finish()
    return ServerInfo(
        password=bool(password),
        players=players,
        max_players=max_players,
        hostname=hostname,
        gamemode=gamemode,
        language=language,
    )


def parse_clients(data: bytes, request_header: bytes) -> list[PlayerEntry]:
    """Decode a ``c`` answer into its player list, in the order the server sent it."""
    reader = _body(data, request_header, b"c", "client list")
    (count,) = reader.unpack("<H", "player count")
    players = []
    for index in range(count):
        name, escaped = reader.text_and_escaped("<B", f"name of player {index}")
        (score,) = reader.unpack("<i", f"score of player {index}")
        players.append(PlayerEntry(name=name, score=score, escaped=escaped))
    reader.finish()
    return players


def parse_rules(data: bytes, request_header: bytes) -> dict[str, str]:
    """Decode an ``r`` answer into a dict of rule name -> value (order kept)."""
    reader = _body(data, request_header, b"r", "rules")
    (count,) = reader.unpack("<H", "rule count")
    rules: dict[str, str] = {}
    for index in range(count):
        name = reader.text("<B", f"name of rule {index}")
        rules[name] = reader.text("<B", f"value of rule {index}")
    reader.finish()
    return rules


def parse_ping(data: bytes, request_header: bytes) -> bytes:
    """Decode a ``p`` answer and return its 4-byte payload.

    If ``request_header`` is the whole 15-byte ping request, the payload must match it.
    """
    reader = _body(data, request_header, b"p", "ping")
    payload = reader.take(PING_PAYLOAD_LEN, "payload")
    reader.finish()
    expected = bytes(request_header[HEADER_LEN : HEADER_LEN + PING_PAYLOAD_LEN])
    if len(expected) == PING_PAYLOAD_LEN and payload != expected:
        raise MalformedPacketError("ping answer does not echo our payload")
    return payload
