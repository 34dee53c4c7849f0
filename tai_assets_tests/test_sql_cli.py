"""`./tai sql`: a real warehouse file, the command in a child process, a lock really held by
another process."""

import os
import subprocess
import sys
import time
from datetime import datetime

import duckdb
import pytest

from tai_assets.warehouse import connection


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "tai.duckdb")
    with connection.connect(path) as conn:
        conn.executemany(
            "INSERT INTO core.player_sessions VALUES (?, ?, ?)",
            [
                ("Anna", datetime(2025, 6, 1, 10), datetime(2025, 6, 1, 11)),
                ("Ivan", datetime(2025, 6, 1, 12), datetime(2025, 6, 1, 14)),
            ],
        )
    return path


def sql(database: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TAI_WAREHOUSE_PATH": database, "TAI_WAREHOUSE_LOCK_WAIT_SECONDS": "30"}
    return subprocess.run(
        [sys.executable, "-m", "tai_assets.warehouse.sql_cli", *args],
        env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_query_prints_a_table_or_csv(database):
    query = "SELECT player, epoch(session_end - session_start) / 3600 AS hours "
    query += "FROM core.player_sessions ORDER BY player"
    csv = sql(database, query, "--csv")
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.strip().splitlines() == ["player,hours", "Anna,1.0", "Ivan,2.0"]
    table = sql(database, query)
    assert table.returncode == 0 and "player" in table.stdout and "Ivan" in table.stdout


def test_nothing_can_be_written(database):
    done = sql(database, "DELETE FROM core.player_sessions")
    assert done.returncode == 1 and "read-only" in done.stderr
    with duckdb.connect(database, read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM core.player_sessions").fetchall() == [(2,)]


def test_a_query_waits_for_a_writer_instead_of_failing(database):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(3)", database],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    done = sql(database, "SELECT count(*) AS sessions FROM core.player_sessions", "--csv")
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["sessions", "2"]
    assert waited >= 1.5  # it could not open the file until the writer had gone


def test_the_prompt_runs_statements_ending_in_a_semicolon(database):
    done = sql(database, stdin="SELECT count(*) AS n\nFROM core.player_sessions;\nSELEC;\n.quit\n")
    assert done.returncode == 0
    assert "n" in done.stdout and "2" in done.stdout
    assert "error:" in done.stderr  # the bad statement is reported, the prompt goes on
