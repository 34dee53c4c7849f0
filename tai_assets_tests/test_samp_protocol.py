"""Byte layouts of the SA-MP query protocol, checked against hand-built datagrams."""

from __future__ import annotations

import pytest

from tai_assets.sources.samp.protocol import (
    MalformedPacketError,
    PlayerEntry,
    ServerInfo,
    build_request,
    decode_text,
    encode_clients,
    encode_info,
    encode_ping,
    encode_rules,
    encode_text,
    parse_clients,
    parse_info,
    parse_ping,
    parse_request,
    parse_rules,
)

# 127.0.0.1:7777 -> 7f 00 00 01, port 7777 = 0x1E61 little-endian -> 61 1e
ADDR = b"SAMP\x7f\x00\x00\x01\x61\x1e"
H_I = ADDR + b"i"
H_C = ADDR + b"c"
H_R = ADDR + b"r"
H_P = ADDR + b"p"

# "Игрок" in Windows-1251, letter by letter: И=C8 г=E3 р=F0 о=EE к=EA
IGROK_CP1251 = b"\xc8\xe3\xf0\xee\xea"

INFO_BYTES = (
    H_I
    + b"\x00"  # password: no
    + b"\x2a\x00"  # players: 42
    + b"\xe8\x03"  # max players: 1000
    + b"\x08\x00\x00\x00"
    + b"TRAINING"
    + b"\x06\x00\x00\x00"
    + b"TRN v3"
    + b"\x07\x00\x00\x00"
    + b"\xd0\xf3\xf1\xf1\xea\xe8\xe9"  # "Русский"
)
INFO = ServerInfo(
    password=False,
    players=42,
    max_players=1000,
    hostname="TRAINING",
    gamemode="TRN v3",
    language="Русский",
)

CLIENTS_BYTES = (
    H_C
    + b"\x03\x00"  # three players
    + b"\x05"
    + IGROK_CP1251
    + b"\x07\x00\x00\x00"  # score 7
    + b"\x08Joe_Blow"
    + b"\xff\xff\xff\xff"  # score -1
    + b"\x01X"
    + b"\x00\x01\x00\x00"  # score 256
)
CLIENTS = [PlayerEntry("Игрок", 7), PlayerEntry("Joe_Blow", -1), PlayerEntry("X", 256)]

RULES_BYTES = H_R + b"\x02\x00" + b"\x07lagcomp" + b"\x02On" + b"\x07version" + b"\x0aomp 1.3.1."
RULES = {"lagcomp": "On", "version": "omp 1.3.1."}


def test_requests_have_the_documented_layout():
    assert build_request("127.0.0.1", 7777, b"i") == H_I
    assert build_request("127.0.0.1", 7777, b"c") == H_C
    assert build_request("127.0.0.1", 7777, b"r") == H_R
    assert build_request("127.0.0.1", 7777, b"p", b"\x01\x02\x03\x04") == H_P + b"\x01\x02\x03\x04"
    assert build_request("10.20.30.40", 65535, b"i") == b"SAMP\x0a\x14\x1e\x28\xff\xffi"


def test_request_validation():
    with pytest.raises(ValueError):
        build_request("127.0.0.1", 7777, b"p")  # ping needs 4 bytes
    with pytest.raises(ValueError):
        build_request("127.0.0.1", 7777, b"i", b"xx")
    with pytest.raises(ValueError):
        build_request("example.com", 7777, b"i")  # callers resolve hostnames first
    with pytest.raises(ValueError):
        build_request("127.0.0.1", 70000, b"i")


def test_parse_request_server_side():
    req = parse_request(H_P + b"\xde\xad\xbe\xef")
    assert req is not None
    assert (req.ip, req.port, req.opcode, req.payload) == (
        "127.0.0.1",
        7777,
        b"p",
        b"\xde\xad\xbe\xef",
    )
    assert req.header == H_P
    assert parse_request(b"XAMP" + H_I[4:]) is None
    assert parse_request(H_I[:10]) is None
    assert parse_request(H_P + b"\x01") is None  # ping without its payload


def test_info_encodes_and_parses():
    assert encode_info(H_I, INFO) == INFO_BYTES
    assert parse_info(INFO_BYTES, H_I) == INFO


def test_info_with_password_and_cyrillic_hostname():
    info = ServerInfo(True, 101, 300, "Игрок", "", "")
    expected = (
        H_I
        + b"\x01\x65\x00\x2c\x01"
        + b"\x05\x00\x00\x00"
        + IGROK_CP1251
        + b"\x00\x00\x00\x00"
        + b"\x00\x00\x00\x00"
    )
    assert encode_info(H_I, info) == expected
    assert parse_info(expected, H_I) == info


def test_clients_encode_and_parse_with_a_cyrillic_name():
    assert encode_clients(H_C, CLIENTS) == CLIENTS_BYTES
    assert parse_clients(CLIENTS_BYTES, H_C) == CLIENTS


def test_empty_client_list():
    assert encode_clients(H_C, []) == H_C + b"\x00\x00"
    assert parse_clients(H_C + b"\x00\x00", H_C) == []


def test_rules_encode_and_parse():
    assert encode_rules(H_R, RULES) == RULES_BYTES
    assert encode_rules(H_R, list(RULES.items())) == RULES_BYTES
    assert parse_rules(RULES_BYTES, H_R) == RULES


def test_ping_echoes_payload():
    payload = b"\x10\x20\x30\x40"
    assert encode_ping(H_P, payload) == H_P + payload
    assert parse_ping(H_P + payload, H_P) == payload
    assert parse_ping(H_P + payload, H_P + payload) == payload
    with pytest.raises(MalformedPacketError):
        parse_ping(H_P + payload, H_P + b"\x00\x00\x00\x00")


@pytest.mark.parametrize(
    ("data", "header", "parse"),
    [
        (INFO_BYTES, H_I, parse_info),
        (CLIENTS_BYTES, H_C, parse_clients),
        (RULES_BYTES, H_R, parse_rules),
        (H_P + b"abcd", H_P, parse_ping),
    ],
)
def test_every_truncation_is_malformed(data, header, parse):
    for cut in range(len(data)):
        with pytest.raises(MalformedPacketError):
            parse(data[:cut], header)


@pytest.mark.parametrize(
    ("data", "header", "parse"),
    [
        (INFO_BYTES, H_I, parse_info),
        (CLIENTS_BYTES, H_C, parse_clients),
        (RULES_BYTES, H_R, parse_rules),
        (H_P + b"abcd", H_P, parse_ping),
    ],
)
def test_trailing_garbage_is_malformed(data, header, parse):
    with pytest.raises(MalformedPacketError):
        parse(data + b"\x00", header)


def test_garbled_bodies_are_malformed():
    # hostname length far past the end of the datagram
    with pytest.raises(MalformedPacketError):
        parse_info(H_I + b"\x00\x01\x00\x02\x00" + b"\xff\xff\xff\x7f" + b"abc", H_I)
    # password flag neither 0 nor 1
    with pytest.raises(MalformedPacketError):
        parse_info(b"\x07".join([H_I, INFO_BYTES[12:]]), H_I)
    # count says five players, body holds one
    with pytest.raises(MalformedPacketError):
        parse_clients(H_C + b"\x05\x00\x01X\x00\x00\x00\x00", H_C)
    # wrong header / opcode
    with pytest.raises(MalformedPacketError):
        parse_info(b"SAMP\x7f\x00\x00\x02\x61\x1ei" + INFO_BYTES[11:], H_I)
    with pytest.raises(MalformedPacketError):
        parse_clients(H_R + CLIENTS_BYTES[11:], H_C)
    with pytest.raises(MalformedPacketError):
        parse_info(b"\x00" * 40, H_I)


def test_a_byte_cp1251_leaves_undefined_is_kept_reversibly_and_flagged():
    # 0x98 is unassigned in Windows-1251: it becomes the escape \x98, not U+FFFD, so a name
    # holding it stays distinct from one holding U+FFFD's stand-in ("?") and encodes back.
    data = H_C + b"\x02\x00" + b"\x02A\x98" + b"\x00\x00\x00\x00" + b"\x02A?" + b"\x00" * 4
    escaped, plain = parse_clients(data, H_C)
    assert escaped == PlayerEntry("A\\x98", 0, escaped=True)
    assert plain == PlayerEntry("A?", 0)
    assert escaped.name != plain.name
    assert encode_text(escaped.name) == b"A\x98"
    assert decode_text(b"\xcf\xe5\xf2\xff") == ("Петя", False)


def test_unencodable_text_is_replaced():
    data = encode_clients(H_C, [PlayerEntry("a\u4e2d", 1)])
    assert parse_clients(data, H_C) == [PlayerEntry("a?", 1)]


def test_too_long_name_is_rejected_by_the_encoder():
    with pytest.raises(ValueError):
        encode_clients(H_C, [PlayerEntry("x" * 256, 0)])
