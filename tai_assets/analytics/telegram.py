"""Optional delivery of digests to a Telegram channel through the Bot API (httpx).

Delivery never decides whether a digest exists: the digest is stored first-class in the
warehouse, and this module only reports what happened (sent, failed after retries, disabled).
The bot token is a secret: it is part of every Bot API URL, so every text this module returns or
logs is redacted, and httpx's own request log lines are redacted while a send is running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import httpx

DEFAULT_API_BASE_URL = "https://api.telegram.org"
MAX_MESSAGE_CHARS = 4096
_REDACTED = "<redacted>"


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one digest's delivery. ``error`` never contains the token."""

    status: Literal["sent", "failed", "disabled"]
    attempts: int = 0
    message_id: int | None = None
    error: str | None = None


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Return ``text`` with every non-empty secret replaced by ``<redacted>``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


class _RedactFilter(logging.Filter):
    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message, self._secrets)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@contextmanager
def _redacted_http_logs(secrets: tuple[str, ...]) -> Iterator[None]:
    """Redact secrets from httpx/httpcore log records while the block runs."""
    flt = _RedactFilter(secrets)
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    for lg in loggers:
        lg.addFilter(flt)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(flt)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        value = response.json().get("parameters", {}).get("retry_after")
    except (ValueError, AttributeError):
        value = None
    if value is None:
        value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _description(response: httpx.Response) -> str:
    try:
        return str(response.json().get("description") or "")
    except (ValueError, AttributeError):
        return ""


def send_message(
    token: str,
    chat_id: str,
    text: str,
    *,
    api_base_url: str = DEFAULT_API_BASE_URL,
    attempts: int = 4,
    backoff_seconds: float = 2.0,
    max_wait_seconds: float = 60.0,
    timeout_seconds: float = 10.0,
    parse_mode: str | None = "HTML",
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Send ``text`` to ``chat_id``; return a :class:`DeliveryResult`, never raise.

    Network errors, 5xx and 429 are retried up to ``attempts`` times with exponential backoff
    (429 waits the ``retry_after`` Telegram asks for, capped at ``max_wait_seconds``). Other
    4xx answers (bad token, unknown chat) fail at once. Texts longer than Telegram's 4096
    characters are cut with an ellipsis.
    """
    secrets = (token,)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    url = f"{api_base_url.rstrip('/')}/bot{token}/sendMessage"
    payload: dict[str, object] = {"chat_id": chat_id, "text": text}
    if parse_mode:
        payload["parse_mode"] = parse_mode
    last_error = "not attempted"
    tried = 0
    with _redacted_http_logs(secrets), httpx.Client(timeout=timeout_seconds) as client:
        for attempt in range(1, max(1, attempts) + 1):
            tried = attempt
            wait = backoff_seconds * 2 ** (attempt - 1)
            try:
                response = client.post(url, json=payload)
            except httpx.HTTPError as error:
                last_error = f"network error: {type(error).__name__}: {error}"
            else:
                if response.status_code == 200:
                    try:
                        message_id = response.json()["result"]["message_id"]
                    except (ValueError, KeyError, TypeError):
                        message_id = None
                    return DeliveryResult("sent", attempt, message_id)
                detail = _description(response)
                last_error = f"HTTP {response.status_code}" + (f": {detail}" if detail else "")
                if response.status_code == 429:
                    wait = _retry_after(response) or wait
                elif response.status_code < 500:
                    break
            if attempt < attempts:
                sleep(min(wait, max_wait_seconds))
    return DeliveryResult("failed", tried, None, redact(last_error, secrets))
