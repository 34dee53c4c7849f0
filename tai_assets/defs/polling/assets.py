"""Ingest assets: the polls pending in the spool → raw polls → sessions and online history.

Each source is one multi-asset (one op, one process) so that a frequent small run costs one step.
A run takes every poll of its source still pending in the spool (whatever earlier runs dropped
included). In one warehouse transaction, the raw table is appended (idempotent on the poll
instant) and the derived tables are recomputed for the window of those polls from it; the
outputs are reported once it has committed, and only then are the polls marked delivered. A
run that dies part-way leaves no trace in the warehouse and its polls pending; re-running
them, or running batches out of order, leaves the warehouse exactly as a full rebuild would.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import polars as pl

from tai_assets.core.changes import COMMITTED, TableChange
from tai_assets.core.derive import (
    PLAYER_SESSIONS,
    WORLD_SESSIONS,
    Window,
    derive_server_online,
    derive_sessions,
    derive_worlds_online,
    refresh_world_session_stats,
)
from tai_assets.core.polls import server_polls_frame, world_polls_frame
from tai_assets.core.spool import PendingPoll, SpoolUnavailable
from tai_assets.defs.polling.config import ServerIngestConfig, WorldIngestConfig
from tai_assets.defs.polling.freshness import newest_poll_metadata
from tai_assets.defs.polling.resources import PollingSettings, PollSpoolResource
from tai_assets.defs.resources import WarehouseResource
from tai_assets.warehouse.io_manager import (
    COMPACT_METADATA_KEY,
    WRITE_MODE_KEY,
    WarehouseTable,
    write_change,
)

OWNERS = ["team:tai"]
POLLING_GROUP = "polling"
# The most polls one run takes from the spool (a backlog drains over successive runs).
MAX_POLLS_PER_RUN = 5000


TABLE_CHANGE = dg.PythonObjectDagsterType(TableChange, name="TableChange")


@dataclass(frozen=True)
class IngestOutput:
    """One asset an ingest multi-asset writes, with the raw asset it derives from (if any)."""

    name: str
    out: dg.AssetOut
    derived_from: str | None

    @property
    def key(self) -> dg.AssetKey:
        """The asset's key."""
        return dg.AssetKey(self.name)


def _spec(name: str, schema: str, mode: str, description: str, deps=(), kinds=()) -> IngestOutput:
    out = dg.AssetOut(
        key=dg.AssetKey(name),
        dagster_type=TABLE_CHANGE,
        # A repair run selects only the derived tables; the raw one is then not produced.
        is_required=False,
        description=description,
        metadata={
            "schema": schema,
            WRITE_MODE_KEY: mode,
            COMPACT_METADATA_KEY: True,
            "dagster/table_name": f"{schema}.{name}",
        },
        kinds={"duckdb", "polars", *kinds},
        group_name=POLLING_GROUP,
        owners=OWNERS,
    )
    return IngestOutput(name, out, deps[0] if deps else None)


def _outs(specs: list[IngestOutput]) -> dict[str, dg.AssetOut]:
    return {spec.name: spec.out for spec in specs}


# The derived tables also combine the history imported from the original service.
LEGACY_HISTORY = dg.AssetKey("legacy_history")


def _internal_deps(specs: list[IngestOutput]) -> dict[str, set[dg.AssetKey]]:
    return {
        spec.name: {dg.AssetKey(spec.derived_from), LEGACY_HISTORY} if spec.derived_from else set()
        for spec in specs
    }


SERVER_SPECS = [
    _spec(
        "raw_server_polls",
        "raw",
        "append",
        "Every poll of the game server's UDP query port, failures included: ok (count and "
        "names), count_only (names unknown: over 100 online or no answer to 'c'), malformed "
        "(the server answered, but its 'i' did not parse: up, count unknown), unreachable. "
        "A name byte Windows-1251 leaves undefined is kept as a \\xNN escape "
        "(`escaped_names` counts such names).",
        kinds={"udp"},
    ),
    _spec(
        "server_online",
        "core",
        "merge",
        "The online-count timeseries: a row each time the count changes and each time the "
        "server goes down or comes back. An outage is 2 or more consecutive unreachable polls "
        "(two minutes at the default 60 s interval), dated from the first of them; a single "
        "lost poll writes no row (raw_server_polls keeps it as it was). A malformed poll is up "
        "with an unknown (NULL) count.",
        deps=["raw_server_polls"],
    ),
    _spec(
        "player_sessions",
        "core",
        "merge",
        "Player sessions: from the first poll that lists a player to the last one; listings "
        "closer than TAI_PLAYER_SESSION_GAP_SECONDS are one session.",
        deps=["raw_server_polls"],
    ),
]

WORLD_SPECS = [
    _spec(
        "raw_world_polls",
        "raw",
        "append",
        "Every poll of the chrono /worlds API: a row per (poll, world), failures included.",
        kinds={"api"},
    ),
    _spec(
        "world_sessions",
        "core",
        "merge",
        "World sessions by clean name; listings closer than TAI_WORLD_SESSION_GAP_SECONDS are "
        "one session. Each session's points, peak, popularity score and player-hours are kept "
        "beside it in core.world_session_stats (what the digests read).",
        deps=["raw_world_polls"],
    ),
    _spec(
        "worlds_online",
        "core",
        "merge",
        "Worlds' online history: a row per world each time its (players, static, ssmp) changes.",
        deps=["raw_world_polls"],
    ),
]
SPEC_BY_NAME = {spec.name: spec for spec in [*SERVER_SPECS, *WORLD_SPECS]}


# A run that finds nothing pending for a source (another run took it, or its polling is off)
# materializes none of its assets: the raw asset's latest materialization keeps naming the
# newest poll delivered (freshness reads it).


def take_pending(
    context: dg.AssetExecutionContext, spool: PollSpoolResource, source: str, raw_name: str
) -> list[PendingPoll]:
    """Return the polls of `source` pending in the spool when the raw table is selected (a
    repair run selects only the derived tables, and takes none)."""
    if raw_name not in context.selected_output_names:
        return []
    pending = spool.spool().pending(source, limit=MAX_POLLS_PER_RUN)
    context.log.info(f"{len(pending)} {source} polls pending in the spool")
    return pending


def mark_delivered(
    context: dg.AssetExecutionContext, spool: PollSpoolResource, pending: list[PendingPoll]
) -> None:
    """Mark the run's polls delivered: every output they touch is committed by now. A spool
    that cannot be written now only means a later run delivers them again (the warehouse
    skips polls it holds), so that is a warning, not a failed run."""
    try:
        spool.spool().mark_delivered([poll.seq for poll in pending])
    except SpoolUnavailable as error:
        context.log.warning(f"polls committed but not marked delivered ({error})")


def batch_window(frame: pl.DataFrame, full_rebuild: bool) -> Window | None:
    """Return the window a batch touches, or None for a full rebuild."""
    return None if full_rebuild else Window.covering(frame["polled_at"].to_list())


def _raw_metadata(frame: pl.DataFrame) -> dict:
    """Per status, how many rows; and the newest poll (what the freshness sensor reads)."""
    counts = dict(frame.group_by("status").len().sort("status").iter_rows())
    return {**counts, **newest_poll_metadata(frame["polled_at"].to_list())}


def write_in_batch(conn, name: str, change: TableChange, **metadata) -> dg.Output:
    """Write one output's change inside the batch's transaction; return the Output that
    reports it, to be yielded once the batch has committed (the IO manager writes nothing)."""
    declared = SPEC_BY_NAME[name].out.metadata
    table = WarehouseTable(declared["schema"], name)
    written = write_change(conn, table, change, declared[WRITE_MODE_KEY])
    return dg.Output(COMMITTED, output_name=name, metadata={**metadata, **written})


@dg.multi_asset(
    name="ingest_server_polls",
    outs=_outs(SERVER_SPECS),
    internal_asset_deps=_internal_deps(SERVER_SPECS),
    deps=[LEGACY_HISTORY],
    can_subset=True,
)
def ingest_server_polls(
    context: dg.AssetExecutionContext,
    config: ServerIngestConfig,
    warehouse: WarehouseResource,
    polling: PollingSettings,
    spool: PollSpoolResource,
) -> Iterator[dg.Output]:
    """Append the pending server polls, then bring sessions and the online series up to
    date, then mark the polls delivered."""
    selected = context.selected_output_names
    pending = take_pending(context, spool, "server", "raw_server_polls")
    frame = server_polls_frame([poll.record for poll in pending])
    window = batch_window(frame, config.full_rebuild)
    derived = [n for n in ("server_online", "player_sessions") if n in selected]
    if window is None and not config.full_rebuild:
        return  # nothing pending: no write, and no materialization to record
    outputs = []
    with warehouse.transaction() as conn:
        if "raw_server_polls" in selected and frame.height:
            change = TableChange(frame)
            outputs.append(write_in_batch(conn, "raw_server_polls", change, **_raw_metadata(frame)))
        if "server_online" in derived:
            outputs.append(
                write_in_batch(conn, "server_online", derive_server_online(conn, window))
            )
        if "player_sessions" in derived:
            gap = polling.player_session_gap_seconds
            sessions = derive_sessions(conn, PLAYER_SESSIONS, window, gap)
            outputs.append(write_in_batch(conn, "player_sessions", sessions))
    yield from outputs
    mark_delivered(context, spool, pending)


@dg.multi_asset(
    name="ingest_world_polls",
    outs=_outs(WORLD_SPECS),
    internal_asset_deps=_internal_deps(WORLD_SPECS),
    deps=[LEGACY_HISTORY],
    can_subset=True,
)
def ingest_world_polls(
    context: dg.AssetExecutionContext,
    config: WorldIngestConfig,
    warehouse: WarehouseResource,
    polling: PollingSettings,
    spool: PollSpoolResource,
) -> Iterator[dg.Output]:
    """Append the pending worlds polls, then bring world sessions and history up to date,
    then mark the polls delivered."""
    selected = context.selected_output_names
    pending = take_pending(context, spool, "worlds", "raw_world_polls")
    frame = world_polls_frame([poll.record for poll in pending])
    window = batch_window(frame, config.full_rebuild)
    derived = [n for n in ("world_sessions", "worlds_online") if n in selected]
    if window is None and not config.full_rebuild:
        return  # nothing pending: no write, and no materialization to record
    outputs = []
    with warehouse.transaction() as conn:
        if "raw_world_polls" in selected and frame.height:
            metadata = {"polls_in_batch": frame["polled_at"].n_unique(), **_raw_metadata(frame)}
            outputs.append(write_in_batch(conn, "raw_world_polls", TableChange(frame), **metadata))
        gap = polling.world_session_gap_seconds
        if "world_sessions" in derived:
            sessions = derive_sessions(conn, WORLD_SESSIONS, window, gap)
            outputs.append(write_in_batch(conn, "world_sessions", sessions))
        if "worlds_online" in derived:
            outputs.append(
                write_in_batch(conn, "worlds_online", derive_worlds_online(conn, window))
            )
        if derived:
            refresh_world_session_stats(conn, window, gap)
    yield from outputs
    mark_delivered(context, spool, pending)


POLLING_ASSETS = [ingest_server_polls, ingest_world_polls]
