"""Report periods (day, week Monday–Sunday, month, year) in the report timezone.

Stored timestamps are naive UTC; people read reports in their own time (``TAI_REPORT_TIMEZONE``,
default ``Europe/Moscow``). A :class:`Period` is a half-open interval of local calendar time that
knows its UTC bounds, so SQL can filter stored timestamps with plain ``?`` parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["day", "week", "month", "year"]
DEFAULT_REPORT_TIMEZONE = "Europe/Moscow"


def period_start_date(kind: PeriodKind, day: date) -> date:
    """Return the first local date of the period of ``kind`` that contains local date ``day``."""
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown period kind {kind!r}")


def _next_start(kind: PeriodKind, start: date) -> date:
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "week":
        return start + timedelta(days=7)
    if kind == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


@dataclass(frozen=True)
class Period:
    """A report period: ``kind`` starting on local date ``start`` in timezone ``tz``.

    ``start`` must be the first day of its period (a Monday for weeks, the 1st for months,
    1 January for years); use :meth:`containing` to get the period around any instant.
    """

    kind: PeriodKind
    start: date
    tz: str = DEFAULT_REPORT_TIMEZONE

    def __post_init__(self) -> None:
        if period_start_date(self.kind, self.start) != self.start:
            raise ValueError(f"{self.start} is not the first day of a {self.kind}")
        ZoneInfo(self.tz)

    @classmethod
    def containing(
        cls, kind: PeriodKind, instant: datetime, tz: str = DEFAULT_REPORT_TIMEZONE
    ) -> Period:
        """Return the period of ``kind`` that contains the aware ``instant`` in timezone ``tz``."""
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        local_day = instant.astimezone(ZoneInfo(tz)).date()
        return cls(kind, period_start_date(kind, local_day), tz)

    @classmethod
    def from_partition_key(
        cls, kind: PeriodKind, key: str, tz: str = DEFAULT_REPORT_TIMEZONE
    ) -> Period:
        """Parse a partition key (``2026-01-05``, ``2026-01`` or ``2026``) into a period."""
        parts = [int(p) for p in key.split("-")]
        while len(parts) < 3:
            parts.append(1)
        return cls(kind, date(parts[0], parts[1], parts[2]), tz)

    @property
    def end(self) -> date:
        """First local date after the period (exclusive end)."""
        return _next_start(self.kind, self.start)

    @property
    def last_day(self) -> date:
        """Last local date inside the period (inclusive)."""
        return self.end - timedelta(days=1)

    @property
    def start_local(self) -> datetime:
        """Aware local datetime of the period's first instant."""
        return datetime.combine(self.start, datetime.min.time(), ZoneInfo(self.tz))

    @property
    def end_local(self) -> datetime:
        """Aware local datetime of the first instant after the period."""
        return datetime.combine(self.end, datetime.min.time(), ZoneInfo(self.tz))

    @property
    def start_utc(self) -> datetime:
        """Naive UTC datetime of the first instant (for SQL parameters and stored columns)."""
        return self.start_local.astimezone(UTC).replace(tzinfo=None)

    @property
    def end_utc(self) -> datetime:
        """Naive UTC datetime of the first instant after the period (exclusive)."""
        return self.end_local.astimezone(UTC).replace(tzinfo=None)

    @property
    def hours(self) -> float:
        """Length of the period in hours (23/25 around DST changes in zones that have them)."""
        return (
            self.end_local.astimezone(UTC) - self.start_local.astimezone(UTC)
        ).total_seconds() / 3600

    def contains_utc(self, naive_utc: datetime) -> bool:
        """Return whether a stored (naive UTC) timestamp falls inside the period."""
        return self.start_utc <= naive_utc < self.end_utc

    def is_complete(self, now: datetime) -> bool:
        """Return whether the period has ended at the aware instant ``now``."""
        return now >= self.end_local

    def days(self) -> list[date]:
        """Return the local dates of the period in order."""
        n = (self.end - self.start).days
        return [self.start + timedelta(days=i) for i in range(n)]

    @property
    def partition_key(self) -> str:
        """The Dagster partition key of this period (``%Y-%m-%d``; ``%Y`` for years)."""
        if self.kind == "year":
            return self.start.strftime("%Y")
        return self.start.isoformat()


def last_complete_period(kind: PeriodKind, now: datetime, tz: str | None = None) -> Period:
    """Return the most recent period of ``kind`` that has fully ended at the aware ``now``."""
    current = Period.containing(kind, now, tz)
    previous_day = current.start - timedelta(days=1)
    return Period(kind, period_start_date(kind, previous_day), current.tz)


def to_local(naive_utc: datetime, tz: str) -> datetime:
    """Convert a stored naive-UTC timestamp to an aware datetime in ``tz``."""
    return naive_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
