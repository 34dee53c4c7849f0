"""Poll records: the compact run-config forms give back exactly the polls the sensor took."""

from hypothesis import given
from hypothesis import strategies as st

from tai_assets.polling.chrono import clean_world_name
from tai_assets.polling.records import (
    decode_pending,
    encode_pending,
    expand_server_batch,
    expand_world_batch,
    server_batch,
    world_batch,
)

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


def sorted_names(poll: dict) -> dict:
    """Return the poll with its names sorted, as the sensor records them."""
    if "player_names" not in poll:
        return poll
    return {**poll, "player_names": sorted(poll["player_names"])}


@given(st.lists(server_poll(), max_size=10))
def test_server_batch_round_trips(polls):
    assert expand_server_batch(server_batch(polls)) == [sorted_names(p) for p in polls]


def test_server_batch_keeps_an_empty_listing_apart_from_unknown_names():
    polls = [
        {"polled_at": "2026-11-26T10:00:00+00:00", "status": "ok", "player_names": ["b", "a"]},
        {"polled_at": "2026-11-26T10:01:00+00:00", "status": "ok", "player_names": []},
        {"polled_at": "2026-11-26T10:02:00+00:00", "status": "count_only", "online": 120},
    ]
    batch = server_batch(polls)
    assert batch["names"] == ["a", "b"] and batch["presence"] == ["100", "100"]
    expanded = expand_server_batch(batch)
    assert [p.get("player_names") for p in expanded] == [["a", "b"], [], None]


@given(st.lists(world_poll(), max_size=10))
def test_world_batch_round_trips(polls):
    assert expand_world_batch(world_batch(polls)) == polls


@given(st.lists(server_poll(), max_size=10))
def test_cursor_round_trips(polls):
    assert decode_pending(encode_pending(polls)) == polls


def test_world_batch_stores_each_world_once_and_counts_per_poll():
    worlds = [
        {"raw_name": "{FF0000}Main", "name": "Main", "players": n, "static": True, "ssmp": True}
        for n in (3, 4, 5)
    ]
    polls = [{"polled_at": f"t{i}", "status": "ok", "worlds": [w]} for i, w in enumerate(worlds)]
    batch = world_batch(polls)
    assert batch["worlds"] == [{"raw_name": "{FF0000}Main", "static": True, "ssmp": True}]
    assert [p["players"] for p in batch["polls"]] == [[3], [4], [5]]
