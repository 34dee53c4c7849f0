"""Normalisation and validation of training API records (pure, no server needed)."""

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from tai_assets.sources.training_api.normalize import (
    SNAPSHOT_SCHEMA,
    Quarantined,
    normalize_record,
    quarantine_to_frame,
    rows_to_frame,
)
from tai_assets.sources.training_api.timestamps import parse_api_timestamp

WEEK = date(2026, 11, 2)
CRAWL_START = datetime(2026, 11, 9, 0, 0, 5, tzinfo=UTC)


def _record(**changes):
    record = {
        "id": 42,
        "login": "Вася_Pupkin",
        "lastlogin": "2024-06-01 15:30:00",
        "regdate": 1_500_000_000,
        "moder": 0,
        "mute": 0,
        "verify": 1,
        "verifyText": "Проверен",
        "warn": [{"admin": "Admin", "bantime": "2023-01-01 03:00:00", "reason": "dm"}],
        "online": 1,
        "playerid": 17,
        "access": {"panel": True},
        "bonuspoints": 120,
        "premium": 1,
        "premium_expdate": "1970-01-01 03:00:00",
        "chase_rating": 1500,
    }
    record.update(changes)
    return record


def _row(raw) -> dict:
    result = normalize_record(
        raw, page=1, position=0, snapshot_week=WEEK, snapshot_time=CRAWL_START
    )
    assert not isinstance(result, Quarantined), result
    return dict(zip(SNAPSHOT_SCHEMA, result, strict=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01 15:30:00", datetime(2024, 6, 1, 12, 30, tzinfo=UTC)),  # MSK = UTC+3
        ("2010-07-01 12:00:00", datetime(2010, 7, 1, 8, 0, tzinfo=UTC)),  # summer time, UTC+4
        ("2012-01-01 12:00:00", datetime(2012, 1, 1, 8, 0, tzinfo=UTC)),  # 2011-14: UTC+4
        (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),  # epoch = instant
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1970-01-01 03:00:00", None),
        (0, None),
        ("", None),
        ("0", None),
        (None, None),
        ("0000-00-00 00:00:00", None),
    ],
)
def test_timestamps_become_utc_or_null(value, expected):
    assert parse_api_timestamp(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01 00:00:00", True, -5, 10**13, 1.5])
def test_bad_timestamps_raise(value):
    with pytest.raises(ValueError):
        parse_api_timestamp(value)


def test_record_is_normalised():
    row = _row(_record(surprise_field={"a": 1}))
    assert row["snapshot_week"] == WEEK
    assert row["snapshot_time"] == datetime(2026, 11, 9, 0, 0, 5)  # naive UTC
    assert row["lastlogin"] == datetime(2024, 6, 1, 12, 30)
    assert row["regdate"] == datetime(2017, 7, 14, 2, 40)
    assert row["premium_expdate"] is None
    assert row["premium"] is True
    assert row["verify_text"] == "Проверен"
    assert row["playerid"] == 17
    assert row["warn"] == [{"admin": "Admin", "bantime": datetime(2023, 1, 1), "reason": "dm"}]
    assert json.loads(row["extra"]) == {"surprise_field": {"a": 1}}
    assert "access" not in row and "online" not in row


def test_playerid_only_while_online():
    assert _row(_record(online=0, playerid=17))["playerid"] is None
    assert _row(_record(online=False, playerid=3))["playerid"] is None
    assert _row(_record(online=True, playerid=3))["playerid"] == 3


def test_missing_optional_fields_are_null_and_no_extra():
    row = _row({"id": 7, "login": "x", "warn": None})
    assert row["warn"] == [] and row["extra"] is None and row["premium"] is None


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (_record(id="abc"), "id"),
        (_record(id=-1), "id"),
        ({"login": "nobody"}, "id"),
        (_record(login=""), "login"),
        (_record(lastlogin="31.12.2020"), "lastlogin"),
        (_record(warn=[{"bantime": "soon"}]), "warn.0.bantime"),
        (_record(premium="maybe"), "premium"),
        ("not an object", "JSON object"),
    ],
)
def test_invalid_records_are_quarantined_with_reason(raw, fragment):
    result = normalize_record(
        raw, page=3, position=9, snapshot_week=WEEK, snapshot_time=CRAWL_START
    )
    assert isinstance(result, Quarantined)
    assert fragment in result.reason
    assert (result.page, result.position) == (3, 9)
    assert json.loads(result.record) == raw


def test_frames_have_exact_schema():
    rows = [
        normalize_record(
            _record(id=i), page=1, position=i, snapshot_week=WEEK, snapshot_time=CRAWL_START
        )
        for i in (1, 2)
    ]
    frame = rows_to_frame(rows)
    assert frame.schema == pl.Schema(SNAPSHOT_SCHEMA)
    assert rows_to_frame([]).schema == pl.Schema(SNAPSHOT_SCHEMA)
    bad = normalize_record(
        {"id": "x"}, page=1, position=0, snapshot_week=WEEK, snapshot_time=CRAWL_START
    )
    quarantine = quarantine_to_frame([bad], WEEK, CRAWL_START)
    assert quarantine.height == 1 and quarantine["id"][0] is None


def test_fixed_offset_fast_path_agrees_with_the_zone_database():
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    moscow = ZoneInfo("Europe/Moscow")
    for text in ("2014-10-26 02:00:00", "2014-10-26 01:59:59", "2019-03-31 02:30:00"):
        naive = datetime.fromisoformat(text)
        assert parse_api_timestamp(text) == naive.replace(tzinfo=moscow).astimezone(UTC)
    assert parse_api_timestamp("2020-01-01 03:00:00") - parse_api_timestamp(
        "2020-01-01 00:00:00"
    ) == timedelta(hours=3)
