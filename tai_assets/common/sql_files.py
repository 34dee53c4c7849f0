"""Locates the project's SQL: the warehouse DDL and the transforms the assets run.

The files live in the top-level `sql/`; `tai_assets/sql` links to it, so a built wheel carries
them as package data and an editable install reads them in place."""

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent.parent / "sql"
DDL_DIR = SQL_DIR / "ddl"


@cache
def read_sql(relative_path: str) -> str:
    """Return the text of `sql/<relative_path>`; cached because transforms run on every batch."""
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


def sql_path(*parts: str) -> Path:
    """Return the path of `sql/<parts...>` (a file or a folder)."""
    return SQL_DIR.joinpath(*parts)


def ddl_files() -> list[Path]:
    """Return the DDL files in the order they must be applied (by file name)."""
    return sorted(DDL_DIR.glob("*.sql"))
