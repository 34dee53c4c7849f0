"""The original tai service's DuckDB files: which exist, and whether each is what it should be.

The old service kept five files in its `data/` folder, each holding one table. A file is
attached read-only under a fixed alias (so the import SQL in `sql/legacy/` can name it), and
checked for its table and the columns the import reads; a corrupt or foreign file is a
`LegacyFileError` naming the file, raised before anything is written.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tai_assets.warehouse.connection import scalar
from tai_assets.warehouse.io_manager import quote_ident


class LegacyFileError(ValueError):
    """A file of the old service's folder that cannot be imported, and why."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path


@dataclass(frozen=True)
class LegacyFile:
    """One of the old service's files: its name, its table, and the columns the import needs
    (`optional` columns were added in later versions and may be missing)."""

    file_name: str
    table: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def alias(self) -> str:
        """The name the file is attached under, as the SQL in `sql/legacy/` refers to it."""
        return "legacy_" + self.file_name.removesuffix(".db")


SESSIONS = LegacyFile("sessions.db", "sessions", ("player", "session_start", "session_end"))
ONLINE = LegacyFile("online.db", "online", ("online_count", "queried_at"))
WORLD_SESSIONS = LegacyFile(
    "world_sessions.db", "world_sessions", ("name", "session_start", "session_end")
)
WORLDS_ONLINE = LegacyFile(
    "worlds_online.db", "worlds_online", ("name", "players", "static", "ssmp", "saved_at")
)
PLAYERS = LegacyFile(
    "players.db",
    "players",
    ("id", "login", "snapshot_time"),
    optional=(
        "lastlogin",
        "regdate",
        "moder",
        "mute",
        "verify",
        "verify_text",
        "warn",
        "bonuspoints",
        "premium",
        "premium_expdate",
        "chase_rating",
    ),
)
LEGACY_FILES = (SESSIONS, ONLINE, WORLD_SESSIONS, WORLDS_ONLINE, PLAYERS)
# An unfinished crawl of the old service: never imported.
UNFINISHED_CRAWL = "players_temp.db"


@dataclass(frozen=True)
class AttachedFile:
    """A legacy file attached to the warehouse connection, with the columns its table has."""

    spec: LegacyFile
    path: Path
    columns: tuple[str, ...]

    @property
    def table(self) -> str:
        """The attached table, qualified and quoted, for SQL."""
        return f"{quote_ident(self.spec.alias)}.{quote_ident(self.spec.table)}"

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """Columns the file has that tai does not model (kept as JSON where the table allows)."""
        known = set(self.spec.required) | set(self.spec.optional)
        return tuple(c for c in self.columns if c not in known)


def present_files(folder: Path) -> list[LegacyFile]:
    """Return the legacy files that exist in `folder`, in import order; raise when the folder
    is missing or holds none of them (a wrong path should not look like an empty history)."""
    if not folder.is_dir():
        raise LegacyFileError(folder, "not a folder")
    present = [spec for spec in LEGACY_FILES if (folder / spec.file_name).is_file()]
    if not present:
        names = ", ".join(spec.file_name for spec in LEGACY_FILES)
        raise LegacyFileError(folder, f"holds none of the old service's files ({names})")
    return present


def _columns(conn: duckdb.DuckDBPyConnection, spec: LegacyFile) -> tuple[str, ...]:
    rows = conn.execute(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE database_name = ? AND table_name = ? ORDER BY column_index",
        [spec.alias, spec.table],
    ).fetchall()
    return tuple(name for (name,) in rows)


@contextmanager
def attached(
    conn: duckdb.DuckDBPyConnection, folder: Path, specs: list[LegacyFile]
) -> Iterator[dict[str, AttachedFile]]:
    """Attach each file read-only and check its table; yield them by file name, detached after.

    Raises `LegacyFileError` for a file DuckDB cannot open (corrupt, not DuckDB, locked by the
    old service still running) or one without the expected table and columns."""
    files: dict[str, AttachedFile] = {}
    try:
        for spec in specs:
            path = folder / spec.file_name
            try:
                conn.execute(f"ATTACH ? AS {quote_ident(spec.alias)} (READ_ONLY)", [str(path)])
            except duckdb.Error as error:
                raise LegacyFileError(
                    path, f"not a DuckDB file DuckDB can open ({error})"
                ) from None
            columns = _columns(conn, spec)
            if not columns:
                raise LegacyFileError(path, f"has no table {spec.table!r}")
            missing = [c for c in spec.required if c not in columns]
            if missing:
                raise LegacyFileError(
                    path, f"table {spec.table!r} lacks column(s) {', '.join(missing)}"
                )
            files[spec.file_name] = AttachedFile(spec, path, columns)
        yield files
    finally:
        for spec in specs:
            attached_now = scalar(
                conn,
                "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?",
                [spec.alias],
            )
            if attached_now:
                conn.execute(f"DETACH {quote_ident(spec.alias)}")
