"""The one clock tai stamps its polls and crawls with.

Production code calls :func:`utc_now`. Tests that drive tai against the simulator's simulated
time install another clock with :func:`use_clock`, so that polls are stamped in simulated time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

ClockFn = Callable[[], datetime]


def _system_now() -> datetime:
    return datetime.now(UTC)


_lock = threading.Lock()
_stack: list[ClockFn] = [_system_now]


def utc_now() -> datetime:
    """Return the current instant as an aware UTC datetime, from the installed clock.

    A clock returning a naive datetime is taken to mean UTC; an aware one in another zone is
    converted, so callers always get ``tzinfo=UTC``.
    """
    now = _stack[-1]()
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


@contextmanager
def use_clock(fn: ClockFn) -> Iterator[ClockFn]:
    """Install ``fn`` as the clock for :func:`utc_now` inside the ``with`` block.

    The clock is process-wide (threads started inside the block see it too), because sensors
    and runs under test may run in other threads. Blocks nest; leaving one restores the clock
    that was installed before it.
    """
    with _lock:
        _stack.append(fn)
    try:
        yield fn
    finally:
        with _lock:
            # Remove this block's entry even if blocks were exited out of order.
            for i in range(len(_stack) - 1, 0, -1):
                if _stack[i] is fn:
                    del _stack[i]
                    break


def monday_of(day: date) -> date:
    """Return the Monday of `day`'s week: the key of a weekly (Monday-to-Monday) partition."""
    return day - timedelta(days=day.weekday())
