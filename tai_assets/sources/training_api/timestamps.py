"""Timestamps as the training API sends them, turned into aware UTC instants.

The API mixes two spellings: strings ``YYYY-MM-DD HH:MM:SS`` in Moscow wall-clock time, and Unix
epoch integers (true instants). "Never" is spelled ``1970-01-01 03:00:00`` (the epoch in Moscow
time), ``0``, an empty string, or MySQL's zero date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")
# Since this instant (local time) Moscow is UTC+3 all year: later strings skip the zone lookup.
FIXED_OFFSET_SINCE = "2014-10-26 02:00:00"
MSK_OFFSET = timedelta(hours=3)
NEVER_STRINGS = frozenset({"1970-01-01 03:00:00", "0000-00-00 00:00:00", "0000-00-00"})
# Beyond 2100 an epoch value is a unit mistake (milliseconds), not an instant: reject it.
MAX_EPOCH = 4_102_444_800


def _from_epoch(seconds: int) -> datetime | None:
    if seconds == 0:
        return None
    if seconds < 0 or seconds > MAX_EPOCH:
        raise ValueError(f"epoch {seconds} is outside 1970..2100")
    return datetime.fromtimestamp(seconds, UTC)


def parse_api_timestamp(value: object) -> datetime | None:
    """Return the instant `value` denotes as an aware UTC datetime, or None for "never".

    Accepts Moscow-time strings ``YYYY-MM-DD HH:MM:SS`` (DST-era dates use the historical
    offset), epoch integers (also as digit strings), and the "never" spellings. Raises
    `ValueError` for anything else, so that the record holding it is quarantined.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"a timestamp cannot be a boolean ({value!r})")
    if isinstance(value, int):
        return _from_epoch(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"epoch {value!r} is not a whole number of seconds")
        return _from_epoch(int(value))
    if not isinstance(value, str):
        raise ValueError(f"a timestamp must be a string or an integer, got {type(value).__name__}")
    text = value.strip()
    if not text or text in NEVER_STRINGS:
        return None
    if text.isdigit():
        return _from_epoch(int(text))
    if len(text) != 19 or text[4] != "-" or text[10] != " ":
        raise ValueError(f"timestamp {value!r} is not 'YYYY-MM-DD HH:MM:SS' nor an epoch")
    try:
        naive = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"timestamp {value!r} is not a valid date and time") from error
    if text >= FIXED_OFFSET_SINCE:
        return (naive - MSK_OFFSET).replace(tzinfo=UTC)
    instant = naive.replace(tzinfo=MOSCOW).astimezone(UTC)
    return None if instant.timestamp() == 0 else instant


def to_naive_utc(instant: datetime | None) -> datetime | None:
    """Return an aware instant as naive UTC (the warehouse's TIMESTAMP convention), None kept."""
    if instant is None:
        return None
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    return instant.replace(tzinfo=None)
