"""The DuckDB warehouse: connecting to the file and creating every table from `sql/ddl/`."""

import contextlib
import hashlib
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tai_assets.common.sql_files import ddl_files
from tai_assets.warehouse.storage_errors import describe_os_error

logger = logging.getLogger(__name__)

_applied: set[tuple[str, str]] = set()
_applied_lock = threading.Lock()
DEFAULT_LOCK_WAIT_SECONDS = 300.0  # TAI_WAREHOUSE_LOCK_WAIT_SECONDS
LOCK_CONFLICT = "Could not set lock"


class WarehouseUnavailable(RuntimeError):
    """The warehouse file cannot be written: the message says why and where ("disk full: …",
    "read-only: …")."""


def explain_storage_error(error: BaseException, database: str) -> BaseException:
    """Return a WarehouseUnavailable naming the cause for a full disk or a read-only folder,
    else `error` itself."""
    if not isinstance(error, OSError | duckdb.Error):
        return error
    described = describe_os_error(error, database)
    if described.startswith(("disk full:", "read-only:")):
        return WarehouseUnavailable(described)
    return error


def open_waiting_for_lock(
    database: str, read_only: bool, lock_wait_seconds: float
) -> duckdb.DuckDBPyConnection:
    """Return a connection to the file, retrying while another process holds its lock.

    DuckDB lets one process open a file for writing, and that file lock is how tai's writers
    take turns: the kernel releases it when its holder dies, so a killed run cannot leave the
    warehouse locked (a Dagster pool slot held by a dead process stays taken). A person's
    read-only session holds the lock too. The wait sleeps between attempts (from 0.1 s up to
    2 s), so waiting costs no CPU; after `lock_wait_seconds`
    (TAI_WAREHOUSE_LOCK_WAIT_SECONDS) the lock error is raised.
    """
    deadline = time.monotonic() + lock_wait_seconds
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


def ddl_checksums(files: list[Path] | None = None) -> dict[str, str]:
    """Return each DDL file's name → the SHA-256 of its text (what `core.ddl_history` keeps)."""
    files = ddl_files() if files is None else files
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def ddl_is_current(conn: duckdb.DuckDBPyConnection, checksums: dict[str, str]) -> bool:
    """Return whether the warehouse records every DDL file as applied with its present text
    (`checksums`, from `ddl_checksums`).

    Each run is a process of its own, so "once per process" alone would apply the whole DDL
    (and build a scratch database to compare constraints) at every run: a fifth of a run's CPU.
    """
    try:
        rows = dict(conn.execute("SELECT file_name, checksum FROM core.ddl_history").fetchall())
    except duckdb.CatalogException:
        return False  # a new warehouse
    return all(rows.get(name) == checksum for name, checksum in checksums.items())


def check_constraints(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    """Return the CHECK, PRIMARY KEY and UNIQUE constraints of every table, by (schema, table)
    (a table without any maps to an empty set)."""
    rows = conn.execute(
        "SELECT t.schema_name, t.table_name, c.constraint_type || ' ' || c.constraint_text "
        "FROM duckdb_tables() AS t LEFT JOIN duckdb_constraints() AS c "
        "ON c.database_name = t.database_name AND c.schema_name = t.schema_name "
        "AND c.table_name = t.table_name "
        "AND c.constraint_type IN ('CHECK', 'PRIMARY KEY', 'UNIQUE') "
        "WHERE t.database_name = current_database()"
    ).fetchall()
    checks: dict[tuple[str, str], set[str]] = {}
    for schema, table, text in rows:
        constraints = checks.setdefault((schema, table), set())
        if text is not None:
            constraints.add(text)
    return checks


def declared_checks(files: list[Path]) -> dict[tuple[str, str], set[str]]:
    """Return the constraints the DDL files declare (applied to a scratch database)."""
    with duckdb.connect() as scratch:
        for path in files:
            scratch.execute(path.read_text(encoding="utf-8"))
        return check_constraints(scratch)


def rebuild_tables_with_changed_checks(
    conn: duckdb.DuckDBPyConnection, files: list[Path]
) -> list[str]:
    """Rebuild every table whose constraints differ from its DDL; return their names.

    DuckDB cannot alter a CHECK constraint (a new poll status, say) or drop a primary key, so
    such a table is renamed, created anew from the DDL and filled back by column name, inside
    the caller's transaction.
    """
    declared, current = declared_checks(files), check_constraints(conn)
    rebuilt = []
    for (schema, table), checks in sorted(declared.items()):
        if (schema, table) not in current or current[(schema, table)] == checks:
            continue
        old = f"{table}__before_rebuild"
        conn.execute(f"ALTER TABLE {schema}.{table} RENAME TO {old}")
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))
        conn.execute(f"INSERT INTO {schema}.{table} BY NAME SELECT * FROM {schema}.{old}")
        conn.execute(f"DROP TABLE {schema}.{old}")
        rebuilt.append(f"{schema}.{table}")
        logger.warning("rebuilt %s.%s: its constraints changed", schema, table)
    return rebuilt


def apply_ddl(conn: duckdb.DuckDBPyConnection, files: list[Path] | None = None) -> list[str]:
    """Create or migrate every warehouse table from `sql/ddl/` (or `files`), in one transaction.

    Every statement is idempotent (`CREATE ... IF NOT EXISTS`, `ADD COLUMN IF NOT EXISTS`), so
    running this on an existing warehouse only adds what is new; a table whose CHECK
    constraints changed is rebuilt with its rows. Returns the files applied.
    """
    files = ddl_files() if files is None else files
    applied = []
    conn.begin()
    try:
        new = not has_tables(conn)
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))
            applied.append(path.name)
        if not new:  # a new warehouse's tables are the DDL's: nothing to rebuild or fill
            rebuild_tables_with_changed_checks(conn, files)
            fill_world_session_stats(conn)
        now = datetime.now(UTC).replace(tzinfo=None)
        for name, checksum in ddl_checksums(files).items():
            conn.execute(
                "INSERT INTO core.ddl_history (file_name, checksum, applied_at) VALUES (?, ?, ?) "
                "ON CONFLICT (file_name) DO UPDATE SET checksum = excluded.checksum, "
                "applied_at = excluded.applied_at",
                [name, checksum, now],
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return applied


def has_tables(conn: duckdb.DuckDBPyConnection) -> bool:
    """Return whether the connected database holds any table (a new warehouse holds none)."""
    ((count,),) = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()
    return count > 0


def fill_world_session_stats(conn: duckdb.DuckDBPyConnection) -> None:
    """Compute the stats of the world sessions that have none: a warehouse made before
    `core.world_session_stats` existed gets them for its whole history, once."""
    from tai_assets.core.derive import refresh_world_session_stats, world_sessions_without_stats

    tables = {"world_sessions", "worlds_online", "world_session_stats"}
    ((present,),) = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' AND table_name IN ?",
        [list(tables)],
    ).fetchall()
    if present == len(tables) and world_sessions_without_stats(conn):
        refresh_world_session_stats(conn, None)


def ensure_warehouse(conn: duckdb.DuckDBPyConnection, database: str) -> None:
    """Apply the DDL when the warehouse file does not record the present DDL files as applied
    (asked once per process and database file, and again if the DDL files changed)."""
    if database == ":memory:":
        apply_ddl(conn)
        return
    checksums = ddl_checksums()
    key = (str(Path(database).resolve()), tuple(sorted(checksums.items())))
    with _applied_lock:
        if key in _applied:
            return
        if not ddl_is_current(conn, checksums):
            apply_ddl(conn)
        _applied.add(key)


@contextmanager
def in_transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction on `conn`: committed when it ends, rolled back on any
    error (and by DuckDB itself when the process dies in the middle)."""
    conn.begin()
    try:
        yield conn
        conn.commit()
    except BaseException:
        # A failed write (a full disk, say) can leave no transaction to roll back; the error
        # that matters is the write's own, not the rollback's.
        with contextlib.suppress(duckdb.Error):
            conn.rollback()
        raise


@contextmanager
def connect(
    database: str,
    *,
    read_only: bool = False,
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to the warehouse file (tables created), closed even after an error."""
    try:
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        conn = open_waiting_for_lock(database, read_only, lock_wait_seconds)
    except (OSError, duckdb.Error) as error:
        raise explain_storage_error(error, database) from error
    try:
        if not read_only:
            ensure_warehouse(conn, database)
        yield conn
    except (OSError, duckdb.Error) as error:
        explained = explain_storage_error(error, database)
        if explained is error:
            raise
        raise explained from error
    finally:
        conn.close()


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """Return the first column of the query's first row (None when it returns no row).

    Every row is fetched, so the connection has no unfinished result left (DuckDB refuses new
    work on a connection until the previous result is consumed)."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
