"""Poll records: what a sensor keeps in its cursor and hands to an ingest run as run config."""

import base64
import json
import zlib
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from tai_assets.polling.chrono import WorldPollResult, clean_world_name
from tai_assets.samp.client import ServerPollResult


class ServerPoll(dg.Config):
    """One poll of the game server; `hostname_index` indexes the batch's `hostnames`.
    `names_listed` says whether the poll listed names (the batch's `presence` says which)."""

    polled_at: str
    status: str
    online: int | None = None
    max_players: int | None = None
    hostname_index: int | None = None
    names_listed: bool = False
    error: str | None = None
    latency_ms: float | None = None


class WorldRecord(dg.Config):
    """One world as polls listed it, without its player count (that changes from poll to
    poll); `error` is set when the record failed validation. The clean name is derived."""

    raw_name: str | None = None
    static: bool | None = None
    ssmp: bool | None = None
    extra: str | None = None
    error: str | None = None


class WorldPoll(dg.Config):
    """One poll of the chrono `/worlds` endpoint: `worlds` index into the batch's `worlds`,
    `players` are their player counts, in the same order."""

    polled_at: str
    status: str
    error: str | None = None
    worlds: list[int] = []
    players: list[int | None] = []


class ServerIngestConfig(dg.Config):
    """Run config of a game-server ingest run: a batch of polls, each name and hostname stored
    once. `presence[j]` has one character per poll, '1' where that poll listed `names[j]`."""

    names: list[str] = []
    presence: list[str] = []
    hostnames: list[str] = []
    polls: list[ServerPoll] = []
    full_rebuild: bool = False


class WorldIngestConfig(dg.Config):
    """Run config of a worlds ingest run: a batch of polls, each distinct world stored once."""

    worlds: list[WorldRecord] = []
    polls: list[WorldPoll] = []
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
        "player_names": None if result.player_names is None else sorted(result.player_names),
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


def server_batch(records: list[dict]) -> dict:
    """Return server polls as run config: every name and hostname once, and per name which
    polls listed it.

    Ten polls of ~90 players repeat the same names and hostname; storing each once, with a
    presence string per name, keeps each run's config (kept in the instance for every run)
    a fraction of the size. Names come back sorted, as the sensor records them.
    """
    names = sorted({name for record in records for name in record.get("player_names") or []})
    hostnames = sorted({record["hostname"] for record in records if "hostname" in record})
    hostname_index = {hostname: i for i, hostname in enumerate(hostnames)}
    listed = [set(record.get("player_names") or ()) for record in records]
    presence = ["".join("1" if name in poll else "0" for poll in listed) for name in names]
    polls = []
    for record in records:
        poll = {k: v for k, v in record.items() if k not in ("player_names", "hostname")}
        if record.get("player_names") is not None:
            poll["names_listed"] = True
        if "hostname" in record:
            poll["hostname_index"] = hostname_index[record["hostname"]]
        polls.append(poll)
    return {"names": names, "presence": presence, "hostnames": hostnames, "polls": polls}


def expand_server_batch(batch: dict) -> list[dict]:
    """Return the plain poll records (with sorted `player_names`) a `server_batch` config
    holds."""
    names, hostnames = batch.get("names") or [], batch.get("hostnames") or []
    presence = batch.get("presence") or []
    records = []
    for i, poll in enumerate(batch.get("polls") or []):
        record = {
            k: v
            for k, v in poll.items()
            if k not in ("names_listed", "hostname_index") and v is not None
        }
        if poll.get("hostname_index") is not None:
            record["hostname"] = hostnames[poll["hostname_index"]]
        if poll.get("names_listed"):
            record["player_names"] = [
                name for name, seen in zip(names, presence, strict=True) if seen[i] == "1"
            ]
        records.append(record)
    return records


def world_batch(records: list[dict]) -> dict:
    """Return worlds polls as run config: each distinct world once (without its player count,
    which polls carry), polls indexing it. The clean name is left out: it is derived."""
    worlds: list[dict] = []
    index: dict[str, int] = {}
    polls = []
    for record in records:
        poll = {k: v for k, v in record.items() if k != "worlds"}
        poll["worlds"], poll["players"] = [], []
        for world in record.get("worlds") or []:
            entry = {k: v for k, v in world.items() if k not in ("name", "players")}
            key = json.dumps(entry, sort_keys=True, ensure_ascii=False)
            if key not in index:
                index[key] = len(worlds)
                worlds.append(entry)
            poll["worlds"].append(index[key])
            poll["players"].append(world.get("players"))
        polls.append(poll)
    return {"worlds": worlds, "polls": polls}


def expand_world_batch(batch: dict) -> list[dict]:
    """Return the plain poll records (with their `worlds`) a `world_batch` config holds."""
    worlds = []
    for world in batch.get("worlds") or []:
        entry = {k: v for k, v in world.items() if v is not None}
        if entry.get("raw_name"):
            entry["name"] = clean_world_name(entry["raw_name"])
        worlds.append(entry)
    records = []
    for poll in batch.get("polls") or []:
        record = {k: v for k, v in poll.items() if k not in ("worlds", "players") and v is not None}
        players = poll.get("players") or [None] * len(poll.get("worlds") or [])
        record["worlds"] = [
            {**worlds[i], **({} if count is None else {"players": count})}
            for i, count in zip(poll.get("worlds") or [], players, strict=True)
        ]
        records.append(record)
    return records


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


def server_polls_frame(polls: list[dict]) -> pl.DataFrame:
    """Return server poll records as rows of `raw.raw_server_polls`."""
    rows = [
        {
            "polled_at": naive_utc(p["polled_at"]),
            "status": p["status"],
            "online": p.get("online"),
            "max_players": p.get("max_players"),
            "player_names": p.get("player_names") if p["status"] == "ok" else None,
            "hostname": p.get("hostname"),
            "error": p.get("error"),
            "latency_ms": p.get("latency_ms"),
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
                    "error": poll.get("error"),
                }
            )
            continue
        for index, world in enumerate(worlds):
            rows.append(
                {
                    "polled_at": polled_at,
                    "world_index": index,
                    "status": "invalid" if world.get("error") else "ok",
                    **{
                        k: world.get(k)
                        for k in ("raw_name", "name", "players", "static", "ssmp", "extra", "error")
                    },
                }
            )
    return pl.DataFrame(rows, schema=WORLD_POLLS_SCHEMA)
