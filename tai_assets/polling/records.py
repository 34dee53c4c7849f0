"""Poll records: what a sensor keeps in its cursor and hands to an ingest run as run config."""

import base64
import json
import zlib
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from tai_assets.polling.chrono import WorldPollResult
from tai_assets.samp.client import ServerPollResult


class ServerPollRecord(dg.Config):
    """One poll of the game server (status ok, count_only or unreachable)."""

    polled_at: str
    status: str
    online: int | None = None
    max_players: int | None = None
    hostname: str | None = None
    player_names: list[str] | None = None
    error: str | None = None
    latency_ms: float | None = None


class WorldRecord(dg.Config):
    """One world of a worlds poll; `error` is set when the record failed validation."""

    raw_name: str | None = None
    name: str | None = None
    players: int | None = None
    static: bool | None = None
    ssmp: bool | None = None
    extra: str | None = None
    error: str | None = None


class WorldPollRecord(dg.Config):
    """One poll of the chrono `/worlds` endpoint."""

    polled_at: str
    status: str
    error: str | None = None
    worlds: list[WorldRecord] = []


class ServerIngestConfig(dg.Config):
    """Run config of a game-server ingest run: the polls a sensor collected."""

    polls: list[ServerPollRecord] = []
    full_rebuild: bool = False


class WorldIngestConfig(dg.Config):
    """Run config of a worlds ingest run: the polls a sensor collected."""

    polls: list[WorldPollRecord] = []
    full_rebuild: bool = False


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
    """Return a server poll as the plain dict stored in a cursor and in run config."""
    record = {
        "polled_at": iso_utc(polled_at),
        "status": result.status,
        "online": result.online,
        "max_players": result.max_players,
        "hostname": result.hostname,
        "player_names": result.player_names,
        "error": result.error,
        "latency_ms": None if result.latency_ms is None else round(result.latency_ms, 1),
    }
    return {k: v for k, v in record.items() if v is not None}


def world_record(result: WorldPollResult, polled_at: datetime) -> dict:
    """Return a worlds poll as the plain dict stored in a cursor and in run config."""
    worlds = [{k: v for k, v in vars(entry).items() if v is not None} for entry in result.worlds]
    record = {
        "polled_at": iso_utc(polled_at),
        "status": result.status,
        "error": result.error,
        "worlds": worlds,
    }
    return {k: v for k, v in record.items() if v is not None}


def encode_pending(records: list[dict]) -> str:
    """Return pending polls packed for a sensor cursor (zlib: names repeat from poll to poll)."""
    raw = json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()
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


def server_polls_frame(polls: list[ServerPollRecord]) -> pl.DataFrame:
    """Return server polls as rows of `raw.raw_server_polls`."""
    rows = [
        {
            "polled_at": naive_utc(p.polled_at),
            "status": p.status,
            "online": p.online,
            "max_players": p.max_players,
            "player_names": p.player_names if p.status == "ok" else None,
            "hostname": p.hostname,
            "error": p.error,
            "latency_ms": p.latency_ms,
        }
        for p in polls
    ]
    return pl.DataFrame(rows, schema=SERVER_POLLS_SCHEMA)


def world_polls_frame(polls: list[WorldPollRecord]) -> pl.DataFrame:
    """Return worlds polls as rows of `raw.raw_world_polls`: a row per world, one per failure."""
    rows = []
    for poll in polls:
        polled_at = naive_utc(poll.polled_at)
        if poll.status != "ok" or not poll.worlds:
            status = poll.status if poll.status != "ok" else "empty"
            rows.append(
                {"polled_at": polled_at, "world_index": 0, "status": status, "error": poll.error}
            )
            continue
        for index, world in enumerate(poll.worlds):
            rows.append(
                {
                    "polled_at": polled_at,
                    "world_index": index,
                    "status": "invalid" if world.error else "ok",
                    "raw_name": world.raw_name,
                    "name": world.name,
                    "players": world.players,
                    "static": world.static,
                    "ssmp": world.ssmp,
                    "extra": world.extra,
                    "error": world.error,
                }
            )
    return pl.DataFrame(rows, schema=WORLD_POLLS_SCHEMA)
