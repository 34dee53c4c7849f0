"""Pydantic models of what `GET /api/user?page=N` returns, validating and normalising a record.

A record that does not validate is quarantined by the caller with the validation message; it is
never fatal for the crawl. Fields the API adds later are allowed (``extra="allow"``) and end up
in the snapshot's ``extra`` JSON column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
)

from tai_assets.sources.training_api.timestamps import parse_api_timestamp

ApiTimestamp = Annotated[datetime | None, PlainValidator(parse_api_timestamp)]
"""A Moscow-time string or epoch integer, validated to an aware UTC datetime (None = never)."""


def _none_to_empty_list(value: object) -> object:
    return [] if value is None else value


class ApiWarn(BaseModel):
    """One entry of a player's ``warn`` list (a warning or ban issued by an admin)."""

    model_config = ConfigDict(extra="allow")

    admin: str | None = None
    bantime: ApiTimestamp = None
    reason: str | None = None


class ApiUser(BaseModel):
    """One player record; timestamps are normalised to aware UTC while validating."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: Annotated[int, Field(gt=0)]
    login: Annotated[str, StringConstraints(min_length=1)]
    lastlogin: ApiTimestamp = None
    regdate: ApiTimestamp = None
    moder: int | None = None
    mute: int | None = None
    verify: int | None = None
    verify_text: str | None = Field(default=None, alias="verifyText")
    warn: Annotated[list[ApiWarn], BeforeValidator(_none_to_empty_list)] = Field(
        default_factory=list
    )
    online: bool | None = None
    playerid: int | None = None
    access: Any = None
    bonuspoints: int | None = None
    premium: bool | None = None
    premium_expdate: ApiTimestamp = None
    chase_rating: float | None = None


class PageMeta(BaseModel):
    """The pagination block of a page; only ``last_page`` is required, the rest is optional."""

    model_config = ConfigDict(extra="allow")

    last_page: Annotated[int, Field(ge=0)]
    total: Annotated[int, Field(ge=0)] | None = None
    current_page: int | None = None
    per_page: int | None = None


class UserPage(BaseModel):
    """The envelope of one page: its records (still raw) and its pagination metadata."""

    model_config = ConfigDict(extra="allow")

    data: list[Any]
    meta: PageMeta


def describe_validation_error(error: ValidationError) -> str:
    """Return a compact one-line reason for a quarantined record (field: message; ...)."""
    parts = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "record"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)
