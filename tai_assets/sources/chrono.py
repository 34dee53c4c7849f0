"""The chrono web API: `GET {base}/worlds`, validated with pydantic, never raising."""

import functools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

_COLOUR_CODE = re.compile(r"\{[0-9A-Fa-f]{6}\}")


def clean_world_name(raw_name: str) -> str:
    """Return a world's name without `{RRGGBB}` colour codes and surrounding blanks."""
    return _COLOUR_CODE.sub("", raw_name).strip()


class World(BaseModel):
    """One world as the API lists it; fields the API adds later are kept in `model_extra`."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    players: int = Field(ge=0)
    static: bool
    ssmp: bool


@dataclass(frozen=True)
class WorldEntry:
    """A world of one poll, valid or not (an invalid one carries its reason in `error`)."""

    raw_name: str | None
    name: str | None
    players: int | None
    static: bool | None
    ssmp: bool | None
    extra: str | None
    error: str | None = None

    @property
    def valid(self) -> bool:
        """True when the record passed validation."""
        return self.error is None


@dataclass(frozen=True)
class WorldPollResult:
    """What one poll of `/worlds` gave: `ok` with its worlds, or why not: `auth_failed` (the
    API refused CHRONO_LOGIN / CHRONO_TOKEN: 401 or 403, or a header cannot carry them),
    `rate_limited` (429; Retry-After in `retry_after_seconds` when the API sent one) or
    `unreachable` (anything else)."""

    status: Literal["ok", "auth_failed", "rate_limited", "unreachable"]
    worlds: list[WorldEntry] = field(default_factory=list)
    error: str | None = None
    latency_ms: float | None = None
    retry_after_seconds: float | None = None


MAX_RETRY_AFTER_SECONDS = 86400.0


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Return how many seconds a Retry-After header asks to wait (delta-seconds or an HTTP
    date), at most a day, or None when there is none or it does not parse.

    The cap keeps an absurd header from stopping polling for good (or overflowing a date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, wait), MAX_RETRY_AFTER_SECONDS)


def _validation_reason(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors()
    )


def parse_world(record: Any) -> WorldEntry:
    """Validate one world record; an invalid one becomes an entry with the reason, not an error."""
    try:
        world = World.model_validate(record)
    except ValidationError as error:
        raw_name = record.get("name") if isinstance(record, dict) else None
        raw_name = raw_name if isinstance(raw_name, str) else None
        return WorldEntry(
            raw_name=raw_name,
            name=clean_world_name(raw_name) if raw_name else None,
            players=None,
            static=None,
            ssmp=None,
            extra=json.dumps(record, ensure_ascii=False, default=str),
            error=_validation_reason(error),
        )
    extra = world.model_extra or {}
    return WorldEntry(
        raw_name=world.name,
        name=clean_world_name(world.name),
        players=world.players,
        static=world.static,
        ssmp=world.ssmp,
        extra=json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None,
    )


def parse_worlds_document(document: Any) -> list[WorldEntry]:
    """Return the entries of a `/worlds` answer; raise ValueError if it is not that shape."""
    if not isinstance(document, dict) or not isinstance(document.get("worlds"), list):
        raise ValueError("answer has no 'worlds' list")
    return [parse_world(record) for record in document["worlds"]]


@functools.cache
def shared_client() -> httpx.Client:
    """Return the process's HTTP client for polling.

    A poll a minute with a fresh client would load the CA bundle and build a TLS context each
    time (tens of ms of CPU); one client does that once. Idle connections are dropped after
    30 s, so a poll never reuses a connection the server may already have closed.
    """
    return httpx.Client(limits=httpx.Limits(keepalive_expiry=30))


def fetch_worlds(
    base_url: str, login: str, token: str, *, timeout_s: float = 8.0
) -> WorldPollResult:
    """Poll `GET {base_url}/worlds` once; a failure comes back as a status, never raised.

    The token travels only in the `X-Token` header: no message built here contains it.
    """
    started = time.monotonic()
    url = base_url.rstrip("/") + "/worlds"
    try:
        # httpx would raise a UnicodeEncodeError whose message quotes a character of the token.
        headers = {"X-Login": login.encode("ascii"), "X-Token": token.encode("ascii")}
    except UnicodeEncodeError:
        reason = "CHRONO_LOGIN or CHRONO_TOKEN has a non-ASCII character: no HTTP header carries it"
        return WorldPollResult("auth_failed", error=reason)
    try:
        response = shared_client().get(url, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as error:
        return WorldPollResult("unreachable", error=f"{type(error).__name__} for GET {url}")
    latency_ms = (time.monotonic() - started) * 1000
    if response.status_code in (401, 403):
        reason = f"HTTP {response.status_code}: the API refused CHRONO_LOGIN / CHRONO_TOKEN"
        return WorldPollResult("auth_failed", error=reason, latency_ms=latency_ms)
    if response.status_code == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        reason = "HTTP 429 Too Many Requests" + (f" (Retry-After {wait:.0f} s)" if wait else "")
        return WorldPollResult(
            "rate_limited", error=reason, latency_ms=latency_ms, retry_after_seconds=wait
        )
    if response.status_code != 200:
        reason = f"HTTP {response.status_code} from GET {url}"
        return WorldPollResult("unreachable", error=reason, latency_ms=latency_ms)
    try:
        worlds = parse_worlds_document(response.json())
    except ValueError as error:
        reason = f"malformed answer: {error}"
        return WorldPollResult("unreachable", error=reason, latency_ms=latency_ms)
    return WorldPollResult("ok", worlds=worlds, latency_ms=latency_ms)
