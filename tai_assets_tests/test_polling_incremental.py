"""Property: deriving sessions, the online series and worlds history batch by batch — whatever the
batch boundaries, arrival order and repeats — gives exactly what a full rebuild gives."""

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tai_assets.core.changes import TableChange
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
from tai_assets.legacy.history import SessionGaps
from tai_assets.legacy.importer import ImportOptions, import_folder
from tai_assets.warehouse import connection
from tai_assets.warehouse.io_manager import WarehouseTable, write_frame
from tai_assets_tests.support.legacy_files import write_file

Connection = duckdb.DuckDBPyConnection

START = datetime(2026, 1, 5, 12, 0)
PLAYER_GAP = 300
WORLD_GAP = 240
NAMES = ["Vasya", "Петя", "Kolya", "Masha"]
WORLDS = ["Race", "DM", "Build"]


@pytest.fixture(scope="session")
def warehouses() -> Iterator[Callable[[], tuple[Connection, ...]]]:
    """Return a function that gives three empty in-memory warehouses. They are created once
    per worker (cheap: the module's tests need not share a worker) and emptied for each
    example: creating one costs more than most examples' ingest."""
    with contextlib.ExitStack() as stack:
        conns = tuple(stack.enter_context(connection.connect(":memory:")) for _ in range(3))
        for conn in conns:
            # Each example's tables hold a few dozen rows: one thread does the work in 86 % of
            # the CPU that DuckDB's default (a thread per core) takes.
            conn.execute("SET threads = 1")
        yield lambda: tuple(emptied(conn) for conn in conns)


def emptied(conn: Connection) -> Connection:
    """Return `conn` with every table but the DDL history emptied (and no transaction left
    open by a failed example)."""
    with contextlib.suppress(duckdb.Error):
        conn.rollback()
    # An example writes a handful of the warehouse's tables: only those hold rows.
    tables = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal "
        "AND database_name = current_database() AND table_name <> 'ddl_history' "
        "AND estimated_size > 0"
    ).fetchall()
    for schema, name in tables:
        conn.execute(f'DELETE FROM "{schema}"."{name}"')
    return conn


def apply(conn, qualified: str, change: TableChange) -> None:
    write_frame(conn, WarehouseTable.named(qualified), change.upsert, "merge", change.delete_keys)


server_poll = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["ok", "ok", "ok", "count_only", "unreachable"]),
        "online": st.integers(0, 6),
        "names": st.sets(st.sampled_from(NAMES)),
        "step": st.sampled_from([60, 60, 120, 200, 400]),
    }
)
world_poll = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["ok", "ok", "ok", "unreachable"]),
        "worlds": st.lists(
            st.tuples(st.sampled_from(WORLDS), st.integers(0, 3), st.booleans()), max_size=4
        ),
        "step": st.sampled_from([60, 60, 120, 300]),
    }
)


def server_records(polls: list[dict]) -> list[dict]:
    records, at = [], START
    for poll in polls:
        at += timedelta(seconds=poll["step"])
        names = sorted(poll["names"])
        records.append(
            dict(
                polled_at=at.isoformat() + "+00:00",
                status=poll["status"],
                online=None if poll["status"] == "unreachable" else poll["online"] + len(names),
                player_names=names if poll["status"] == "ok" else None,
            )
        )
    return records


def world_records(polls: list[dict]) -> list[dict]:
    records, at = [], START
    for poll in polls:
        at += timedelta(seconds=poll["step"])
        worlds = [
            dict(raw_name="{FF0000}" + n, name=n, players=p, static=s, ssmp=False)
            for n, p, s in poll["worlds"]
        ]
        records.append(
            dict(polled_at=at.isoformat() + "+00:00", status=poll["status"], worlds=worlds)
        )
    return records


def batches_of(draw, items: list, max_batches: int = 6) -> list[list]:
    """Cut items into random contiguous batches, shuffle them and repeat some (retries)."""
    if not items:
        return []
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(items) - 1)), max_size=max_batches)))
    bounds = [0, *cuts, len(items)]
    batches = [items[a:b] for a, b in pairwise(bounds) if a < b]
    order = draw(st.permutations(range(len(batches))))
    repeats = draw(st.lists(st.sampled_from(range(len(batches))), max_size=2))
    return [batches[i] for i in [*order, *repeats]]


def table(conn, qualified: str, order: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM {qualified} ORDER BY {order}").fetchall()


SERVER_TABLES = {
    "core.player_sessions": "player, session_start",
    "core.server_online": "changed_at",
}
WORLD_TABLES = {
    "core.world_sessions": "name, session_start",
    "core.worlds_online": "name, saved_at",
    "core.world_session_stats": "name, session_start",
}


def ingest_server(conn, records: list[dict], window: Window | None) -> None:
    write_frame(
        conn, WarehouseTable.named("raw.raw_server_polls"), server_polls_frame(records), "append"
    )
    apply(conn, "core.server_online", derive_server_online(conn, window))
    apply(conn, "core.player_sessions", derive_sessions(conn, PLAYER_SESSIONS, window, PLAYER_GAP))


def ingest_worlds(conn, records: list[dict], window: Window | None) -> None:
    write_frame(
        conn, WarehouseTable.named("raw.raw_world_polls"), world_polls_frame(records), "append"
    )
    apply(conn, "core.world_sessions", derive_sessions(conn, WORLD_SESSIONS, window, WORLD_GAP))
    apply(conn, "core.worlds_online", derive_worlds_online(conn, window))
    refresh_world_session_stats(conn, window, WORLD_GAP)


def window_of(frame: pl.DataFrame) -> Window:
    return Window.covering(frame["polled_at"].to_list())


def assert_batches_equal_a_full_rebuild(warehouses, records, data, ingest, frame_of, tables):
    """Ingest `records` in random batches, in any order and some twice: `tables` are exactly
    what one full rebuild of all of them gives."""
    incremental, full, _ = warehouses()
    for batch in batches_of(data.draw, records):
        ingest(incremental, batch, window_of(frame_of(batch)))
    ingest(full, records, None)
    for qualified, order in tables.items():
        assert table(incremental, qualified, order) == table(full, qualified, order)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polls=st.lists(server_poll, min_size=1, max_size=40), data=st.data())
def test_server_batches_in_any_order_equal_a_full_rebuild(polls, data, warehouses):
    assert_batches_equal_a_full_rebuild(
        warehouses, server_records(polls), data, ingest_server, server_polls_frame, SERVER_TABLES
    )


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polls=st.lists(world_poll, min_size=1, max_size=40), data=st.data())
def test_world_batches_in_any_order_equal_a_full_rebuild(polls, data, warehouses):
    assert_batches_equal_a_full_rebuild(
        warehouses, world_records(polls), data, ingest_worlds, world_polls_frame, WORLD_TABLES
    )


def test_full_rebuild_follows_the_rules_on_a_known_stream():
    """Hand-checked: gaps, count_only polls, a lost poll and an outage on a known stream."""
    t = [START + timedelta(minutes=m) for m in (0, 1, 2, 3, 10, 11, 20, 21, 22, 23)]
    polls = [
        dict(polled_at=t[0].isoformat(), status="ok", online=1, player_names=["A"]),
        dict(polled_at=t[1].isoformat(), status="count_only", online=120),
        dict(polled_at=t[2].isoformat(), status="unreachable"),  # one lost poll: no outage
        dict(polled_at=t[3].isoformat(), status="ok", online=1, player_names=["A"]),
        dict(polled_at=t[4].isoformat(), status="ok", online=1, player_names=["B"]),
        dict(polled_at=t[5].isoformat(), status="ok", online=2, player_names=["A"]),
        dict(polled_at=t[6].isoformat(), status="ok", online=1, player_names=["A"]),
        dict(polled_at=t[7].isoformat(), status="unreachable"),  # two in a row: an outage
        dict(polled_at=t[8].isoformat(), status="unreachable"),
        dict(polled_at=t[9].isoformat(), status="ok", online=1, player_names=["A"]),
    ]
    with connection.connect(":memory:") as conn:
        ingest_server(conn, polls, None)
        sessions = table(conn, "core.player_sessions", "player, session_start")
        online = table(conn, "core.server_online", "changed_at")
    # A: 0..3 (count_only and unreachable polls neither end nor extend), gap 3→11 = 8 min > 5 min
    # splits; 11→20 = 9 min > 5 min splits again; 20→23 is one session. B: a single sighting.
    assert sessions == [("A", t[0], t[3]), ("A", t[5], t[5]), ("A", t[6], t[9]), ("B", t[4], t[4])]
    # The lost poll at t[2] writes no `down` (nor an `up` after it); t[7], t[8] are an outage
    # from the first of them (OUTAGE_POLLS = 2).
    assert online == [
        (t[0], "up", 1, None),
        (t[1], "up", 120, None),
        (t[3], "up", 1, None),
        (t[5], "up", 2, None),
        (t[6], "up", 1, None),
        (t[7], "down", None, None),
        (t[9], "up", 1, None),
    ]


def test_an_outage_that_grows_across_batches_is_dated_from_its_first_failed_poll():
    """A failed poll ends one batch (no outage yet); the next batch brings the second one:
    the outage is then dated back to the first, exactly as a full rebuild has it."""
    t = [START + timedelta(minutes=m) for m in range(5)]
    polls = [
        dict(polled_at=t[0].isoformat(), status="ok", online=3, player_names=["A"]),
        dict(polled_at=t[1].isoformat(), status="unreachable"),
        dict(polled_at=t[2].isoformat(), status="unreachable"),
        dict(polled_at=t[3].isoformat(), status="unreachable"),
        dict(polled_at=t[4].isoformat(), status="ok", online=3, player_names=["A"]),
    ]
    with connection.connect(":memory:") as incremental, connection.connect(":memory:") as full:
        for batch in (polls[:2], polls[2:3], polls[3:]):
            ingest_server(incremental, batch, window_of(server_polls_frame(batch)))
            if batch is polls[:2]:
                first = table(incremental, "core.server_online", "changed_at")
                assert first == [(t[0], "up", 3, None)]  # one failure so far: no outage
        ingest_server(full, polls, None)
        grown = table(incremental, "core.server_online", "changed_at")
        assert grown == table(full, "core.server_online", "changed_at")
    assert grown == [(t[0], "up", 3, None), (t[1], "down", None, None), (t[4], "up", 3, None)]


def old_service_files(folder: Path, prefix: Connection, worlds: bool) -> None:
    """Write what the original service would have recorded of the prefix's polls: its
    sessions, and its counts (change points while up: it wrote no row while down)."""
    if worlds:
        write_file(
            folder / "world_sessions.db",
            # The old files may hold names with colour codes: the import cleans them.
            [("{00FF00}" + n, s, e) for n, s, e in table(prefix, "core.world_sessions", "name")],
        )
        rows = table(prefix, "core.worlds_online", "name, saved_at")
        write_file(folder / "worlds_online.db", [(n, p, st_, ss, at) for n, p, st_, ss, at in rows])
    else:
        write_file(folder / "sessions.db", table(prefix, "core.player_sessions", "player"))
        rows = table(prefix, "core.server_online", "changed_at")
        write_file(folder / "online.db", [(o, at) for at, status, o, _ in rows if status == "up"])


def import_old(conn: Connection, folder: Path) -> None:
    options = ImportOptions("UTC", date(2020, 1, 6), SessionGaps(PLAYER_GAP, WORLD_GAP))
    import_folder(conn, folder, options, "test", START)


def assert_import_joins_live_polls(
    warehouses, records, data, ingest, frame_of, tables, worlds: bool
):
    """The old service recorded the first polls; tai polls the rest, in batches in any order,
    the import falling anywhere among them: `tables` are exactly what polling everything
    gives, and a full rebuild keeps them so."""
    cut = data.draw(st.integers(1, len(records) - 1))
    batches = batches_of(data.draw, records[cut:])
    import_at = data.draw(st.integers(0, len(batches)))
    prefix, combined, full = warehouses()
    with tempfile.TemporaryDirectory() as folder:
        ingest(prefix, records[:cut], None)
        old_service_files(Path(folder), prefix, worlds=worlds)
        for i, batch in enumerate([*batches, None]):
            if i == import_at:
                import_old(combined, Path(folder))
            if batch is not None:
                ingest(combined, batch, window_of(frame_of(batch)))
        ingest(full, records, None)
        compared = dict(tables)
        if not worlds and any(record["status"] == "unreachable" for record in records[:cut]):
            # The old files hold no row for a failed poll, so they cannot know an outage, nor
            # a failed poll that an outage continuing after the cut would have counted.
            del compared["core.server_online"]
        for qualified, order in compared.items():
            assert table(combined, qualified, order) == table(full, qualified, order)
        ingest(combined, [], None)  # rebuild_derived_job: everything recomputed
        for qualified, order in compared.items():
            assert table(combined, qualified, order) == table(full, qualified, order)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polls=st.lists(server_poll, min_size=2, max_size=30), data=st.data())
def test_imported_history_joins_live_polls_as_if_it_had_been_polled(polls, data, warehouses):
    """Sessions, and the online series when the old stretch had no failed poll."""
    assert_import_joins_live_polls(
        warehouses,
        server_records(polls),
        data,
        ingest_server,
        server_polls_frame,
        SERVER_TABLES,
        False,
    )


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polls=st.lists(world_poll, min_size=2, max_size=30), data=st.data())
def test_imported_world_history_joins_live_polls_as_if_it_had_been_polled(polls, data, warehouses):
    """World sessions and the worlds' history."""
    assert_import_joins_live_polls(
        warehouses, world_records(polls), data, ingest_worlds, world_polls_frame, WORLD_TABLES, True
    )
