"""Telegram delivery against a loopback Bot API: retries, failures, and the token kept secret."""

import logging

from tai_assets.analytics.telegram import redact, send_message
from tai_assets_tests.support.fake_bot_api import fake_bot_api

TOKEN = "123456:SECRET-token-value"


def _send(api, **kwargs):
    return send_message(
        TOKEN, "@channel", "<b>hi</b>", api_base_url=api.base_url, backoff_seconds=0.01, **kwargs
    )


def test_sent_first_time():
    with fake_bot_api(TOKEN) as api:
        result = _send(api)
    assert result.status == "sent" and result.attempts == 1 and result.message_id == 1
    assert api.requests[0]["body"] == {
        "chat_id": "@channel",
        "text": "<b>hi</b>",
        "parse_mode": "HTML",
    }


def test_retries_5xx_and_429_then_sends():
    with fake_bot_api(TOKEN, [500, 429, 502]) as api:
        result = _send(api)
    assert result.status == "sent" and result.attempts == 4


def test_gives_up_and_reports_without_the_token(caplog):
    caplog.set_level(logging.DEBUG)
    with fake_bot_api(TOKEN, [500] * 10) as api:
        result = _send(api, attempts=3)
    assert result.status == "failed" and result.attempts == 3
    assert "HTTP 500" in (result.error or "")
    assert TOKEN not in (result.error or "")
    assert TOKEN not in caplog.text
    assert len(api.requests) == 3


def test_bad_token_fails_at_once():
    with fake_bot_api("other:token") as api:
        result = _send(api, attempts=5)
    assert result.status == "failed" and result.attempts == 1
    assert "401" in (result.error or "")


def test_network_error_is_reported_redacted():
    result = send_message(
        TOKEN, "@c", "x", api_base_url="http://127.0.0.1:9", attempts=2, backoff_seconds=0.01
    )
    assert result.status == "failed" and result.attempts == 2
    assert result.error and "network error" in result.error and TOKEN not in result.error


def test_long_text_is_cut():
    with fake_bot_api(TOKEN) as api:
        _send_long = send_message(TOKEN, "@c", "x" * 5000, api_base_url=api.base_url)
    assert _send_long.status == "sent"
    assert len(api.requests[0]["body"]["text"]) == 4096


def test_redact():
    assert redact(f"url/bot{TOKEN}/x", (TOKEN, "")) == "url/bot<redacted>/x"
