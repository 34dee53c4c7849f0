"""The warehouse IO manager: dagster-duckdb-polars, extended with tai's write semantics.

The stock `DuckDBPolarsIOManager` only replaces, infers table schemas from the DataFrame, deletes
and inserts in separate autocommits and matches columns by position. This subclass keeps its
table-slice logic (schema from metadata, partitions from `partition_expr`) and changes what a
write does:

- tables exist only as the DDL in `sql/ddl/` declares them (applied on first use);
- every write is one transaction, inserting by column name;
- the write mode comes from the asset's `tai/write_mode` metadata:
  `replace` (the table, or the run's partition when the asset is partitioned),
  `replace_partition` (the same, spelled out), `append` (rows whose key exists are skipped) and
  `merge` (upsert on the primary key); a `TableChange` adds deletes to a merge;
- assets marked `tai/compact_metadata` (written by the frequent ingest runs) get only their row
  counts as output metadata: every entry is stored twice per run in the instance, so the
  preview, the query and the table name live in the asset's definition metadata instead.
"""

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import polars as pl
from dagster import InputContext, MetadataValue, OutputContext
from dagster._core.definitions.partitions.utils import TimeWindow
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster_duckdb.io_manager import DuckDbClient
from dagster_duckdb_polars import DuckDBPolarsIOManager, DuckDBPolarsTypeHandler

from tai_assets.common.markdown import frame_to_markdown
from tai_assets.warehouse.connection import connect as connect_warehouse

WriteMode = Literal["replace", "replace_partition", "append", "merge"]
WRITE_MODE_KEY = "tai/write_mode"
# Assets written by frequent runs set this: their output metadata is only the row counts.
COMPACT_METADATA_KEY = "tai/compact_metadata"
_WRITE_MODES = ("replace", "replace_partition", "append", "merge")
_BATCH_VIEW = "_tai_batch"
_DELETE_VIEW = "_tai_delete_keys"


@dataclass(frozen=True)
class TableChange:
    """Rows to write and (with `merge`) keys to delete first, in one transaction.

    Derived tables whose rows can be superseded (two sessions merging into one) return this
    instead of a plain DataFrame; multi-asset outputs wrap their frames in it too, because
    Dagster's untyped output check compares values with `!=`, which a polars frame rejects.
    """

    upsert: pl.DataFrame
    delete_keys: pl.DataFrame | None = None


def quote_ident(name: str) -> str:
    """Return `name` quoted as a SQL identifier (identifiers cannot be bound as parameters)."""
    return '"' + name.replace('"', '""') + '"'


def qualified_name(table_slice: TableSlice) -> str:
    """Return `schema.table` quoted, for the table a slice points at."""
    return f"{quote_ident(table_slice.schema)}.{quote_ident(table_slice.table)}"


def table_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Return the table's column names in DDL order; raise if the DDL never created the table."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
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


def partition_filter(table_slice: TableSlice) -> tuple[str, list[Any]]:
    """Return a parameterised WHERE clause selecting the slice's partitions ("" if none).

    Time windows compare against the window's wall-clock bounds in the partitions' timezone, as
    dagster-duckdb does.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for dimension in table_slice.partition_dimensions:
        if isinstance(dimension.partitions, TimeWindow):
            start, end = dimension.partitions
            clauses.append(f"{dimension.partition_expr} >= ? AND {dimension.partition_expr} < ?")
            params += [start.replace(tzinfo=None), end.replace(tzinfo=None)]
        else:
            keys = list(dimension.partitions)
            placeholders = ", ".join("?" for _ in keys)
            clauses.append(f"{dimension.partition_expr} IN ({placeholders})")
            params += keys
    return " AND ".join(clauses), params


def _write_mode(context: OutputContext) -> WriteMode:
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


def write_frame(
    conn: duckdb.DuckDBPyConnection,
    table_slice: TableSlice,
    frame: pl.DataFrame,
    mode: WriteMode,
    delete_keys: pl.DataFrame | None = None,
) -> int:
    """Write `frame` into the slice's table in one transaction; return the table's row count.

    Columns are matched by name; a column the table lacks is an error, a table column the frame
    lacks gets its default. On any error the transaction rolls back and the table keeps what it had.
    """
    target = qualified_name(table_slice)
    columns = table_columns(conn, table_slice.schema, table_slice.table)
    unknown = [c for c in frame.columns if c not in columns]
    if unknown:
        raise ValueError(f"{target} has no column(s) {unknown}; add them to its DDL in sql/ddl/")
    key = primary_key(conn, table_slice.schema, table_slice.table)
    conn.begin()
    try:
        if mode in ("replace", "replace_partition"):
            where, params = partition_filter(table_slice)
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
        conn.commit()
    except BaseException:
        # A failed write (a full disk, say) can leave no transaction to roll back; the error
        # that matters is the write's own, not the rollback's.
        with contextlib.suppress(duckdb.Error):
            conn.rollback()
        raise
    ((row_count,),) = conn.execute(f"SELECT count(*) FROM {target}").fetchall()
    return int(row_count)


def write_metadata(
    frame: pl.DataFrame, row_count: int, mode: str, deleted: int = 0, compact: bool = False
) -> dict:
    """Return the output metadata a person wants to see after a write (only the counts when
    `compact`)."""
    metadata: dict[str, Any] = {"rows_written": frame.height, "dagster/row_count": row_count}
    if not compact:
        metadata["write_mode"] = mode
        metadata["preview"] = MetadataValue.md(frame_to_markdown(frame, limit=5))
    if deleted:
        metadata["rows_superseded"] = deleted
    return metadata


class TaiPolarsTypeHandler(DuckDBPolarsTypeHandler):
    """Writes polars DataFrames (and `TableChange`s) with tai's semantics; loads by SQL."""

    def handle_output(self, context: OutputContext, table_slice: TableSlice, obj, connection):
        """Write the output in one transaction and return the metadata to attach."""
        mode = _write_mode(context)
        if isinstance(obj, TableChange):
            if obj.delete_keys is not None and mode != "merge":
                raise ValueError(f"{context.asset_key}: deleting keys needs tai/write_mode merge")
            frame, deletes = obj.upsert, obj.delete_keys
        else:
            frame, deletes = obj, None
        row_count = write_frame(connection, table_slice, frame, mode, deletes)
        deleted = 0 if deletes is None else deletes.height
        return write_metadata(frame, row_count, mode, deleted, compact_metadata(context))

    def load_input(self, context: InputContext, table_slice: TableSlice, connection):
        """Load the table (or the requested partitions / columns) as a polars DataFrame."""
        if table_slice.partition_dimensions and len(context.asset_partition_keys) == 0:
            return pl.DataFrame()
        columns = ", ".join(quote_ident(c) for c in table_slice.columns or []) or "*"
        where, params = partition_filter(table_slice)
        query = f"SELECT {columns} FROM {qualified_name(table_slice)}"
        return connection.sql(query + (f" WHERE {where}" if where else ""), params=params).pl()

    @property
    def supported_types(self):
        return [pl.DataFrame, TableChange]


class TaiDuckDbClient(DuckDbClient):
    """dagster-duckdb's client with DDL-created tables, no separate delete, and a safe connect."""

    @staticmethod
    def delete_table_slice(context, table_slice: TableSlice, connection) -> None:
        """Do nothing: the type handler deletes inside the write's own transaction."""

    @staticmethod
    def ensure_schema_exists(context, table_slice: TableSlice, connection) -> None:
        """Do nothing: `connect` has applied the DDL, which creates every schema and table."""

    @staticmethod
    @contextmanager
    def connect(context, _table_slice) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a warehouse connection with the DDL applied; always closed, errors included."""
        with connect_warehouse(context.resource_config["database"]) as conn:
            yield conn


def compact_metadata(context: OutputContext) -> bool:
    """Return whether an output's asset asks for compact output metadata."""
    return bool((context.definition_metadata or {}).get(COMPACT_METADATA_KEY, False))


class TaiDbIOManager(DbIOManager):
    """dagster's DbIOManager, leaving out the per-output query and table name when compact."""

    def handle_output(self, context: OutputContext, obj: object) -> None:
        """Write the output; attach only the type handler's metadata when compact."""
        if obj is None or not compact_metadata(context):
            super().handle_output(context, obj)
            return
        self._check_supported_type(type(obj))
        table_slice = self._get_table_slice(context, context)
        with self._db_client.connect(context, table_slice) as conn:
            handler = self._resolve_handler(type(obj))
            context.add_output_metadata(handler.handle_output(context, table_slice, obj, conn))


class TaiWarehouseIOManager(DuckDBPolarsIOManager):
    """Persists every tai asset in the DuckDB warehouse (see the module docstring)."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [TaiPolarsTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pl.DataFrame

    def create_io_manager(self, context) -> DbIOManager:
        return TaiDbIOManager(
            db_client=TaiDuckDbClient(),
            database=self.database,
            schema=self.schema_,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
            io_manager_name="TaiWarehouseIOManager",
        )
