"""What a derivation hands the warehouse: rows to upsert and keys to delete."""

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class TableChange:
    """Rows to write and (with `merge`) keys to delete first, in one transaction.

    Derived tables whose rows can be superseded (two sessions merging into one) return this
    instead of a plain DataFrame; multi-asset outputs wrap their frames in it too, because
    Dagster's untyped output check compares values with `!=`, which a polars frame rejects.
    """

    upsert: pl.DataFrame
    delete_keys: pl.DataFrame | None = None
    # The upsert is the whole table (a full recomputation): every other row goes, with no
    # list of keys to find them by.
    replaces_all: bool = False
    # Already written by the run itself, in one transaction with the rest of its batch: the
    # IO manager has nothing left to write (the output's metadata says what was written).
    committed: bool = False

    def write_mode(self, mode: str) -> str:
        """Return the write mode this change needs: `replace` for a whole table, else `mode`."""
        return "replace" if self.replaces_all else mode


COMMITTED = TableChange(pl.DataFrame(), committed=True)
