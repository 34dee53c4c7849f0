"""Poll records: the spool and the sensor cursor give back exactly the polls the sensor took,
whatever text a source sent."""

from hypothesis import given
from hypothesis import strategies as st

from tai_assets.core.polls import decode_pending, encode_pending, storable_text
from tai_assets.core.spool import PollSpool
from tai_assets.sources.chrono import clean_world_name

INSTANTS = st.integers(0, 10**6).map(lambda s: f"2026-11-26T{s % 24:02d}:00:{s % 60:02d}+00:00")
NAMES = st.text(alphabet="abcXYZ_[]Юя0", min_size=1, max_size=8)


def server_poll():
    """Strategy: a server poll record as the sensor keeps it."""
    ok = st.fixed_dictionaries(
        {
            "polled_at": INSTANTS,
            "status": st.just("ok"),
            "online": st.integers(0, 100),
            "hostname": st.sampled_from(["TRAINING SANDBOX | Песочница", "other"]),
            "player_names": st.lists(NAMES, unique=True, max_size=12),
        }
    )
    failed = st.fixed_dictionaries(
        {"polled_at": INSTANTS, "status": st.just("unreachable"), "error": st.just("timeout")}
    )
    return st.one_of(ok, failed)


def world():
    """Strategy: one world entry as the chrono parser returns it (valid or invalid)."""
    raw = st.builds(
        lambda colour, name: f"{{{colour}}}{name}", st.sampled_from(["FF0000", ""]), NAMES
    )
    valid = raw.flatmap(
        lambda raw_name: st.fixed_dictionaries(
            {
                "raw_name": st.just(raw_name),
                "name": st.just(clean_world_name(raw_name)),
                "players": st.integers(0, 50),
                "static": st.booleans(),
                "ssmp": st.booleans(),
                "extra": st.sampled_from(['{"id": 1}', '{"mode": "race"}']),
            }
        )
    )
    invalid = st.fixed_dictionaries({"error": st.just("players: missing")})
    return st.one_of(valid, invalid)


def world_poll():
    """Strategy: a worlds poll record as the sensor keeps it."""
    return st.fixed_dictionaries(
        {"polled_at": INSTANTS, "status": st.just("ok"), "worlds": st.lists(world(), max_size=6)}
    )


ANY_TEXT = st.text(max_size=50)  # lone surrogates, NUL and control characters included


@given(st.lists(server_poll(), max_size=10))
def test_cursor_round_trips(polls):
    assert decode_pending(encode_pending(polls)) == polls


@given(st.lists(st.fixed_dictionaries({"polled_at": INSTANTS, "error": ANY_TEXT}), max_size=5))
def test_cursor_is_ascii_and_round_trips_any_text(polls):
    cursor = encode_pending(polls)
    assert cursor.isascii() and decode_pending(cursor) == polls


@given(st.lists(world_poll(), max_size=8), st.lists(server_poll(), max_size=8))
def test_spooled_polls_come_back_as_they_were_taken(tmp_path_factory, worlds, servers):
    spool = PollSpool(tmp_path_factory.mktemp("spool") / "spool.sqlite3")
    if worlds:
        spool.append("worlds", worlds)
    if servers:
        spool.append("server", servers)
    assert [p.record for p in spool.pending("worlds")] == worlds
    assert [p.record for p in spool.pending("server")] == servers


@given(ANY_TEXT)
def test_storable_text_encodes_to_utf8_and_keeps_valid_text(text):
    stored = storable_text(text)
    stored.encode("utf-8")  # never raises
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert stored == text
    else:
        assert "\\u" in stored


def test_a_lone_surrogate_becomes_a_visible_escape():
    assert storable_text("A\ud800B") == "A\\ud800B"
    assert storable_text(None) is None
