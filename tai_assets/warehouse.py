"""The DuckDB warehouse: connecting to the file and creating every table from `sql/ddl/`."""

import hashlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tai_assets.sql_files import ddl_files

logger = logging.getLogger(__name__)

_applied: set[tuple[str, str]] = set()
_applied_lock = threading.Lock()
LOCK_WAIT_ENV = "TAI_WAREHOUSE_LOCK_WAIT_SECONDS"
LOCK_CONFLICT = "Could not set lock"


def lock_wait_seconds() -> float:
    """Return how long opening the warehouse waits for another process's lock (default 60 s)."""
    return float(os.environ.get(LOCK_WAIT_ENV, "60"))


def open_waiting_for_lock(database: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Return a connection to the file, retrying while another process holds its lock.

    DuckDB lets one process open a file for writing. The `warehouse` pool queues tai's own
    writers, but its SQLite slot claim is not atomic between two runs started in the same
    instant (the two sensors launch their batches together), and a person's read-only
    session holds the lock too. Waiting a little turns those collisions into a short delay
    instead of a failed run; after TAI_WAREHOUSE_LOCK_WAIT_SECONDS the lock error is raised.
    """
    deadline = time.monotonic() + lock_wait_seconds()
    for attempt in itertools.count():
        try:
            return duckdb.connect(database, read_only=read_only)
        except duckdb.IOException as error:
            left = deadline - time.monotonic()
            if LOCK_CONFLICT not in str(error) or left <= 0:
                raise
            if attempt == 0:
                logger.warning("waiting for the warehouse lock (%s)", error)
            time.sleep(min(0.1 * 2**attempt, 2.0, left))


def ddl_fingerprint() -> str:
    """Return a hash over all DDL files, so a process re-applies DDL only when it changed."""
    digest = hashlib.sha256()
    for path in ddl_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def apply_ddl(conn: duckdb.DuckDBPyConnection, files: list[Path] | None = None) -> list[str]:
    """Create or migrate every warehouse table from `sql/ddl/` (or `files`), in one transaction.

    Every statement is idempotent (`CREATE ... IF NOT EXISTS`, `ADD COLUMN IF NOT EXISTS`), so
    running this on an existing warehouse only adds what is new. Returns the files applied.
    """
    files = ddl_files() if files is None else files
    applied = []
    conn.begin()
    try:
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))
            applied.append(path.name)
        now = datetime.now(UTC).replace(tzinfo=None)
        for path in files:
            checksum = hashlib.sha256(path.read_bytes()).hexdigest()
            conn.execute(
                "INSERT INTO core.ddl_history (file_name, checksum, applied_at) VALUES (?, ?, ?) "
                "ON CONFLICT (file_name) DO UPDATE SET checksum = excluded.checksum, "
                "applied_at = excluded.applied_at",
                [path.name, checksum, now],
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return applied


def ensure_warehouse(conn: duckdb.DuckDBPyConnection, database: str) -> None:
    """Apply the DDL once per process and database file (again if the DDL files changed)."""
    if database == ":memory:":
        apply_ddl(conn)
        return
    key = (str(Path(database).resolve()), ddl_fingerprint())
    with _applied_lock:
        if key in _applied:
            return
        apply_ddl(conn)
        _applied.add(key)


@contextmanager
def connect(database: str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to the warehouse file (tables created), closed even after an error."""
    if database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    conn = open_waiting_for_lock(database, read_only)
    try:
        if not read_only:
            ensure_warehouse(conn, database)
        yield conn
    finally:
        conn.close()
