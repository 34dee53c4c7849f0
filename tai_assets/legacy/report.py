"""What an import did, per file: the counts its run shows in metadata and keeps in
`raw.legacy_imports`."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class TableReport:
    """One file's import: rows read, imported (new), merged (duplicates, or already held) and
    skipped (with why), and the time range its rows cover."""

    file: str
    table: str
    read: int = 0
    imported: int = 0
    merged: int = 0
    skipped: int = 0
    notes: str = ""
    core_table: str = ""  # the core table the rows were folded into, and how many rows changed
    core_rows: int = 0
    extra: dict = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None


@dataclass
class ImportReport:
    """A whole import: one report per file, the files left alone, and the snapshot weeks
    written."""

    folder: str
    tables: list[TableReport] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    snapshot_weeks: list[str] = field(default_factory=list)

    @property
    def first(self) -> datetime | None:
        """The earliest instant imported history covers (None: nothing with a time)."""
        instants = [t.first for t in self.tables if t.first is not None]
        return min(instants) if instants else None

    @property
    def last(self) -> datetime | None:
        """The latest instant imported history covers."""
        instants = [t.last for t in self.tables if t.last is not None]
        return max(instants) if instants else None

    def markdown(self) -> str:
        """Return the per-file counts as a Markdown table, and the notes below it."""
        lines = [
            "| file | table | read | imported | merged | skipped |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for t in self.tables:
            lines.append(
                f"| {t.file} | {t.table} | {t.read} | {t.imported} | {t.merged} | {t.skipped} |"
            )
        notes = [f"- {t.file}: {t.notes}" for t in self.tables if t.notes]
        notes += [f"- {name}" for name in self.ignored]
        return "\n".join(lines + (["", *notes] if notes else []))
