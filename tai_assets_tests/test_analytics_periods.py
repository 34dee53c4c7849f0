"""Report periods in Moscow time: first and last instants of weeks, months and years."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tai_assets.analytics.periods import Period, last_complete_period, period_start_date

MSK = "Europe/Moscow"
TICK = timedelta(microseconds=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "first_instant_utc", "start", "previous_start"),
    [
        ("day", utc(2026, 1, 4, 21), date(2026, 1, 5), date(2026, 1, 4)),
        ("week", utc(2026, 1, 4, 21), date(2026, 1, 5), date(2025, 12, 29)),
        ("month", utc(2026, 1, 31, 21), date(2026, 2, 1), date(2026, 1, 1)),
        ("year", utc(2025, 12, 31, 21), date(2026, 1, 1), date(2025, 1, 1)),
    ],
)
def test_first_and_last_instant_in_moscow(kind, first_instant_utc, start, previous_start):
    period = Period.containing(kind, first_instant_utc, MSK)
    assert period.start == start
    assert period.start_utc == first_instant_utc.replace(tzinfo=None)
    before = Period.containing(kind, first_instant_utc - TICK, MSK)
    assert before.start == previous_start
    assert before.end == start
    assert before.end_utc == period.start_utc
    assert before.contains_utc((first_instant_utc - TICK).replace(tzinfo=None))
    assert not before.contains_utc(first_instant_utc.replace(tzinfo=None))
    assert period.contains_utc(first_instant_utc.replace(tzinfo=None))


def test_weeks_run_monday_to_sunday():
    sunday_late = utc(2026, 1, 11, 20, 59, 59)  # 23:59:59 MSK on Sunday 11 January
    week = Period.containing("week", sunday_late, MSK)
    assert week.start == date(2026, 1, 5)
    assert week.start.weekday() == 0
    assert week.last_day == date(2026, 1, 11)
    assert len(week.days()) == 7


def test_partition_keys_round_trip():
    for kind, key in (
        ("day", "2026-01-05"),
        ("week", "2026-01-05"),
        ("month", "2026-02-01"),
        ("year", "2026"),
    ):
        period = Period.from_partition_key(kind, key, MSK)
        assert period.partition_key == key
    assert Period.from_partition_key("month", "2026-02", MSK).start == date(2026, 2, 1)


def test_period_must_start_on_its_first_day():
    with pytest.raises(ValueError):
        Period("week", date(2026, 1, 6), MSK)
    with pytest.raises(ValueError):
        Period("month", date(2026, 1, 2), MSK)
    assert period_start_date("month", date(2026, 12, 31)) == date(2026, 12, 1)


def test_last_complete_period():
    now = utc(2026, 1, 1, 0, 5)  # 03:05 MSK on 1 January: 2025 has ended
    assert last_complete_period("year", now, MSK).start == date(2025, 1, 1)
    assert last_complete_period("month", now, MSK).start == date(2025, 12, 1)
    assert last_complete_period("day", now, MSK).start == date(2025, 12, 31)
    assert last_complete_period("week", now, MSK).start == date(2025, 12, 22)
    just_before = utc(2025, 12, 31, 20, 59)  # 23:59 MSK on 31 December
    assert last_complete_period("year", just_before, MSK).start == date(2024, 1, 1)
    assert Period("day", date(2025, 12, 31), MSK).is_complete(utc(2025, 12, 31, 21))
    assert not Period("day", date(2025, 12, 31), MSK).is_complete(utc(2025, 12, 31, 20, 59))


def test_month_lengths_and_year_end():
    assert Period("month", date(2024, 2, 1), MSK).end == date(2024, 3, 1)
    assert Period("month", date(2025, 12, 1), MSK).end == date(2026, 1, 1)
    assert Period("year", date(2025, 1, 1), MSK).hours == 365 * 24


def test_other_timezone():
    period = Period.containing("day", utc(2026, 7, 1, 3), "America/New_York")
    assert period.start == date(2026, 6, 30)
    assert period.start_utc == datetime(2026, 6, 30, 4)
