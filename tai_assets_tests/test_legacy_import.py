"""The import of the original service's files (`legacy_history`): real DuckDB files in the old
schema, a real warehouse file, a real Dagster instance; counts, idempotency, a newer copy, the
odd files, a rebuild, the analytics on top, and a kill -9 in the middle of an import."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tai_assets.common.sql_files import ddl_files
from tai_assets.defs.analytics.assets import daily_activity
from tai_assets.defs.analytics.resources import AnalyticsSettings, TelegramResource
from tai_assets.defs.history.assets import legacy_history
from tai_assets.defs.polling.assets import POLLING_ASSETS
from tai_assets.defs.polling.resources import PollingSettings, PollSpoolResource
from tai_assets.defs.resources import WarehouseResource
from tai_assets.legacy.cli import import_run_config
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager
from tai_assets_tests.support.legacy_files import (
    OLD_PLAYERS_DDL,
    synthetic_history,
    write_file,
)
from tai_assets_tests.support.polling import spool_path_beside, spool_polls

ROOT = Path(__file__).resolve().parent.parent
T = datetime(2025, 3, 3, 12, 0)  # a Monday


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def resources(database: str) -> dict:
    return {
        "warehouse": WarehouseResource(database=database),
        "io_manager": TaiWarehouseIOManager(database=database),
        "polling": PollingSettings(),
        "spool": PollSpoolResource(path=spool_path_beside(database)),
        "analytics_settings": AnalyticsSettings(),
        "telegram": TelegramResource(),
    }


def run_import(database: str, folder, instance, timezone: str = "UTC"):
    return dg.materialize(
        [legacy_history],
        resources=resources(database),
        run_config=import_run_config(str(folder), timezone),
        instance=instance,
        raise_on_error=False,
    )


def rows(database: str, sql: str) -> list[tuple]:
    with duckdb.connect(database, read_only=True) as conn:
        return conn.execute(sql).fetchall()


def metadata(result) -> dict:
    (materialization,) = [
        m
        for m in result.asset_materializations_for_node("legacy_history")
        if m.asset_key == dg.AssetKey("legacy_history")
    ]
    return {k: v.value for k, v in materialization.metadata.items()}


def warehouse_state(database: str) -> dict[str, list[tuple]]:
    tables = [
        "raw.legacy_player_sessions",
        "raw.legacy_world_sessions",
        "raw.legacy_server_online",
        "raw.legacy_worlds_online",
        "core.player_sessions",
        "core.world_sessions",
        "core.server_online",
        "core.worlds_online",
        "core.players_snapshot",
    ]
    return {t: sorted(rows(database, f"SELECT * FROM {t}"), key=repr) for t in tables}


@pytest.fixture
def old_folder(tmp_path):
    """A hand-made old data/ folder whose every row's fate is known."""
    folder = tmp_path / "data"
    folder.mkdir()
    write_file(
        folder / "sessions.db",
        [
            ("Anna", at(0), at(60)),
            ("Anna", at(200), at(230)),
            ("Ivan", at(10), at(20)),
            ("Broken", at(50), None),  # no end: skipped
        ],
    )
    write_file(
        folder / "online.db",
        [(3, at(0)), (5, at(10)), (7, at(10)), (4, at(20)), (4, at(20))],  # 2 duplicates
    )
    write_file(
        folder / "world_sessions.db",
        [("{FF0000}Зомби Апокалипсис", at(0), at(90)), ("Мир #12", at(5), at(25))],
    )
    write_file(
        folder / "worlds_online.db",
        [
            ("{FF0000}Зомби Апокалипсис", 2, False, True, at(0)),
            ("{FF0000}Зомби Апокалипсис", 5, True, True, at(0)),  # same instant: 5 wins
            ("Зомби Апокалипсис", 3, False, True, at(30)),
            ("Мир #12", 1, True, False, at(5)),
        ],
    )
    warn = [{"admin": "Admin", "bantime": datetime(2025, 2, 1, 10), "reason": "dm"}]
    write_file(
        folder / "players.db",
        [
            (
                1,
                "Anna_Petrova",
                at(0),
                datetime(2020, 5, 1),
                0,
                0,
                1,
                None,
                [],
                T,
                10,
                True,
                None,
                1500,
            ),
            (2, "Ivan", at(10), datetime(2021, 1, 2), 1, 0, 0, "ok", warn, T, 0, False, None, 0),
            (
                1,
                "Anna_Petrova",
                at(200),
                datetime(2020, 5, 1),
                0,
                0,
                1,
                None,
                [],
                datetime(2025, 3, 10, 12),
                12,
                True,
                None,
                1600,
            ),
        ],
    )
    return folder


def test_import_counts_every_row_and_its_checks_pass(old_folder, tmp_path, instance):
    database = str(tmp_path / "tai.duckdb")
    result = run_import(database, old_folder, instance)
    assert result.success
    meta = metadata(result)
    assert (meta["sessions_read"], meta["sessions_imported"], meta["sessions_skipped"]) == (4, 3, 1)
    assert (meta["online_read"], meta["online_imported"], meta["online_merged"]) == (5, 3, 2)
    assert (meta["worlds_online_read"], meta["worlds_online_imported"]) == (4, 3)
    assert meta["worlds_online_merged"] == 1
    assert (meta["players_read"], meta["players_imported"]) == (3, 3)
    assert "| sessions.db | raw.legacy_player_sessions | 4 | 3 | 0 | 1 |" in meta["files"]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert len(checks) == 5 and all(checks.values()), checks
    # Sessions land in the core table as they were; names are cleaned of colour codes.
    assert rows(database, "SELECT * FROM core.player_sessions ORDER BY player, session_start") == [
        ("Anna", at(0), at(60)),
        ("Anna", at(200), at(230)),
        ("Ivan", at(10), at(20)),
    ]
    assert rows(database, "SELECT name FROM core.world_sessions ORDER BY name") == [
        ("Зомби Апокалипсис",),
        ("Мир #12",),
    ]
    # The bigger of two counts at one instant wins; unchanged counts make no change point.
    assert rows(
        database, "SELECT changed_at, status, online FROM core.server_online ORDER BY 1"
    ) == [
        (at(0), "up", 3),
        (at(10), "up", 7),
        (at(20), "up", 4),
    ]
    assert rows(
        database,
        "SELECT players, static FROM core.worlds_online WHERE name LIKE 'Зомби%' ORDER BY saved_at",
    ) == [(5, True), (3, False)]
    # Two snapshots, two weekly partitions, both marked materialized in the instance.
    assert rows(
        database,
        "SELECT snapshot_week, count(*) FROM core.players_snapshot GROUP BY 1 ORDER BY 1",
    ) == [(date(2025, 3, 3), 2), (date(2025, 3, 10), 1)]
    ivan = rows(
        database, "SELECT warn, chase_rating, playerid FROM core.players_snapshot WHERE id = 2"
    )
    assert ivan == [
        ([{"admin": "Admin", "bantime": datetime(2025, 2, 1, 10), "reason": "dm"}], 0.0, None)
    ]
    partitions = instance.get_materialized_partitions(dg.AssetKey("players_snapshot"))
    assert partitions == {"2025-03-03", "2025-03-10"}
    for key in ("player_sessions", "server_online", "world_sessions", "worlds_online"):
        assert instance.get_latest_materialization_event(dg.AssetKey(key)) is not None


def test_importing_twice_changes_nothing_and_a_newer_copy_adds_only_what_is_new(
    old_folder, tmp_path, instance
):
    database = str(tmp_path / "tai.duckdb")
    assert run_import(database, old_folder, instance).success
    before = warehouse_state(database)
    again = run_import(database, old_folder, instance)
    assert again.success and warehouse_state(database) == before
    meta = metadata(again)
    assert sum(meta[f"{f}_imported"] for f in ("sessions", "online", "players")) == 0
    assert meta["sessions_merged"] == 3
    # The old service kept running: Ivan's open session grew, Petr came, a new snapshot.
    with duckdb.connect(str(old_folder / "sessions.db")) as conn:
        conn.execute("UPDATE sessions SET session_end = ? WHERE player = 'Ivan'", [at(40)])
        conn.execute("INSERT INTO sessions VALUES ('Petr', ?, ?)", [at(300), at(320)])
    with duckdb.connect(str(old_folder / "players.db")) as conn:
        conn.execute(
            "INSERT INTO players (id, login, snapshot_time) VALUES (1, 'Anna_Petrova', ?), "
            "(3, 'Petr', ?)",
            [datetime(2025, 3, 17, 12), datetime(2025, 3, 17, 12)],
        )
    newer = run_import(database, old_folder, instance)
    meta = metadata(newer)
    assert (meta["sessions_imported"], meta["sessions_merged"], meta["sessions_grown"]) == (1, 3, 1)
    assert (meta["players_imported"], meta["players_merged"]) == (2, 3)
    assert rows(database, "SELECT session_end FROM core.player_sessions WHERE player = 'Ivan'") == [
        (at(40),)
    ]
    after = warehouse_state(database)
    for table in ("raw.legacy_server_online", "core.worlds_online", "core.world_sessions"):
        assert after[table] == before[table]
    assert len(after["core.players_snapshot"]) == len(before["core.players_snapshot"]) + 2


def test_an_old_players_file_with_other_columns_and_a_local_clock(tmp_path, instance):
    """players.db of an early version (no bonuspoints … chase_rating) with a column tai does
    not know, written by a machine on Moscow time; and players_temp.db left by a crash."""
    folder = tmp_path / "data"
    folder.mkdir()
    moscow_monday_2am = datetime(2025, 3, 3, 2, 0)  # = Sunday 23:00 UTC, the week before
    path = write_file(
        folder / "players.db",
        [(7, "Old_Timer", None, datetime(2019, 1, 1), 0, 0, 0, None, [], moscow_monday_2am)],
        ddl=OLD_PLAYERS_DDL,
    )
    with duckdb.connect(str(path)) as conn:
        conn.execute("ALTER TABLE players ADD COLUMN clan TEXT")
        conn.execute("UPDATE players SET clan = 'Wolves'")
    write_file(folder / "players_temp.db", [], ddl=OLD_PLAYERS_DDL)
    database = str(tmp_path / "tai.duckdb")
    result = run_import(database, folder, instance, timezone="Europe/Moscow")
    assert result.success
    ((week, taken, bonus, premium, extra),) = rows(
        database,
        "SELECT snapshot_week, snapshot_time, bonuspoints, premium, extra "
        "FROM core.players_snapshot",
    )
    assert (week, taken) == (date(2025, 2, 24), datetime(2025, 3, 2, 23, 0))
    assert (bonus, premium, json.loads(extra)) == (None, None, {"clan": "Wolves"})
    assert "players_temp.db: an unfinished crawl" in metadata(result)["files"]


def test_a_week_keeps_its_latest_snapshot_and_never_replaces_a_tai_crawl(tmp_path, instance):
    folder = tmp_path / "data"
    folder.mkdir()
    monday, friday = datetime(2025, 3, 3, 9), datetime(2025, 3, 7, 9)
    next_week = datetime(2025, 3, 10, 9)
    write_file(
        folder / "players.db",
        [
            (1, "A", None, None, 0, 0, 0, None, [], monday, 0, False, None, 0),
            (1, "A", None, None, 0, 0, 0, None, [], friday, 0, False, None, 0),
            (2, "B", None, None, 0, 0, 0, None, [], friday, 0, False, None, 0),
            (1, "A", None, None, 0, 0, 0, None, [], next_week, 0, False, None, 0),
        ],
    )
    database = str(tmp_path / "tai.duckdb")
    with duckdb.connect(database) as conn:  # a week tai crawled itself, before the import
        conn.execute(open_ddl())
        conn.execute(
            "INSERT INTO core.players_snapshot (snapshot_week, snapshot_time, id, login) "
            "VALUES ('2025-03-10', '2025-03-17 00:00:05', 9, 'Crawled')"
        )
    result = run_import(database, folder, instance)
    assert result.success
    meta = metadata(result)
    assert (meta["players_imported"], meta["players_skipped"]) == (2, 2)
    assert "older snapshots of a week" in meta["files"] and "weeks tai crawled" in meta["files"]
    assert rows(
        database,
        "SELECT snapshot_week, snapshot_time, login FROM core.players_snapshot ORDER BY 1, 3",
    ) == [
        (date(2025, 3, 3), friday, "A"),
        (date(2025, 3, 3), friday, "B"),
        (date(2025, 3, 10), datetime(2025, 3, 17, 0, 0, 5), "Crawled"),
    ]


def open_ddl() -> str:
    """The warehouse DDL, applied by hand to a file a test fills before tai opens it."""
    return "\n".join(path.read_text(encoding="utf-8") for path in ddl_files())


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("garbage", "not a DuckDB file"),
        ("foreign", "has no table 'online'"),
        ("missing_column", "lacks column(s) online_count"),
    ],
)
def test_a_corrupt_or_foreign_file_is_named_and_nothing_is_imported(
    old_folder, tmp_path, instance, damage, expected
):
    online = old_folder / "online.db"
    online.unlink()
    if damage == "garbage":
        online.write_bytes(os.urandom(20000))
    elif damage == "foreign":
        with duckdb.connect(str(online)) as conn:
            conn.execute("CREATE TABLE visits (page TEXT)")
    else:
        with duckdb.connect(str(online)) as conn:
            conn.execute("CREATE TABLE online (players INTEGER, queried_at TIMESTAMP)")
    database = str(tmp_path / "tai.duckdb")
    result = run_import(database, old_folder, instance)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert str(online) in message and expected in message and "nothing was imported" in message
    assert all(not table_rows for table_rows in warehouse_state(database).values())


def test_a_rebuild_keeps_imported_history_and_live_polls_continue_its_session(
    old_folder, tmp_path, instance
):
    """Anna's imported session ends at +230 min; tai then polls her at +250 and +260 (within
    the 45-minute gap): one session. A full rebuild from the raw polls gives the same."""
    database = str(tmp_path / "tai.duckdb")
    assert run_import(database, old_folder, instance).success

    polls = [
        {
            "polled_at": at(m).isoformat() + "+00:00",
            "status": "ok",
            "online": 1,
            "player_names": ["Anna"],
        }
        for m in (250, 260)
    ]
    spool_polls(database, "server", polls)
    ingest = dg.materialize(POLLING_ASSETS[:1], resources=resources(database), instance=instance)
    assert ingest.success
    expected = [("Anna", at(0), at(60)), ("Anna", at(200), at(260)), ("Ivan", at(10), at(20))]
    query = "SELECT * FROM core.player_sessions ORDER BY player, session_start"
    assert rows(database, query) == expected
    rebuild = dg.materialize(
        POLLING_ASSETS,
        selection=["player_sessions", "server_online", "world_sessions", "worlds_online"],
        resources=resources(database),
        run_config={
            "ops": {
                "ingest_server_polls": {"config": {"full_rebuild": True}},
                "ingest_world_polls": {"config": {"full_rebuild": True}},
            }
        },
        instance=instance,
    )
    assert rebuild.success
    assert rows(database, query) == expected
    assert len(rows(database, "SELECT * FROM core.world_sessions")) == 2
    assert rows(database, "SELECT online FROM core.server_online ORDER BY changed_at") == [
        (3,),
        (7,),
        (4,),
        (1,),
    ]


def test_the_analytics_see_imported_history(old_folder, tmp_path, instance):
    database = str(tmp_path / "tai.duckdb")
    assert run_import(database, old_folder, instance).success
    result = dg.materialize(
        [daily_activity],
        partition_key="2025-03-03",
        resources=resources(database),
        instance=instance,
    )
    assert result.success
    ((active, sessions, peak),) = rows(
        database, "SELECT active_players, sessions, peak_online FROM analytics.daily_activity"
    )
    assert (active, sessions, peak) == (2, 3, 7)


def test_kill_9_in_the_middle_of_an_import_leaves_nothing_half_imported(tmp_path):
    """`./tai import` killed while it writes: the warehouse holds nothing of it; run again, it
    holds every row the files hold."""
    folder = tmp_path / "data"
    served = synthetic_history(
        folder, datetime(2025, 1, 6), 120, 700, 700, 80, 1500, snapshots=17, accounts=100000
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "TAI_DATA_DIR": str(tmp_path / "warehouse"),
    }
    (tmp_path / "home").mkdir()
    database = str(tmp_path / "warehouse" / "tai.duckdb")
    command = [sys.executable, "-m", "tai_assets.legacy.cli", str(folder)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not any("STEP_START" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.05)
    # The step attaches the files and opens its transaction at once; the commit is logged as
    # "imported <folder>". Kill it well before that.
    time.sleep(1.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    reader.join(timeout=10)
    assert any("STEP_START" in line for line in lines)
    assert not any(f"imported {folder}" in line for line in lines), "killed after the commit"
    assert all(not table_rows for table_rows in warehouse_state(database).values())
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    held = {
        "sessions.db": "raw.legacy_player_sessions",
        "online.db": "raw.legacy_server_online",
        "world_sessions.db": "raw.legacy_world_sessions",
        "worlds_online.db": "raw.legacy_worlds_online",
        "players.db": "core.players_snapshot",
    }
    for file, table in held.items():
        assert rows(database, f"SELECT count(*) FROM {table}") == [(served[file],)], file
    assert "| players.db | core.players_snapshot |" in finished.stdout


@pytest.mark.slow
def test_backfill_queues_the_analytics_over_the_imported_range(old_folder, tmp_path, monkeypatch):
    """`./tai import` then `./tai backfill` on a real instance (the deployment's dagster.yaml):
    one backfill per analytics job over the imported days, and a retention run, queued."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").symlink_to(ROOT / "deploy" / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "TAI_DATA_DIR": str(tmp_path / "wh")}
    for module, args in (("cli", [str(old_folder)]), ("backfill", [])):
        done = subprocess.run(
            [sys.executable, "-m", f"tai_assets.legacy.{module}", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    assert "backfilling the analytics over 2025-03-03 .. 2025-03-03" in done.stdout
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        backfills = {b.job_name: b.partition_names for b in instance.get_backfills()}
        assert backfills == {
            "analytics_daily_job": ["2025-03-03"],
            "weekly_digest_job": ["2025-03-03"],
            "monthly_digest_job": ["2025-03-01"],
            "yearly_digest_job": ["2025"],
        }
        queued = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED]))
        expected = [*backfills, "player_retention_job", "analytics_refresh_job"]
        assert sorted(r.job_name for r in queued) == sorted(expected)


def test_a_players_file_without_its_key_keeps_one_row_per_id(tmp_path, instance):
    """A copy of players.db that lost its PRIMARY KEY (exported and reloaded, say) may repeat
    an id within a snapshot: one row per id is kept (the latest login), the other skipped."""
    folder = tmp_path / "data"
    folder.mkdir()
    taken = datetime(2025, 3, 5, 12)
    keyless = OLD_PLAYERS_DDL.replace(",\n    PRIMARY KEY (id, snapshot_time))", ")")
    write_file(
        folder / "players.db",
        [
            (5, "Before", datetime(2025, 3, 1), None, 0, 0, 0, None, [], taken),
            (5, "After", datetime(2025, 3, 4), None, 0, 0, 0, None, [], taken),
            (6, "Other", None, None, 0, 0, 0, None, [], taken),
        ],
        ddl=keyless,
    )
    database = str(tmp_path / "tai.duckdb")
    result = run_import(database, folder, instance)
    meta = metadata(result)
    assert (meta["players_imported"], meta["players_skipped"]) == (2, 1)
    assert "a repeated id" in meta["files"]
    assert rows(database, "SELECT id, login FROM core.players_snapshot ORDER BY id") == [
        (5, "After"),
        (6, "Other"),
    ]
