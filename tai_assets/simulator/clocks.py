"""Simulated clocks: a manual one for tests and an accelerated one for demos."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ManualClock:
    """A clock that only moves when told to: ``now()``, ``advance(seconds)``, ``set(when)``.

    Lets a test step through a simulated day poll by poll, deterministically.
    """

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the current simulated instant (aware UTC)."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (never backwards) and return the new instant."""
        if seconds < 0:
            raise ValueError("a ManualClock never goes backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (not earlier than now) and return it."""
        when = _aware(when)
        with self._lock:
            if when < self._now:
                raise ValueError("a ManualClock never goes backwards")
            self._now = when
            return self._now

    def __call__(self) -> datetime:
        return self.now()


class AcceleratedClock:
    """Simulated time running ``speed`` times faster than real time from ``start``.

    ``now() = start + real seconds elapsed since construction * speed``; covers days of
    activity in minutes for demos and soak tests.
    """

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = _aware(start) if start is not None else datetime.now(UTC)
        self.speed = float(speed)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        """Return the current simulated instant (aware UTC)."""
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def __call__(self) -> datetime:
        return self.now()
