"""The import of the original tai service's DuckDB files (`./tai import DIR`): which files there
are (`files`), how sessions and counts land (`history`), how snapshots land (`snapshots`), and
the all-or-nothing import of a folder (`importer`)."""
