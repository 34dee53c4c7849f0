"""The warehouse IO manager: persists every tai asset as a table in the DuckDB warehouse.

Written on Dagster's public IO manager API (`ConfigurableIOManager`), with tai's write semantics:

- tables exist only as the DDL in `sql/ddl/` declares them (applied on first use); the schema is
  the asset's `schema` metadata, the table its name;
- every write is one transaction, inserting by column name;
- the write mode comes from the asset's `tai/write_mode` metadata:
  `replace` (the table, or the run's partition when the asset is partitioned),
  `replace_partition` (the same, spelled out), `append` (rows whose key exists are skipped) and
  `merge` (upsert on the primary key); a `TableChange` adds deletes to a merge;
- a partitioned asset names its partition column in `partition_expr` metadata; a time window
  selects rows whose column lies within the window's wall-clock bounds in the partitions'
  timezone;
- assets marked `tai/compact_metadata` (written by the frequent ingest runs) get only their row
  counts as output metadata: every entry is stored twice per run in the instance, so the
  preview and the table name live in the asset's definition metadata instead;
- an input loads the upstream table (its partitions, when partitioned) as a polars DataFrame.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import dagster as dg
import duckdb
import polars as pl
from pydantic import Field

from tai_assets.common.markdown import frame_to_markdown
from tai_assets.core.changes import TableChange
from tai_assets.warehouse.connection import DEFAULT_LOCK_WAIT_SECONDS, connect, in_transaction

WriteMode = Literal["replace", "replace_partition", "append", "merge"]
WRITE_MODE_KEY = "tai/write_mode"
# Assets written by frequent runs set this: their output metadata is only the row counts.
COMPACT_METADATA_KEY = "tai/compact_metadata"
_WRITE_MODES = ("replace", "replace_partition", "append", "merge")
_BATCH_VIEW = "_tai_batch"
_DELETE_VIEW = "_tai_delete_keys"


def quote_ident(name: str) -> str:
    """Return `name` quoted as a SQL identifier (identifiers cannot be bound as parameters)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class WarehouseTable:
    """A warehouse table and, for a partitioned asset, the rows of the partitions at hand."""

    schema: str
    table: str
    partition_expr: str | None = None
    time_window: tuple[datetime, datetime] | None = None
    partition_keys: tuple[str, ...] = ()

    @classmethod
    def named(cls, qualified: str) -> "WarehouseTable":
        """Return the whole table `schema.table` (for writes outside an asset)."""
        schema, table = qualified.split(".")
        return cls(schema, table)

    @property
    def qualified_name(self) -> str:
        """Return `schema.table`, quoted."""
        return f"{quote_ident(self.schema)}.{quote_ident(self.table)}"

    def partition_filter(self) -> tuple[str, list[Any]]:
        """Return a parameterised WHERE clause selecting the partitions ("" for all rows)."""
        if self.partition_expr is None:
            return "", []
        if self.time_window is not None:
            start, end = self.time_window
            column = self.partition_expr
            return f"{column} >= ? AND {column} < ?", [start, end]
        placeholders = ", ".join("?" for _ in self.partition_keys)
        return f"{self.partition_expr} IN ({placeholders})", list(self.partition_keys)


def warehouse_table(
    context: dg.OutputContext | dg.InputContext, definition_metadata: dict | None
) -> WarehouseTable:
    """Return the table an asset is stored in (and its partitions in this context)."""
    metadata = definition_metadata or {}
    path = context.asset_key.path
    schema = metadata.get("schema") or (path[-2] if len(path) > 1 else None)
    if not schema:
        raise ValueError(f"{context.asset_key.to_user_string()} needs `schema` metadata")
    table = WarehouseTable(schema, path[-1])
    partition_expr = metadata.get("partition_expr")
    if not context.has_asset_partitions:
        return table
    if not partition_expr:
        raise ValueError(f"{context.asset_key.to_user_string()} is partitioned: set partition_expr")
    try:
        window = context.asset_partitions_time_window
    except dg.DagsterInvariantViolationError:
        window = None
    if window is not None:
        bounds = (window.start.replace(tzinfo=None), window.end.replace(tzinfo=None))
        return WarehouseTable(table.schema, table.table, partition_expr, time_window=bounds)
    keys = tuple(context.asset_partition_keys)
    return WarehouseTable(table.schema, table.table, partition_expr, partition_keys=keys)


def table_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Return the table's column names in DDL order; raise if the DDL never created the table."""
    rows = conn.execute(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()
    if not rows:
        raise ValueError(
            f"Table {schema}.{table} does not exist: tai never infers a table from a DataFrame, "
            "declare it in sql/ddl/."
        )
    return [row[0] for row in rows]


def primary_key(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Return the primary key columns the DDL declared for a table (empty if none)."""
    rows = conn.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = ? AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [schema, table],
    ).fetchall()
    return list(rows[0][0]) if rows else []


def compact_metadata(context: dg.OutputContext) -> bool:
    """Return whether an output's asset asks for compact output metadata."""
    return bool((context.definition_metadata or {}).get(COMPACT_METADATA_KEY, False))


def _write_mode(context: dg.OutputContext) -> WriteMode:
    mode = (context.definition_metadata or {}).get(WRITE_MODE_KEY, "replace")
    if mode not in _WRITE_MODES:
        raise ValueError(f"Unknown {WRITE_MODE_KEY} {mode!r} on {context.asset_key}")
    return mode


def _insert_statement(
    target: str, columns: Sequence[str], key: Sequence[str], mode: WriteMode
) -> str:
    column_list = ", ".join(quote_ident(c) for c in columns)
    statement = f"INSERT INTO {target} ({column_list}) SELECT {column_list} FROM {_BATCH_VIEW}"
    if mode == "append":
        return statement + " ON CONFLICT DO NOTHING"
    if mode == "merge":
        if not key:
            raise ValueError(f"merge into {target} needs a primary key in its DDL")
        updates = [c for c in columns if c not in key]
        key_list = ", ".join(quote_ident(c) for c in key)
        if not updates:
            return statement + f" ON CONFLICT ({key_list}) DO NOTHING"
        assignments = ", ".join(f"{quote_ident(c)} = excluded.{quote_ident(c)}" for c in updates)
        return statement + f" ON CONFLICT ({key_list}) DO UPDATE SET {assignments}"
    return statement


def write_rows(
    conn: duckdb.DuckDBPyConnection,
    table: WarehouseTable,
    frame: pl.DataFrame,
    mode: WriteMode,
    delete_keys: pl.DataFrame | None = None,
) -> None:
    """Delete `delete_keys` (and, for the replace modes, the table or partition), then insert
    `frame`, inside the caller's transaction: the write of one output, or a part of a larger
    all-or-nothing write (the import of old history).

    Columns are matched by name; a column the table lacks is an error, a table column the frame
    lacks gets its default.
    """
    target = table.qualified_name
    columns = table_columns(conn, table.schema, table.table)
    unknown = [c for c in frame.columns if c not in columns]
    if unknown:
        raise ValueError(f"{target} has no column(s) {unknown}; add them to its DDL in sql/ddl/")
    key = primary_key(conn, table.schema, table.table)
    if mode in ("replace", "replace_partition"):
        where, params = table.partition_filter()
        conn.execute(f"DELETE FROM {target}" + (f" WHERE {where}" if where else ""), params)
    if delete_keys is not None and delete_keys.height:
        conn.register(_DELETE_VIEW, delete_keys.to_arrow())
        join = " AND ".join(
            f"{target}.{quote_ident(c)} = d.{quote_ident(c)}" for c in delete_keys.columns
        )
        conn.execute(f"DELETE FROM {target} USING {_DELETE_VIEW} AS d WHERE {join}")
        conn.unregister(_DELETE_VIEW)
    if frame.height:
        conn.register(_BATCH_VIEW, frame.to_arrow())
        conn.execute(_insert_statement(target, frame.columns, key, mode))
        conn.unregister(_BATCH_VIEW)


def write_frame(
    conn: duckdb.DuckDBPyConnection,
    table: WarehouseTable,
    frame: pl.DataFrame,
    mode: WriteMode,
    delete_keys: pl.DataFrame | None = None,
) -> int:
    """Write `frame` into the table in one transaction (see `write_rows`); return the table's
    row count. On any error the transaction rolls back and the table keeps what it had."""
    with in_transaction(conn):
        write_rows(conn, table, frame, mode, delete_keys)
    return table_row_count(conn, table)


def table_row_count(conn: duckdb.DuckDBPyConnection, table: WarehouseTable) -> int:
    """Return how many rows the table holds (the `dagster/row_count` of a write)."""
    ((row_count,),) = conn.execute(f"SELECT count(*) FROM {table.qualified_name}").fetchall()
    return int(row_count)


def write_change(
    conn: duckdb.DuckDBPyConnection, table: WarehouseTable, change: TableChange, mode: WriteMode
) -> dict:
    """Write `change` into `table` inside the caller's transaction (one part of a batch that
    commits as a whole); return the compact metadata of that write."""
    mode = change.write_mode(mode)
    write_rows(conn, table, change.upsert, mode, change.delete_keys)
    deleted = 0 if change.delete_keys is None else change.delete_keys.height
    return write_metadata(change.upsert, table_row_count(conn, table), mode, deleted, compact=True)


def write_metadata(
    frame: pl.DataFrame, row_count: int, mode: str, deleted: int = 0, compact: bool = False
) -> dict:
    """Return the output metadata a person wants to see after a write (only the counts when
    `compact`)."""
    metadata: dict[str, Any] = {"rows_written": frame.height, "dagster/row_count": row_count}
    if not compact:
        metadata["write_mode"] = mode
        metadata["preview"] = dg.MetadataValue.md(frame_to_markdown(frame, limit=5))
    if deleted:
        metadata["rows_superseded"] = deleted
    return metadata


class TaiWarehouseIOManager(dg.ConfigurableIOManager):
    """Persists every tai asset in the DuckDB warehouse (see the module docstring)."""

    database: str = Field(description="Path of the DuckDB warehouse file (TAI_WAREHOUSE_PATH).")
    lock_wait_seconds: float = Field(
        default=DEFAULT_LOCK_WAIT_SECONDS,
        description="TAI_WAREHOUSE_LOCK_WAIT_SECONDS: wait for another process's file lock.",
    )

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        """Write a polars DataFrame or a `TableChange` in one transaction; attach metadata."""
        if obj is None or (isinstance(obj, TableChange) and obj.committed):
            return
        mode = _write_mode(context)
        if isinstance(obj, TableChange):
            if obj.delete_keys is not None and mode != "merge":
                raise ValueError(f"{context.asset_key}: deleting keys needs tai/write_mode merge")
            frame, deletes, mode = obj.upsert, obj.delete_keys, obj.write_mode(mode)
        elif isinstance(obj, pl.DataFrame):
            frame, deletes = obj, None
        else:
            raise TypeError(f"{context.asset_key}: tai stores polars DataFrames, got {type(obj)}")
        table = warehouse_table(context, context.definition_metadata)
        with connect(self.database, lock_wait_seconds=self.lock_wait_seconds) as conn:
            row_count = write_frame(conn, table, frame, mode, deletes)
        deleted = 0 if deletes is None else deletes.height
        context.add_output_metadata(
            write_metadata(frame, row_count, mode, deleted, compact_metadata(context))
        )

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        """Load the upstream table (or its partitions at hand) as a polars DataFrame."""
        upstream = context.upstream_output
        table = warehouse_table(context, upstream.definition_metadata if upstream else None)
        if table.partition_expr and table.time_window is None and not table.partition_keys:
            return pl.DataFrame()
        where, params = table.partition_filter()
        query = f"SELECT * FROM {table.qualified_name}" + (f" WHERE {where}" if where else "")
        with connect(
            self.database, read_only=False, lock_wait_seconds=self.lock_wait_seconds
        ) as conn:
            return conn.sql(query, params=params).pl()
