"""The DuckDB warehouse: connecting to the file and creating every table from `sql/ddl/`."""

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tai_assets.sql_files import ddl_files

_applied: set[tuple[str, str]] = set()
_applied_lock = threading.Lock()


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
    conn = duckdb.connect(database, read_only=read_only)
    try:
        if not read_only:
            ensure_warehouse(conn, database)
        yield conn
    finally:
        conn.close()
