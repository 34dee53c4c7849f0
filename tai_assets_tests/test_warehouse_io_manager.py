"""The warehouse: DDL creation and migration, and every write mode of the IO manager, on a real
DuckDB file through real `materialize()` runs."""

import shutil
import subprocess
import sys
from datetime import datetime

import dagster as dg
import duckdb
import polars as pl
import pytest

from tai_assets.common.sql_files import DDL_DIR
from tai_assets.core.changes import TableChange
from tai_assets.warehouse import connection
from tai_assets.warehouse.io_manager import WRITE_MODE_KEY, TaiWarehouseIOManager

SCORES_DDL = """
CREATE SCHEMA IF NOT EXISTS test;
CREATE TABLE IF NOT EXISTS test.scores (
    player  VARCHAR NOT NULL PRIMARY KEY,
    score   INTEGER NOT NULL,
    note    VARCHAR
);
CREATE TABLE IF NOT EXISTS test.daily (
    day     DATE    NOT NULL,
    player  VARCHAR NOT NULL,
    score   INTEGER NOT NULL,
    PRIMARY KEY (day, player)
);
"""


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    with connection.connect(path) as conn:
        conn.execute(SCORES_DDL)
    return path


def scores_asset(mode: str, frame_or_change):
    @dg.asset(
        name="scores",
        metadata={"schema": "test", WRITE_MODE_KEY: mode},
        dagster_type=dg.Any if isinstance(frame_or_change, TableChange) else None,
    )
    def scores():
        return frame_or_change

    return scores


def materialize_scores(database: str, mode: str, value, raise_on_error=True):
    return dg.materialize(
        [scores_asset(mode, value)],
        resources={"io_manager": TaiWarehouseIOManager(database=database)},
        raise_on_error=raise_on_error,
    )


def table(database: str, name: str = "test.scores") -> list[tuple]:
    with duckdb.connect(database, read_only=True) as conn:
        return conn.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()


def test_ddl_creates_every_table_idempotently(tmp_path):
    path = str(tmp_path / "w.duckdb")
    with duckdb.connect(path) as conn:
        first = connection.apply_ddl(conn)
        second = connection.apply_ddl(conn)
        tables = {
            f"{s}.{t}"
            for s, t in conn.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()"
            ).fetchall()
        }
    assert first == second
    assert {
        "raw.raw_server_polls",
        "raw.raw_world_polls",
        "core.server_online",
        "core.player_sessions",
        "core.world_sessions",
        "core.worlds_online",
    } <= tables


def test_a_warehouse_made_before_the_world_session_stats_gets_them_with_the_ddl(tmp_path):
    path = str(tmp_path / "w.duckdb")
    sessions = [("Race", datetime(2026, 1, 5, 12), datetime(2026, 1, 5, 14))]
    points = [("Race", 3, datetime(2026, 1, 5, 12)), ("Race", 5, datetime(2026, 1, 5, 13))]
    with duckdb.connect(path) as conn:
        connection.apply_ddl(conn)
        conn.executemany("INSERT INTO core.world_sessions VALUES (?, ?, ?)", sessions)
        conn.executemany("INSERT INTO core.worlds_online VALUES (?, ?, NULL, NULL, ?)", points)
        conn.execute("DROP TABLE core.world_session_stats")  # as before the table existed
        connection.apply_ddl(conn)
        stats = conn.execute(
            "SELECT name, points, peak_players, score, player_hours FROM core.world_session_stats"
        ).fetchall()
    # 3 players for the first hour, then 5: 8 player-hours; the score counts players beyond the
    # first from the session start: 0 at the first point, then (2 + 4) / 2 over the hour = 3.
    assert stats == [("Race", 2, 5, pytest.approx(3.0), pytest.approx(8.0))]


def test_a_process_applies_the_ddl_only_when_the_warehouse_records_other_texts(
    tmp_path, monkeypatch
):
    path = str(tmp_path / "w.duckdb")
    history = "SELECT file_name, applied_at FROM core.ddl_history ORDER BY 1"
    with connection.connect(path) as conn:
        applied = conn.execute(history).fetchall()
    assert [name for name, _ in applied] == [p.name for p in sorted(DDL_DIR.glob("*.sql"))]

    monkeypatch.setattr(connection, "_applied", set())  # as in the next run's fresh process
    with connection.connect(path) as conn:
        assert conn.execute(history).fetchall() == applied  # nothing applied again
        conn.execute(
            "UPDATE core.ddl_history SET checksum = 'older' WHERE file_name = ?", [applied[0][0]]
        )

    monkeypatch.setattr(connection, "_applied", set())
    with connection.connect(path) as conn:
        again = conn.execute(history).fetchall()
        assert connection.ddl_is_current(conn, connection.ddl_checksums())
    assert all(when > before for (_, when), (_, before) in zip(again, applied, strict=True))


def test_ddl_declares_exact_types_keys_and_not_null(tmp_path):
    with connection.connect(str(tmp_path / "w.duckdb")) as conn:
        columns = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw' AND table_name = 'raw_server_polls'"
            ).fetchall()
        )
        key = conn.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = 'player_sessions' AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()[0][0]
        with pytest.raises(duckdb.ConstraintException):
            conn.execute("INSERT INTO core.player_sessions VALUES (NULL, now(), now())")
    assert columns["polled_at"] == "TIMESTAMP"
    assert columns["player_names"] == "VARCHAR[]"
    assert key == ["player", "session_start"]


def test_migration_adds_a_column_without_losing_rows(tmp_path):
    ddl = tmp_path / "ddl"
    shutil.copytree(DDL_DIR, ddl)
    path = str(tmp_path / "w.duckdb")
    with duckdb.connect(path) as conn:
        connection.apply_ddl(conn, sorted(ddl.glob("*.sql")))
        conn.execute(
            "INSERT INTO core.player_sessions VALUES ('Vasya', '2026-01-01', '2026-01-02')"
        )
    (ddl / "90_later_release.sql").write_text(
        "ALTER TABLE core.player_sessions ADD COLUMN IF NOT EXISTS platform VARCHAR;\n"
    )
    with duckdb.connect(path) as conn:
        connection.apply_ddl(conn, sorted(ddl.glob("*.sql")))
        connection.apply_ddl(conn, sorted(ddl.glob("*.sql")))
        rows = conn.execute("SELECT player, platform FROM core.player_sessions").fetchall()
    assert rows == [("Vasya", None)]


def test_a_table_whose_primary_key_was_dropped_is_rebuilt_with_its_rows(tmp_path):
    """core.players_snapshot had PRIMARY KEY (snapshot_week, id) before 2026-12; DuckDB cannot
    drop a key in place, so the migration rebuilds the table and keeps its rows."""
    ddl = tmp_path / "ddl"
    shutil.copytree(DDL_DIR, ddl)
    snapshot_ddl = ddl / "30_snapshot.sql"
    current = snapshot_ddl.read_text()
    snapshot_ddl.write_text(
        current.replace(
            "    extra            JSON  ",
            "    extra            JSON, PRIMARY KEY (snapshot_week, id)  ",
            1,
        )
    )
    path = str(tmp_path / "w.duckdb")
    with duckdb.connect(path) as conn:
        connection.apply_ddl(conn, sorted(ddl.glob("*.sql")))
        conn.execute(
            "INSERT INTO core.players_snapshot (snapshot_week, snapshot_time, id, login) "
            "VALUES ('2026-11-02', '2026-11-09 00:00:05', 1, 'Anna')"
        )
        assert connection.check_constraints(conn)[("core", "players_snapshot")]
    snapshot_ddl.write_text(current)
    with duckdb.connect(path) as conn:
        connection.apply_ddl(conn, sorted(ddl.glob("*.sql")))
        assert connection.check_constraints(conn)[("core", "players_snapshot")] == set()
        rows = conn.execute("SELECT id, login FROM core.players_snapshot").fetchall()
    assert rows == [(1, "Anna")]


def test_replace_matches_columns_by_name_and_reports_metadata(database):
    frame = pl.DataFrame({"score": [3, 5], "player": ["b", "a"]})
    result = materialize_scores(database, "replace", frame)
    assert table(database) == [("a", 5, None), ("b", 3, None)]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["rows_written"].value == 2
    assert metadata["dagster/row_count"].value == 2
    assert "| score | player |" in metadata["preview"].value
    materialize_scores(database, "replace", pl.DataFrame({"player": ["c"], "score": [1]}))
    assert table(database) == [("c", 1, None)]


def test_failed_write_keeps_what_the_table_had(database):
    materialize_scores(database, "replace", pl.DataFrame({"player": ["a"], "score": [1]}))
    bad = pl.DataFrame({"player": ["x", "y"], "score": [1, None]})  # NOT NULL violated
    result = materialize_scores(database, "replace", bad, raise_on_error=False)
    assert not result.success
    assert table(database) == [("a", 1, None)]


def test_connection_is_released_after_a_failed_write(database):
    bad = pl.DataFrame({"player": ["x"], "score": [None]}, schema={"player": str, "score": int})
    assert not materialize_scores(database, "replace", bad, raise_on_error=False).success
    # Another process can only take DuckDB's write lock if this one closed its connection.
    probe = f"import duckdb; duckdb.connect({database!r}).execute('CHECKPOINT')"
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


def test_unknown_column_and_undeclared_table_are_clear_errors(database):
    with pytest.raises(Exception, match="no column"):
        materialize_scores(database, "replace", pl.DataFrame({"player": ["a"], "rank": [1]}))

    @dg.asset(metadata={"schema": "test"})
    def not_in_ddl() -> pl.DataFrame:
        return pl.DataFrame({"a": [1]})

    with pytest.raises(Exception, match="declare it in sql/ddl"):
        dg.materialize(
            [not_in_ddl], resources={"io_manager": TaiWarehouseIOManager(database=database)}
        )


def test_append_skips_rows_whose_key_exists(database):
    materialize_scores(database, "append", pl.DataFrame({"player": ["a", "b"], "score": [1, 2]}))
    materialize_scores(database, "append", pl.DataFrame({"player": ["b", "c"], "score": [9, 3]}))
    assert table(database) == [("a", 1, None), ("b", 2, None), ("c", 3, None)]


def test_merge_upserts_on_the_primary_key(database):
    materialize_scores(
        database, "merge", pl.DataFrame({"player": ["a", "b"], "score": [1, 2], "note": ["x", "y"]})
    )
    materialize_scores(
        database,
        "merge",
        pl.DataFrame({"player": ["b", "c"], "score": [9, 3], "note": ["z", None]}),
    )
    assert table(database) == [("a", 1, "x"), ("b", 9, "z"), ("c", 3, None)]


def test_table_change_deletes_and_upserts_in_one_transaction(database):
    materialize_scores(database, "merge", pl.DataFrame({"player": ["a", "b"], "score": [1, 2]}))
    change = TableChange(
        upsert=pl.DataFrame({"player": ["a", "d"], "score": [7, 4]}),
        delete_keys=pl.DataFrame({"player": ["a", "b"]}),
    )
    result = materialize_scores(database, "merge", change)
    assert table(database) == [("a", 7, None), ("d", 4, None)]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["rows_superseded"].value == 2


def daily_assets(frame_for_day):
    partitions = dg.DailyPartitionsDefinition(start_date="2026-01-01")

    @dg.asset(
        partitions_def=partitions,
        metadata={"schema": "test", WRITE_MODE_KEY: "replace_partition", "partition_expr": "day"},
    )
    def daily(context: dg.AssetExecutionContext) -> pl.DataFrame:
        return frame_for_day(context.partition_key)

    @dg.asset(partitions_def=partitions, io_manager_key="mem")
    def daily_total(daily: pl.DataFrame) -> int:
        return int(daily["score"].sum())

    return daily, daily_total


def test_partition_replace_touches_only_its_partition_and_reads_back(database):
    def frame(day: str, scores=(1, 2)) -> pl.DataFrame:
        date = datetime.strptime(day, "%Y-%m-%d").date()
        return pl.DataFrame({"day": [date, date], "player": ["a", "b"], "score": list(scores)})

    daily, daily_total = daily_assets(frame)
    io = {"io_manager": TaiWarehouseIOManager(database=database)}
    for day in ("2026-01-01", "2026-01-02"):
        dg.materialize([daily], partition_key=day, resources=io)
    daily, daily_total = daily_assets(lambda day: frame(day, (10, 20)))
    result = dg.materialize(
        [daily, daily_total],
        partition_key="2026-01-02",
        resources={**io, "mem": dg.mem_io_manager},
    )
    rows = table(database, "test.daily")
    assert [r[2] for r in rows] == [1, 2, 10, 20]
    # The downstream asset loaded only its partition from DuckDB (duckdb 2 has no .arrow()).
    assert result.output_for_node("daily_total") == 30


def test_asset_loads_back_as_a_polars_frame(database):
    materialize_scores(database, "replace", pl.DataFrame({"player": ["a"], "score": [1]}))

    @dg.asset(deps=[], metadata={"schema": "test"}, name="scores")
    def scores() -> pl.DataFrame:
        return pl.DataFrame({"player": ["a", "b"], "score": [1, 2]})

    defs = dg.Definitions(
        assets=[scores], resources={"io_manager": TaiWarehouseIOManager(database=database)}
    )
    loaded = defs.load_asset_value("scores")
    assert isinstance(loaded, pl.DataFrame)
    assert loaded.sort("player").rows() == [("a", 1, None)]


def test_the_readme_backup_exports_read_only_and_restores_with_keys(tmp_path):
    """README, production checklist: EXPORT DATABASE from a read-only connection, IMPORT into
    a fresh file, and tai opens the restored file with its keys and checks in place."""
    original, restored = str(tmp_path / "tai.duckdb"), str(tmp_path / "restored.duckdb")
    with connection.connect(original) as conn:
        conn.execute(
            "INSERT INTO raw.raw_server_polls (polled_at, status, online) "
            "VALUES ('2026-01-01 10:00', 'ok', 3), ('2026-01-01 10:01', 'unreachable', NULL)"
        )
    backup = tmp_path / "backup"
    with duckdb.connect(original, read_only=True) as conn:
        conn.execute(f"EXPORT DATABASE '{backup}' (FORMAT parquet)")
    with duckdb.connect(restored) as conn:
        conn.execute(f"IMPORT DATABASE '{backup}'")
    with connection.connect(restored) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_server_polls").fetchall() == [(2,)]
        with pytest.raises(duckdb.ConstraintException):
            conn.execute(
                "INSERT INTO raw.raw_server_polls (polled_at, status) "
                "VALUES ('2026-01-01 10:00', 'ok')"
            )
