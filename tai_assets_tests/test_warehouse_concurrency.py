"""DuckDB takes one writer process at a time: tai's writers take turns on the file's own lock
(opening the file waits a while for another process's lock), so two runs started together
both succeed, and a writer killed while it holds the file leaves it free."""

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tai_assets.settings import PROJECT_DIR
from tai_assets.warehouse import connection


def start_writers(
    database: str, dagster_home: Path, hold_seconds: float = 3, lock_wait_seconds: float = 60
) -> list[subprocess.Popen]:
    env = {
        "DAGSTER_HOME": str(dagster_home),
        "PATH": "/usr/bin:/bin",
        "TAI_TEST_HOLD_SECONDS": str(hold_seconds),
        "TAI_WAREHOUSE_LOCK_WAIT_SECONDS": str(lock_wait_seconds),
    }
    command = [sys.executable, "-m", "tai_assets_tests.support.slow_writer", database]
    return [
        subprocess.Popen(
            [*command, writer],
            env=env,
            cwd=PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for writer in ("first", "second")
    ]


def finish(processes: list[subprocess.Popen]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=120), p.stdout.read()) for p in processes]


def empty_warehouse_and_home(tmp_path, home_name: str) -> tuple[str, Path]:
    """Create a warehouse with its tables and an empty DAGSTER_HOME folder."""
    database = str(tmp_path / "w.duckdb")
    with connection.connect(database):
        pass
    home = tmp_path / home_name
    home.mkdir()
    return database, home


def test_two_runs_started_together_both_succeed(tmp_path):
    database, home = empty_warehouse_and_home(tmp_path, "dagster_home")
    (home / "dagster.yaml").symlink_to(PROJECT_DIR / "deploy" / "dagster.yaml")
    subprocess.run(
        [sys.executable, "-m", "tai_assets.instance.prepare"],
        env={"DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin"},
        check=True,
        cwd=PROJECT_DIR,
    )

    outcomes = finish(start_writers(database, home))

    assert [code for code, _ in outcomes] == [0, 0], outcomes
    # Each holds the file for 3 s: one of them waited for the other's lock.
    assert any("waiting for the warehouse lock" in log for _, log in outcomes), outcomes
    with duckdb.connect(database, read_only=True) as conn:
        players = conn.execute("SELECT player FROM core.player_sessions ORDER BY 1").fetchall()
    assert players == [("first",), ("second",)]


def test_without_waiting_for_the_lock_the_second_writer_fails(tmp_path):
    """The control: without waiting for the file's lock, the same two runs collide."""
    database, home = empty_warehouse_and_home(tmp_path, "plain_home")
    # Create the plain instance's storage first, so the writers race only for the warehouse.
    subprocess.run(
        [sys.executable, "-c", "import dagster as dg; dg.DagsterInstance.get()"],
        env={"DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin"},
        check=True,
        cwd=PROJECT_DIR,
    )

    # Each writer holds the file long enough that their holds overlap even on a busy machine.
    outcomes = finish(start_writers(database, home, hold_seconds=12, lock_wait_seconds=0))

    assert sorted(code for code, _ in outcomes) == [0, 1], outcomes
    assert any("Could not set lock" in log for _, log in outcomes), outcomes


HOLDER = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print(flush=True); time.sleep(3)"
)


@pytest.mark.parametrize("wait_seconds", [0, 60])
def test_opening_the_warehouse_waits_for_another_process_lock(tmp_path, wait_seconds):
    database, _ = empty_warehouse_and_home(tmp_path, "unused_home")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database], stdout=subprocess.PIPE, text=True
    )
    holder.stdout.readline()  # the holder has the file open
    started = time.monotonic()
    try:
        if wait_seconds == 0:
            locked = pytest.raises(duckdb.IOException, match="Could not set lock")
            with locked, connection.connect(database, lock_wait_seconds=0):
                pass
        else:
            with connection.connect(database, lock_wait_seconds=60) as conn:
                assert conn.execute("SELECT count(*) FROM core.player_sessions").fetchone() == (0,)
            assert time.monotonic() - started > 1  # it waited for the holder to let go
    finally:
        holder.wait(timeout=30)


KILLED_HOLDER = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print(flush=True); time.sleep(600)"
)


def test_a_writer_killed_while_holding_the_file_leaves_it_free(tmp_path):
    """The kernel releases DuckDB's file lock when its holder dies: kill -9 cannot leak it."""
    database, _ = empty_warehouse_and_home(tmp_path, "unused_home")
    holder = subprocess.Popen(
        [sys.executable, "-c", KILLED_HOLDER, database], stdout=subprocess.PIPE, text=True
    )
    holder.stdout.readline()
    with pytest.raises(duckdb.IOException, match="Could not set lock"):
        duckdb.connect(database).close()
    holder.kill()
    holder.wait(timeout=30)
    with connection.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM core.player_sessions").fetchone() == (0,)
