"""`./tai sql ["QUERY"] [--csv]`: the warehouse, read-only, with nothing else to install.

With a query: runs it and prints a table (or CSV with `--csv`). Without one: a prompt that
runs each statement ending in `;` (`.quit` or Ctrl-D leaves). Each statement opens the file
read-only and closes it at once, so tai's runs are never held up for longer than a query; a
query that finds the file held by a run waits for it (TAI_WAREHOUSE_LOCK_WAIT_SECONDS) instead
of failing. Nothing can be written: the connection is read-only.
"""

import argparse
import contextlib
import sys

import duckdb

from tai_assets.settings import current_settings
from tai_assets.warehouse.connection import open_waiting_for_lock

PROMPT, CONTINUATION = "tai> ", " ..> "


def run_query(database: str, sql: str, csv: bool, lock_wait_seconds: float) -> str:
    """Return the query's result as a table (or CSV), read from the warehouse read-only."""
    conn = open_waiting_for_lock(database, True, lock_wait_seconds)
    try:
        relation = conn.sql(sql)
        if relation is None:
            return ""
        if csv:
            return relation.pl().write_csv()
        return str(relation.limit(10_000))
    finally:
        conn.close()


def _prompt(database: str, csv: bool, wait: float) -> int:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    print(f"tai warehouse {database} (read-only). End statements with ';'; .quit leaves.")
    buffer: list[str] = []
    while True:
        try:
            line = input(CONTINUATION if buffer else PROMPT)
        except EOFError:
            print()
            return 0
        if not buffer and line.strip() in {".quit", ".exit", "quit", "exit"}:
            return 0
        buffer.append(line)
        statement = "\n".join(buffer).strip()
        if not statement.endswith(";"):
            continue
        buffer.clear()
        try:
            print(run_query(database, statement, csv, wait))
        except duckdb.Error as error:
            print(f"error: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run one query, or the prompt; return the exit status (1 when the query failed)."""
    parser = argparse.ArgumentParser(prog="./tai sql", description=__doc__.splitlines()[0])
    parser.add_argument("query", nargs="?", help="SQL to run (none: an interactive prompt)")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    args = parser.parse_args(argv)
    settings = current_settings()
    database, wait = str(settings.warehouse_path), settings.warehouse_lock_wait_seconds
    if args.query is None:
        return _prompt(database, args.csv, wait)
    try:
        sys.stdout.write(run_query(database, args.query, args.csv, wait) + "\n")
    except duckdb.Error as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
