"""The snapshot's quick path gives exactly the row pydantic validation gives, or steps aside.

`plain_row` may decline any record (then `ApiUser` decides), but a row it returns must equal the
row `validated_row` returns, and a record it accepts must be one `ApiUser` accepts. Hypothesis
feeds both records whose every field is drawn from valid and invalid spellings (strings that look
like timestamps and are not, booleans where integers belong, huge integers, extra fields,
warnings with extra fields); and the simulator's records take the quick path nearly always.
"""

import math
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig
from tai_assets.sources.training_api.fast_path import plain_row
from tai_assets.sources.training_api.normalize import (
    Quarantined,
    normalize_record,
    rows_to_frame,
    validated_row,
)

WEEK = date(2026, 11, 9)
SNAPSHOT = datetime(2026, 11, 9, 0, 5, tzinfo=UTC)

ODD_TIMESTAMPS = [
    "", " ", "0", "1700000000", "1970-01-01 03:00:00", "0000-00-00 00:00:00", "0000-00-00",
    "2014-10-26 01:59:59", "2014-10-26 02:00:00", "2011-03-27 02:30:00", "2010-10-31 02:30:00",
    "2026-02-30 10:00:00", "2026-11-08 25:00:00", "2026-11-08T17:02:24", " 2026-11-08 17:02:2",
    "2026-11-08 17:02:24 ", "2026-11-08 17:02:24.5", True, 1.5, 1700000000.0, -1, 5_000_000_000,
    4_102_444_800, 4_102_444_801, 0, None,
]  # fmt: skip
ODD_INTEGERS = [
    None, True, False, "5", 5.0, 2.5, 2**31, 2**31 - 1, -(2**31), -(2**31) - 1, 2**63, -(2**63),
    2**63 - 1, 2**70, [],
]  # fmt: skip
ODD_FLAGS = [None, 2, -1, "true", "0", 1.0, 0.5, True, False, 0, 1]
ODD_TEXTS = [5, True, [], {}, None, "", "Ё\x00\ud800"]
ODD_RATINGS = [True, "5", "x", 2**53, 2**53 + 1, -(2**53) - 1, 10**400, math.nan, math.inf, None]

# A plain value for each field, as the API sends them.
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 1, 1))
timestamps = st.one_of(
    moments.map(lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S")),
    st.integers(min_value=1, max_value=4_102_444_800),
    st.sampled_from([0, "1970-01-01 03:00:00", None]),
)
small = st.integers(min_value=-(2**31), max_value=2**31 - 1)
texts = st.one_of(st.none(), st.text(max_size=8))
flags = st.sampled_from([0, 1, True, False, None])
warn_entries = st.fixed_dictionaries(
    {}, optional={"admin": texts, "bantime": timestamps, "reason": texts}
)
PLAIN = {
    "login": st.text(min_size=1, max_size=12),
    "lastlogin": timestamps,
    "regdate": timestamps,
    "moder": small,
    "mute": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "verify": small,
    "verifyText": texts,
    "warn": st.one_of(st.none(), st.lists(warn_entries, max_size=3)),
    "online": flags,
    "playerid": small,
    "access": st.one_of(st.none(), st.integers(), st.text(max_size=3)),
    "bonuspoints": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "premium": flags,
    "premium_expdate": timestamps,
    "chase_rating": st.one_of(st.floats(allow_nan=False), st.integers(-(2**53), 2**53)),
}
# What may replace it: a spelling the quick path must leave to pydantic (or agree on).
ODD = {
    "id": st.sampled_from([0, -3, True, "7", 7.0, 2**63, None]),
    "login": st.sampled_from(["", None, 5, True]),
    "lastlogin": st.sampled_from(ODD_TIMESTAMPS),
    "regdate": st.sampled_from(ODD_TIMESTAMPS),
    "premium_expdate": st.sampled_from(ODD_TIMESTAMPS),
    "moder": st.sampled_from(ODD_INTEGERS),
    "mute": st.sampled_from(ODD_INTEGERS),
    "verify": st.sampled_from(ODD_INTEGERS),
    "playerid": st.sampled_from(ODD_INTEGERS),
    "bonuspoints": st.sampled_from(ODD_INTEGERS),
    "verifyText": st.sampled_from(ODD_TEXTS),
    "online": st.sampled_from(ODD_FLAGS),
    "premium": st.sampled_from(ODD_FLAGS),
    "chase_rating": st.sampled_from(ODD_RATINGS),
    "warn": st.sampled_from(
        ["", 0, {}, [5], [None], [{"admin": "a", "note": 1}], [{"bantime": "bad"}], [{"admin": 5}]]
    ),
    "verify_text": st.sampled_from(["x", None]),
    "clan": st.sampled_from(["Ёж", None, 5, [1, {"a": 2}], "\ud800"]),
}


@st.composite
def records(draw) -> dict:
    """A plain record (some fields left out), with up to two fields given odd spellings."""
    record = {"id": draw(st.integers(min_value=1, max_value=2**63 - 1))}
    for name, values in PLAIN.items():
        if draw(st.integers(0, 9)):  # a field is missing one time in ten
            record[name] = draw(values)
    for name in draw(st.lists(st.sampled_from(sorted(ODD)), max_size=2, unique=True)):
        record[name] = draw(ODD[name])
    return record


def comparable(row: tuple) -> tuple:
    """`row` with NaN replaced by a marker (NaN never equals itself)."""
    return tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in row)


@settings(
    max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(records())
def test_the_quick_path_agrees_with_validation_or_steps_aside(raw):
    quick = plain_row(raw, WEEK, SNAPSHOT.replace(tzinfo=None))
    reference = validated_row(raw, page=1, position=0, snapshot_week=WEEK, snapshot_time=SNAPSHOT)
    if quick is None:
        return
    assert not isinstance(reference, Quarantined), (raw, reference)
    assert comparable(quick) == comparable(reference), raw


def test_the_simulators_records_take_the_quick_path_and_give_the_same_frame():
    clock = ManualClock(datetime(2026, 11, 9, tzinfo=UTC))
    sim = Simulator(SimulatorConfig(seed=1, accounts=3000, per_page=100), clock=clock)
    raws = [raw for page in range(1, 31) for raw in sim.accounts.page(page, clock.now())["data"]]
    quick = [plain_row(raw, WEEK, SNAPSHOT.replace(tzinfo=None)) for raw in raws]
    assert sum(row is not None for row in quick) >= 0.95 * len(raws)
    both = [
        (
            normalize_record(raw, page=1, position=0, snapshot_week=WEEK, snapshot_time=SNAPSHOT),
            validated_row(raw, page=1, position=0, snapshot_week=WEEK, snapshot_time=SNAPSHOT),
        )
        for raw in raws
    ]
    rows = [(mine, theirs) for mine, theirs in both if not isinstance(theirs, Quarantined)]
    assert [mine for mine, _ in both if isinstance(mine, Quarantined)] == [
        theirs for _, theirs in both if isinstance(theirs, Quarantined)
    ]
    assert any(row[10] for row, _ in rows)  # some accounts have warnings
    mine = rows_to_frame([row for row, _ in rows])
    theirs = rows_to_frame([row for _, row in rows])
    assert mine.equals(theirs) and mine.height == len(rows)
