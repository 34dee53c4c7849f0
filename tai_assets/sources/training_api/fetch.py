"""Fetching one page of the training API politely: paced, retried, and bounded.

- at most one request per ``min_interval_s`` (retries included);
- network errors, 5xx and unreadable bodies: exponential backoff;
- 429: wait what ``Retry-After`` says (seconds or an HTTP date), backoff if it says nothing;
- any other 4xx, or ``max_attempts`` used up: `PageFetchError` naming the page.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import ValidationError

from tai_assets.common.clock import utc_now
from tai_assets.sources.training_api.models import UserPage, describe_validation_error


@dataclass(frozen=True)
class CrawlSettings:
    """Politeness and retry settings of a crawl (see `TrainingApiResource` for the env vars)."""

    min_interval_s: float = 0.8
    max_attempts: int = 8
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 120.0
    retry_after_max_s: float = 900.0
    timeout_s: float = 30.0
    progress_interval_s: float = 30.0
    max_pages: int | None = None
    user_agent: str = "tai (weekly players snapshot)"


class PageFetchError(RuntimeError):
    """A page could not be fetched within the allowed attempts (the message names the page)."""

    def __init__(self, page: int, message: str) -> None:
        super().__init__(f"page {page}: {message}")
        self.page = page


@dataclass
class FetchStats:
    """Counters of one run's requests, for metadata."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    network_errors: int = 0
    bad_bodies: int = 0
    waited_s: float = 0.0


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Return the wait a ``Retry-After`` header asks for, in seconds (never negative).

    The header is either delta-seconds or an HTTP date; None when absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or utc_now())).total_seconds())


def backoff_seconds(attempt: int, settings: CrawlSettings) -> float:
    """Return the wait before retry number `attempt` (1-based): doubling, capped, 10 % jitter."""
    base = min(settings.backoff_max_s, settings.backoff_initial_s * 2 ** (attempt - 1))
    return base * (1.0 + 0.1 * random.random())


@dataclass
class Pacer:
    """Keeps request starts at least `interval_s` apart (monotonic clock)."""

    interval_s: float
    sleep: Callable[[float], None] = time.sleep
    _last_start: float | None = field(default=None, repr=False)

    def wait(self) -> float:
        """Sleep until the next request may start; return how long it slept."""
        slept = 0.0
        if self._last_start is not None:
            slept = max(0.0, self._last_start + self.interval_s - time.monotonic())
            if slept > 0:
                self.sleep(slept)
        self._last_start = time.monotonic()
        return slept


@dataclass(frozen=True)
class FetchedPage:
    """A page as fetched: the raw body (staged as is) and its validated envelope."""

    number: int
    body: bytes
    page: UserPage


class TrainingApiClient:
    """A paced, retrying client for ``GET {base_url}/user?page=N``; use it as a context manager."""

    def __init__(
        self,
        base_url: str,
        settings: CrawlSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.stats = FetchStats()
        self._sleep = sleep
        self._on_retry = on_retry
        self._pacer = Pacer(settings.min_interval_s, sleep)
        self._http = httpx.Client(
            timeout=settings.timeout_s,
            headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
            follow_redirects=True,
        )

    def __enter__(self) -> TrainingApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying HTTP connection pool."""
        self._http.close()

    def _wait(self, seconds: float) -> None:
        self.stats.waited_s += seconds
        self._sleep(seconds)

    def fetch(self, number: int) -> FetchedPage:
        """Return page `number`, retrying as the module docstring says.

        Raises `PageFetchError` (naming the page, the attempts and the last problem) when the
        attempts run out or the API answers with a 4xx other than 429.
        """
        url = f"{self.base_url}/user"
        problem = "no attempt made"
        for attempt in range(1, self.settings.max_attempts + 1):
            if attempt > 1:
                self.stats.retries += 1
            self.stats.waited_s += self._pacer.wait()
            self.stats.requests += 1
            try:
                response = self._http.get(url, params={"page": number})
            except httpx.TransportError as error:
                self.stats.network_errors += 1
                problem = f"network error {type(error).__name__}: {error}"
                delay = backoff_seconds(attempt, self.settings)
            else:
                status = response.status_code
                if status == 200:
                    try:
                        page = UserPage.model_validate(json.loads(response.content))
                    except (ValueError, ValidationError) as error:
                        self.stats.bad_bodies += 1
                        reason = (
                            describe_validation_error(error)
                            if isinstance(error, ValidationError)
                            else str(error)
                        )
                        problem = f"unreadable page body ({reason})"
                        delay = backoff_seconds(attempt, self.settings)
                    else:
                        return FetchedPage(number, response.content, page)
                elif status == 429:
                    self.stats.rate_limited += 1
                    asked = retry_after_seconds(response.headers.get("Retry-After"))
                    problem = f"HTTP 429 (Retry-After: {response.headers.get('Retry-After')})"
                    delay = (
                        backoff_seconds(attempt, self.settings)
                        if asked is None
                        else min(asked, self.settings.retry_after_max_s)
                    )
                elif status >= 500:
                    self.stats.server_errors += 1
                    problem = f"HTTP {status}"
                    delay = backoff_seconds(attempt, self.settings)
                else:
                    raise PageFetchError(
                        number, f"HTTP {status} from {response.request.url}; not retried"
                    )
            if attempt < self.settings.max_attempts:
                if self._on_retry is not None:
                    self._on_retry(
                        f"page {number}: {problem}; retrying in {delay:.1f} s "
                        f"(attempt {attempt + 1}/{self.settings.max_attempts})"
                    )
                self._wait(delay)
        raise PageFetchError(
            number, f"gave up after {self.settings.max_attempts} attempts; last: {problem}"
        )
