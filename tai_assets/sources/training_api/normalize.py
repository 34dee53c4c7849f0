"""Turning raw API records into snapshot rows, or into quarantine rows with a reason.

`normalize_record` is the one place that decides what a stored player looks like:
timestamps in UTC (naive at this DataFrame boundary), ``playerid`` only while online,
``verifyText`` renamed ``verify_text``, ``premium`` a boolean, ``access`` and ``online`` dropped,
unknown fields kept as JSON in ``extra``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
import pyarrow as pa
from pydantic import ValidationError

from tai_assets.sources.training_api.fast_path import plain_row, record_json
from tai_assets.sources.training_api.models import ApiUser, describe_validation_error
from tai_assets.sources.training_api.timestamps import to_naive_utc

WARN_DTYPE = pl.List(
    pl.Struct({"admin": pl.String, "bantime": pl.Datetime("us"), "reason": pl.String})
)

SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_week": pl.Date(),
    "snapshot_time": pl.Datetime("us"),
    "id": pl.Int64(),
    "login": pl.String(),
    "regdate": pl.Datetime("us"),
    "lastlogin": pl.Datetime("us"),
    "moder": pl.Int32(),
    "mute": pl.Int64(),
    "verify": pl.Int32(),
    "verify_text": pl.String(),
    "warn": WARN_DTYPE,
    "playerid": pl.Int32(),
    "bonuspoints": pl.Int64(),
    "premium": pl.Boolean(),
    "premium_expdate": pl.Datetime("us"),
    "chase_rating": pl.Float64(),
    "extra": pl.String(),
}
"""Column order and types of ``core.players_snapshot`` (see ``sql/ddl/30_snapshot.sql``)."""

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_week": pl.Date(),
    "snapshot_time": pl.Datetime("us"),
    "page": pl.Int32(),
    "position": pl.Int32(),
    "id": pl.Int64(),
    "reason": pl.String(),
    "record": pl.String(),
}
"""Column order and types of ``core.players_snapshot_quarantine``."""


@dataclass(frozen=True)
class Quarantined:
    """A record that failed validation: where it was, its id if readable, why, and its JSON."""

    page: int
    position: int
    id: int | None
    reason: str
    record: str


def _best_effort_id(raw: Any) -> int | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def _extra_json(user: ApiUser) -> str | None:
    extra: dict[str, Any] = dict(user.model_extra or {})
    warn_extra = [dict(w.model_extra or {}) for w in user.warn]
    if any(warn_extra):
        extra["warn"] = warn_extra
    return record_json(extra) if extra else None


def user_to_row(user: ApiUser, snapshot_week: date, snapshot_time: datetime) -> tuple:
    """Return the snapshot row of a validated record, as a tuple in `SNAPSHOT_SCHEMA` order."""
    return (
        snapshot_week,
        to_naive_utc(snapshot_time),
        user.id,
        user.login,
        to_naive_utc(user.regdate),
        to_naive_utc(user.lastlogin),
        user.moder,
        user.mute,
        user.verify,
        user.verify_text,
        [
            {"admin": w.admin, "bantime": to_naive_utc(w.bantime), "reason": w.reason}
            for w in user.warn
        ],
        user.playerid if user.online else None,
        user.bonuspoints,
        user.premium,
        to_naive_utc(user.premium_expdate),
        user.chase_rating,
        _extra_json(user),
    )


def normalize_record(
    raw: Any,
    *,
    page: int,
    position: int,
    snapshot_week: date,
    snapshot_time: datetime,
    snapshot_naive: datetime | None = None,
) -> tuple | Quarantined:
    """Validate one raw record; return its snapshot row tuple, or a `Quarantined` with reason.

    A plain record takes the quick path (`fast_path.plain_row`); any other is validated by
    `ApiUser`. Never raises for bad data: a crawl of a million records must not stop for one.
    `snapshot_naive` is `snapshot_time` as naive UTC, when the caller has it already.
    """
    if not isinstance(raw, dict):
        return Quarantined(page, position, None, "record is not a JSON object", record_json(raw))
    if snapshot_naive is None:
        snapshot_naive = to_naive_utc(snapshot_time)
    row = plain_row(raw, snapshot_week, snapshot_naive)
    if row is not None:
        return row
    return validated_row(
        raw, page=page, position=position, snapshot_week=snapshot_week, snapshot_time=snapshot_time
    )


def validated_row(
    raw: dict, *, page: int, position: int, snapshot_week: date, snapshot_time: datetime
) -> tuple | Quarantined:
    """Return the snapshot row of `raw` as `ApiUser` validates it, or a `Quarantined` with
    the validation's reason: the reference `fast_path.plain_row` must agree with."""
    try:
        user = ApiUser.model_validate(raw)
    except ValidationError as error:
        return Quarantined(
            page, position, _best_effort_id(raw), describe_validation_error(error), record_json(raw)
        )
    return user_to_row(user, snapshot_week, snapshot_time)


def _warn_column(lists: tuple[list[dict], ...]) -> pl.Series:
    """Return the `warn` lists as a List(Struct) column, built from flat arrays (polars builds
    one from Python lists of dicts at ~80 us a row; this takes well under one)."""
    offsets, admins, bantimes, reasons = [0], [], [], []
    for warns in lists:
        for warn in warns:
            admins.append(warn["admin"])
            bantimes.append(warn["bantime"])
            reasons.append(warn["reason"])
        offsets.append(len(admins))
    entries = pa.StructArray.from_arrays(
        [
            pa.array(admins, pa.string()),
            pa.array(bantimes, pa.timestamp("us")),
            pa.array(reasons, pa.string()),
        ],
        names=["admin", "bantime", "reason"],
    )
    column = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), entries)
    return pl.Series("warn", column).cast(WARN_DTYPE)


def rows_to_frame(rows: list[tuple]) -> pl.DataFrame:
    """Return snapshot row tuples as a DataFrame with the exact `SNAPSHOT_SCHEMA` (built a
    column at a time: several times quicker than row by row)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(SNAPSHOT_SCHEMA)
    return pl.DataFrame(
        [
            _warn_column(values)
            if name == "warn"
            else pl.Series(name, values, dtype=dtype, strict=True)
            for (name, dtype), values in zip(SNAPSHOT_SCHEMA.items(), columns, strict=True)
        ]
    )


def quarantine_to_frame(
    records: list[Quarantined], snapshot_week: date, snapshot_time: datetime
) -> pl.DataFrame:
    """Return quarantined records as a DataFrame with the exact `QUARANTINE_SCHEMA`."""
    stamp = to_naive_utc(snapshot_time)
    return pl.DataFrame(
        [(snapshot_week, stamp, q.page, q.position, q.id, q.reason, q.record) for q in records],
        schema=QUARANTINE_SCHEMA,
        orient="row",
    )


__all__ = [
    "QUARANTINE_SCHEMA",
    "SNAPSHOT_SCHEMA",
    "Quarantined",
    "normalize_record",
    "quarantine_to_frame",
    "rows_to_frame",
    "user_to_row",
    "validated_row",
]
