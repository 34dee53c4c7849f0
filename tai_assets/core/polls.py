"""Poll records: what a sensor spools for each poll, and how polls become raw table rows."""

import base64
import json
import re
import zlib
from datetime import UTC, datetime, timedelta

import polars as pl

from tai_assets.sources.chrono import WorldPollResult
from tai_assets.sources.samp.client import ServerPollResult

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(value: str | None) -> str | None:
    """Return text the warehouse can store: a lone surrogate (which UTF-8 cannot encode; a
    JSON source can send one as "\\ud800") becomes the visible escape `\\ud800`; everything
    else, NUL and control characters included, is kept as it is."""
    if value is None or not _LONE_SURROGATE.search(value):
        return value
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", value)


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _map_strings(value, convert):
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, list):
        return [_map_strings(item, convert) for item in value]
    if isinstance(value, dict):
        return {convert(k): _map_strings(v, convert) for k, v in value.items()}
    return value


def storable_json(text: str | None) -> str | None:
    """Return JSON text the warehouse's JSON type accepts: strings holding a lone surrogate
    (an escape such as "\\ud800", which DuckDB rejects) get `storable_text`'s escape."""
    text = storable_text(text)
    if text is None or not _ESCAPED_SURROGATE.search(text):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_map_strings(value, storable_text), ensure_ascii=False)


def iso_utc(instant: datetime) -> str:
    """Return an aware instant as an ISO-8601 UTC string (microseconds kept)."""
    return instant.astimezone(UTC).isoformat()


def naive_utc(iso: str) -> datetime:
    """Return an ISO-8601 instant as a naive UTC datetime, the warehouse's TIMESTAMP form."""
    instant = datetime.fromisoformat(iso)
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return instant


def server_record(result: ServerPollResult, polled_at: datetime) -> dict:
    """Return a server poll as the plain dict the spool stores."""
    record = {
        "polled_at": iso_utc(polled_at),
        "status": result.status,
        "online": result.online,
        "max_players": result.max_players,
        "hostname": result.hostname,
        "player_names": None if result.player_names is None else sorted(result.player_names),
        "error": result.error,
        "latency_ms": None if result.latency_ms is None else round(result.latency_ms, 1),
        "escaped_names": result.escaped_names or None,
    }
    return {k: v for k, v in record.items() if v is not None}


def world_record(result: WorldPollResult, polled_at: datetime) -> dict:
    """Return a worlds poll as the plain dict the spool stores."""
    worlds = [{k: v for k, v in vars(entry).items() if v is not None} for entry in result.worlds]
    record = {
        "polled_at": iso_utc(polled_at),
        "status": result.status,
        "error": result.error,
        "retry_after_seconds": result.retry_after_seconds,
        "worlds": worlds,
    }
    return {k: v for k, v in record.items() if v is not None}


def asked_to_wait_until(record: dict | None) -> datetime | None:
    """Return until when the worlds API asked not to be polled, from a worlds poll record (a
    429's Retry-After, counted from the answer), or None.

    Both pollers read it from the newest spooled worlds poll, so a wait the sensor was asked
    for holds the supervisor's stand-in too, and the other way round."""
    if not record or not record.get("retry_after_seconds"):
        return None
    answered_at = datetime.fromisoformat(record["polled_at"])
    return answered_at + timedelta(seconds=record["retry_after_seconds"])


def encode_pending(records: list[dict]) -> str:
    """Return pending polls packed for a sensor cursor (zlib: names repeat from poll to poll)."""
    # ASCII JSON: a lone surrogate from a source would make a UTF-8 encoder fail.
    raw = json.dumps(records, ensure_ascii=True, separators=(",", ":")).encode()
    return "z:" + base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_pending(cursor: str | None) -> list[dict]:
    """Return the pending polls of a cursor written by `encode_pending` (none for no cursor)."""
    if not cursor:
        return []
    if not cursor.startswith("z:"):
        raise ValueError("unknown cursor format")
    return json.loads(zlib.decompress(base64.b64decode(cursor[2:])))


SERVER_POLLS_SCHEMA = {
    "polled_at": pl.Datetime("us"),
    "status": pl.String,
    "online": pl.Int32,
    "max_players": pl.Int32,
    "player_names": pl.List(pl.String),
    "hostname": pl.String,
    "error": pl.String,
    "latency_ms": pl.Float64,
    "escaped_names": pl.Int32,
}

WORLD_POLLS_SCHEMA = {
    "polled_at": pl.Datetime("us"),
    "world_index": pl.Int32,
    "status": pl.String,
    "raw_name": pl.String,
    "name": pl.String,
    "players": pl.Int32,
    "static": pl.Boolean,
    "ssmp": pl.Boolean,
    "extra": pl.String,
    "error": pl.String,
}


def server_polls_frame(polls: list[dict]) -> pl.DataFrame:
    """Return server poll records as rows of `raw.raw_server_polls`."""
    rows = [
        {
            "polled_at": naive_utc(p["polled_at"]),
            "status": p["status"],
            "online": p.get("online"),
            "max_players": p.get("max_players"),
            "player_names": (
                [storable_text(name) for name in p.get("player_names") or []]
                if p["status"] == "ok"
                else None
            ),
            "hostname": storable_text(p.get("hostname")),
            "error": storable_text(p.get("error")),
            "latency_ms": p.get("latency_ms"),
            "escaped_names": p.get("escaped_names", 0) if p["status"] == "ok" else None,
        }
        for p in polls
    ]
    return pl.DataFrame(rows, schema=SERVER_POLLS_SCHEMA)


def world_polls_frame(polls: list[dict]) -> pl.DataFrame:
    """Return worlds poll records as rows of `raw.raw_world_polls`: a row per world, one row
    for a failed or empty poll."""
    rows = []
    for poll in polls:
        polled_at = naive_utc(poll["polled_at"])
        worlds = poll.get("worlds") or []
        if poll["status"] != "ok" or not worlds:
            status = poll["status"] if poll["status"] != "ok" else "empty"
            rows.append(
                {
                    "polled_at": polled_at,
                    "world_index": 0,
                    "status": status,
                    "error": storable_text(poll.get("error")),
                }
            )
            continue
        for index, world in enumerate(worlds):
            rows.append(
                {
                    "polled_at": polled_at,
                    "world_index": index,
                    "status": "invalid" if world.get("error") else "ok",
                    **{k: world.get(k) for k in ("players", "static", "ssmp")},
                    **{k: storable_text(world.get(k)) for k in ("raw_name", "name", "error")},
                    "extra": storable_json(world.get("extra")),
                }
            )
    return pl.DataFrame(rows, schema=WORLD_POLLS_SCHEMA)
