"""Run config of the ingest runs."""

import dagster as dg


class ServerIngestConfig(dg.Config):
    """Run config of a game-server ingest run. It carries no polls (those come from the spool,
    so no run config can inject one); `full_rebuild` recomputes the derived tables from all
    raw polls."""

    full_rebuild: bool = False


class WorldIngestConfig(dg.Config):
    """Run config of a worlds ingest run; like `ServerIngestConfig`."""

    full_rebuild: bool = False
