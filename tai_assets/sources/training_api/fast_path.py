"""The snapshot row of an ordinary API record, without pydantic.

A million records a week go through `normalize_record`; nearly all of them are plain (integers
where integers belong, Moscow-time or epoch timestamps, no warnings). `plain_row` turns such a
record into exactly the row that validating it with `ApiUser` would give, in a few
microseconds, and returns None for anything else: a record it is not sure about goes the
pydantic way, which decides (and words the quarantine reason). The property test in
`tai_assets_tests/test_snapshot_fast_path.py` holds the two to the same answers.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from tai_assets.sources.training_api.timestamps import (
    FIXED_OFFSET_SINCE,
    MAX_EPOCH,
    MSK_OFFSET,
    NEVER_STRINGS,
)

EPOCH = datetime(1970, 1, 1)
# Every field ApiUser knows by its API name; any other key is kept in `extra`.
KNOWN_FIELDS = frozenset(
    {
        "id", "login", "lastlogin", "regdate", "moder", "mute", "verify", "verifyText", "warn",
        "online", "playerid", "access", "bonuspoints", "premium", "premium_expdate",
        "chase_rating",
    }
)  # fmt: skip
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
FLOAT_EXACT = 2**53


def record_json(value: Any) -> str:
    """Return `value` as JSON text with sorted keys (non-JSON values as their str): how a
    snapshot keeps unknown fields (`extra`) and a quarantined record."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class NotPlain(Exception):
    """The record needs the full validation."""


def _timestamp(value: Any) -> datetime | None:
    """Naive UTC of a plain timestamp (see timestamps.parse_api_timestamp), or NotPlain."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        if value in NEVER_STRINGS or value == "":
            return None
        shaped = len(value) == 19 and value[4] == "-" and value[10] == " "
        if shaped and value >= FIXED_OFFSET_SINCE:
            try:
                return datetime.fromisoformat(value) - MSK_OFFSET
            except ValueError:
                raise NotPlain from None
        raise NotPlain
    if kind is int:
        if value == 0:
            return None
        if 0 < value <= MAX_EPOCH:
            return EPOCH + timedelta(seconds=value)
    raise NotPlain


def _integer(value: Any, bounds: tuple[int, int]) -> int | None:
    if value is None or (type(value) is int and bounds[0] <= value <= bounds[1]):
        return value
    raise NotPlain


def _flag(value: Any) -> bool | None:
    if value is None or type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return value == 1
    raise NotPlain


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise NotPlain


def _rating(value: Any) -> float | None:
    if value is None or type(value) is float:
        return value
    if type(value) is int and -FLOAT_EXACT <= value <= FLOAT_EXACT:
        return float(value)
    raise NotPlain


WARN_FIELDS = frozenset({"admin", "bantime", "reason"})


def _warns(value: Any) -> list[dict]:
    """The `warn` list of plain entries (no fields beyond admin, bantime, reason)."""
    if value is None:
        return []
    if type(value) is not list:
        raise NotPlain
    warns = []
    for entry in value:
        if type(entry) is not dict or not WARN_FIELDS.issuperset(entry):
            raise NotPlain
        warns.append(
            {
                "admin": _text(entry.get("admin")),
                "bantime": _timestamp(entry.get("bantime")),
                "reason": _text(entry.get("reason")),
            }
        )
    return warns


def plain_row(raw: dict, snapshot_week: date, snapshot_naive: datetime) -> tuple | None:
    """Return the snapshot row (`SNAPSHOT_SCHEMA` order) of a plain record, or None when the
    record must be validated in full. `snapshot_naive` is the snapshot time as naive UTC."""
    account_id, login = raw.get("id"), raw.get("login")
    if type(account_id) is not int or not 0 < account_id <= INT64[1]:
        return None
    if type(login) is not str or not login:
        return None
    try:
        warns = _warns(raw.get("warn"))
        online = _flag(raw.get("online"))
        playerid = _integer(raw.get("playerid"), INT32)
        row = (
            snapshot_week,
            snapshot_naive,
            account_id,
            login,
            _timestamp(raw.get("regdate")),
            _timestamp(raw.get("lastlogin")),
            _integer(raw.get("moder"), INT32),
            _integer(raw.get("mute"), INT64),
            _integer(raw.get("verify"), INT32),
            _text(raw.get("verifyText")),
            warns,
            playerid if online else None,
            _integer(raw.get("bonuspoints"), INT64),
            _flag(raw.get("premium")),
            _timestamp(raw.get("premium_expdate")),
            _rating(raw.get("chase_rating")),
            None,
        )
    except NotPlain:
        return None
    if KNOWN_FIELDS.issuperset(raw):
        return row
    extra = {key: value for key, value in raw.items() if key not in KNOWN_FIELDS}
    if "verify_text" in extra:
        return None  # the field's own name (populate_by_name): pydantic decides
    try:
        text = record_json(extra)
    except (TypeError, ValueError):
        return None
    return (*row[:-1], text)
