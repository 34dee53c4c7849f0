"""Fault knobs (settable at runtime, also as JSON) and request statistics of the simulator."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from tai_assets.sources.samp.client import DEFAULT_BUDGET_S

STRAY_KINDS = ("header", "opcode", "source")
# Answers to one client socket within this many seconds of the poll's first answer belong to
# that poll: tai's client gives up on a poll after DEFAULT_BUDGET_S. A longer window merged
# two polls whose sockets the kernel gave the same port (once in 727 polls of an hour with
# four deployments on the machine).
POLL_WINDOW_S = DEFAULT_BUDGET_S
# How many poll instants the statistics keep per source (a day of polls every 5 s).
POLL_TIMES_KEPT = 20_000
WORLDS_PATH = "/api/worlds"


@dataclass
class HttpFault:
    """One queued HTTP failure: a status, optional Retry-After, optional endpoint filter."""

    status: int
    retry_after: str | None = None
    endpoint: str | None = None  # "user", "worlds" or None for any /api request


def _parse_instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Faults:
    """Everything that can go wrong, as plain attributes a test may set at any time.

    UDP: ``packet_loss`` (share of requests silently dropped), ``udp_down`` (no answer at all),
    ``udp_outages`` (simulated-time windows of no answer), ``malformed_rate`` /
    ``truncated_rate`` (share of answers corrupted / cut short), ``stray_rate`` (share of
    answers preceded by a datagram that does not answer the request: wrong header, wrong
    opcode, or the right bytes from another source port), ``udp_delay`` (real seconds);
    loss, corruption and strays hit only the opcodes in ``udp_fault_opcodes`` (e.g. ``"c"``).
    HTTP: ``slow_seconds`` (delay of every /api response), ``malformed_record_rate`` (share of
    account records with a missing field or wrong type), queued failures from
    :meth:`http_429_next` / :meth:`http_5xx_next`, and per-page failures :meth:`fail_page`.
    """

    packet_loss: float = 0.0
    udp_down: bool = False
    udp_outages: list[tuple[datetime, datetime]] = field(default_factory=list)
    malformed_rate: float = 0.0
    truncated_rate: float = 0.0
    stray_rate: float = 0.0
    stray_kinds: tuple[str, ...] = STRAY_KINDS
    udp_delay: float = 0.0
    udp_fault_opcodes: str = "icrp"
    slow_seconds: float = 0.0
    malformed_record_rate: float = 0.0
    _queue: list[HttpFault] = field(default_factory=list, repr=False)
    _pages: dict[int, list[int]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ------------------------------------------------------------------ UDP

    def udp_silent_at(self, now: datetime) -> bool:
        """Return whether the game server gives no answer at simulated instant ``now``."""
        if self.udp_down:
            return True
        now = _parse_instant(now)
        return any(
            _parse_instant(start) <= now < _parse_instant(end)
            for start, end in list(self.udp_outages)
        )

    def add_outage(self, start: datetime, end: datetime) -> None:
        """Make the game server silent during the simulated window [start, end)."""
        self.udp_outages = [*self.udp_outages, (_parse_instant(start), _parse_instant(end))]

    # ------------------------------------------------------------------ HTTP

    def http_429_next(
        self,
        n: int,
        retry_after: float | datetime | str | None = 1,
        *,
        as_http_date: bool = False,
        endpoint: str | None = None,
    ) -> None:
        """Answer the next ``n`` API requests with 429 and a ``Retry-After`` header.

        ``retry_after`` in seconds (sent as an integer, or with ``as_http_date`` as the
        HTTP-date that many real seconds from the response), a ``datetime`` (sent as an
        HTTP-date), a ready string, or ``None`` for no header.
        """
        for _ in range(n):
            self._push(HttpFault(429, _RetryAfter(retry_after, as_http_date), endpoint))

    def http_5xx_next(self, n: int, status: int = 503, *, endpoint: str | None = None) -> None:
        """Answer the next ``n`` API requests with ``status`` (a 5xx)."""
        for _ in range(n):
            self._push(HttpFault(status, None, endpoint))

    def fail_page(self, page: int, times: int = 1, status: int = 500) -> None:
        """Answer the next ``times`` requests for ``/api/user?page=page`` with ``status``."""
        with self._lock:
            self._pages.setdefault(page, []).extend([status] * times)

    def _push(self, fault: HttpFault) -> None:
        with self._lock:
            self._queue.append(fault)

    def take_http_fault(self, endpoint: str, page: int | None) -> tuple[int, str | None] | None:
        """Pop the failure due for this request, if any: ``(status, retry_after_header)``."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.endpoint in (None, endpoint):
                    del self._queue[index]
                    retry = fault.retry_after
                    header = retry.header() if isinstance(retry, _RetryAfter) else retry
                    return fault.status, header
            if endpoint == "user" and page is not None and self._pages.get(page):
                status = self._pages[page].pop(0)
                return status, None
        return None

    def pending_http_faults(self) -> int:
        """Return how many queued HTTP failures (queue + per-page) are still due."""
        with self._lock:
            return len(self._queue) + sum(len(v) for v in self._pages.values())

    # ------------------------------------------------------------------ bulk

    def reset(self) -> None:
        """Switch every fault off and drop queued failures."""
        with self._lock:
            self._queue.clear()
            self._pages.clear()
        self.packet_loss = self.malformed_rate = self.truncated_rate = self.stray_rate = 0.0
        self.udp_delay = self.slow_seconds = self.malformed_record_rate = 0.0
        self.udp_down = False
        self.udp_outages = []
        self.stray_kinds = STRAY_KINDS
        self.udp_fault_opcodes = "icrp"

    def update(self, values: dict[str, Any]) -> None:
        """Apply knob values from JSON (the body of ``POST /_sim/faults``).

        Plain knobs by name; ``udp_outages`` as ``[[start_iso, end_iso], ...]``;
        ``http_429_next`` as ``{"n", "retry_after", "as_http_date", "endpoint"}``;
        ``http_5xx_next`` as ``{"n", "status", "endpoint"}``; ``fail_pages`` as
        ``{"page": times}``; ``reset: true`` first clears everything.
        """
        if values.get("reset"):
            self.reset()
        floats = (
            "packet_loss", "malformed_rate", "truncated_rate", "stray_rate", "udp_delay",
            "slow_seconds", "malformed_record_rate",
        )  # fmt: skip
        for key in floats:
            if key in values:
                setattr(self, key, float(values[key]))
        if "udp_down" in values:
            self.udp_down = bool(values["udp_down"])
        if "udp_fault_opcodes" in values:
            self.udp_fault_opcodes = str(values["udp_fault_opcodes"])
        if "stray_kinds" in values:
            self.stray_kinds = tuple(values["stray_kinds"])
        if "udp_outages" in values:
            self.udp_outages = [
                (_parse_instant(s), _parse_instant(e)) for s, e in values["udp_outages"]
            ]
        if "http_429_next" in values:
            spec = dict(values["http_429_next"])
            self.http_429_next(
                int(spec.get("n", 1)),
                spec.get("retry_after", 1),
                as_http_date=bool(spec.get("as_http_date", False)),
                endpoint=spec.get("endpoint"),
            )
        if "http_5xx_next" in values:
            spec = dict(values["http_5xx_next"])
            self.http_5xx_next(
                int(spec.get("n", 1)), int(spec.get("status", 503)), endpoint=spec.get("endpoint")
            )
        for page, times in dict(values.get("fail_pages", {})).items():
            self.fail_page(int(page), int(times))

    def to_dict(self) -> dict[str, Any]:
        """Return the knob values as JSON-ready data."""
        return {
            "packet_loss": self.packet_loss,
            "udp_down": self.udp_down,
            "udp_outages": [[s.isoformat(), e.isoformat()] for s, e in self.udp_outages],
            "malformed_rate": self.malformed_rate,
            "truncated_rate": self.truncated_rate,
            "stray_rate": self.stray_rate,
            "stray_kinds": list(self.stray_kinds),
            "udp_delay": self.udp_delay,
            "udp_fault_opcodes": self.udp_fault_opcodes,
            "slow_seconds": self.slow_seconds,
            "malformed_record_rate": self.malformed_record_rate,
            "pending_http_faults": self.pending_http_faults(),
        }


class _RetryAfter:
    """A Retry-After value rendered when the response is sent (HTTP-dates are absolute)."""

    def __init__(self, value: float | datetime | str | None, as_http_date: bool) -> None:
        self.value = value
        self.as_http_date = as_http_date

    def header(self) -> str | None:
        """Return the header value to send now (``None``: send no header)."""
        value = self.value
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, datetime):
            return format_datetime(_parse_instant(value).astimezone(UTC), usegmt=True)
        if self.as_http_date:
            # HTTP-dates have whole seconds: round up so the client never waits too little.
            when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=float(value) + 1)
            return format_datetime(when, usegmt=True)
        return str(max(0, math.ceil(float(value))))


@dataclass
class Stats:
    """Counters a test can assert on (all thread-safe through ``record_*``).

    ``page_requests[page]``: every request for that ``/api/user`` page, failures included;
    ``page_served[page]``: requests answered 200 with data; ``http_requests[path]``;
    ``http_status[status]``; ``udp_requests[opcode]`` (e.g. ``"i"``); ``udp_answers[opcode]``;
    ``udp_polls[opcode]``: answers to a client socket that got no answer of that opcode in the
    ``POLL_WINDOW_S`` seconds since its poll's first one, i.e. polls rather than datagrams (a
    poll that re-asks ``i`` after the player list, or retries, counts once); ``poll_times[key]``:
    the wall-clock instants (epoch seconds) of the newest polls, ``"i"`` for the server's and
    ``"/api/worlds"`` for the worlds API's, so that a test can tell which poll went missing.
    """

    page_requests: Counter = field(default_factory=Counter)
    page_served: Counter = field(default_factory=Counter)
    http_requests: Counter = field(default_factory=Counter)
    http_status: Counter = field(default_factory=Counter)
    udp_requests: Counter = field(default_factory=Counter)
    udp_answers: Counter = field(default_factory=Counter)
    udp_polls: Counter = field(default_factory=Counter)
    poll_times: dict[str, deque] = field(default_factory=dict)
    _poll_began: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, counter: str, key: Any) -> None:
        """Increment ``self.<counter>[key]``."""
        with self._lock:
            getattr(self, counter)[key] += 1

    def record_http_request(self, path: str) -> None:
        """Count a request for `path`, and a poll when it is the worlds API's."""
        with self._lock:
            self.http_requests[path] += 1
            if path == WORLDS_PATH:
                self._note_poll(path)

    def _note_poll(self, key: str) -> None:
        times = self.poll_times.setdefault(key, deque(maxlen=POLL_TIMES_KEPT))
        times.append(time.time())

    def record_udp_answer(self, opcode: str, client: tuple[str, int]) -> None:
        """Count an answer of `opcode` to `client`, and a poll when it is the socket's first
        answer of that opcode within ``POLL_WINDOW_S`` of the poll's first answer."""
        now = time.monotonic()
        with self._lock:
            self.udp_answers[opcode] += 1
            poll_began = self._poll_began.get((opcode, client))
            if poll_began is None or now - poll_began > POLL_WINDOW_S:
                self.udp_polls[opcode] += 1
                self._poll_began[(opcode, client)] = now
                self._note_poll(opcode)
            if len(self._poll_began) > 10_000:  # forget sockets long closed
                cutoff = now - POLL_WINDOW_S
                self._poll_began = {k: t for k, t in self._poll_began.items() if t > cutoff}

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            for name in (
                "page_requests", "page_served", "http_requests", "http_status",
                "udp_requests", "udp_answers", "udp_polls", "poll_times", "_poll_began",
            ):  # fmt: skip
                getattr(self, name).clear()

    def to_dict(self) -> dict[str, Any]:
        """Return the counters as JSON-ready data."""
        with self._lock:
            return {
                "page_requests": {str(k): v for k, v in sorted(self.page_requests.items())},
                "page_served": {str(k): v for k, v in sorted(self.page_served.items())},
                "http_requests": dict(self.http_requests),
                "http_status": {str(k): v for k, v in self.http_status.items()},
                "udp_requests": dict(self.udp_requests),
                "udp_answers": dict(self.udp_answers),
                "udp_polls": dict(self.udp_polls),
                "poll_times": {key: list(times) for key, times in self.poll_times.items()},
            }
