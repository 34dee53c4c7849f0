"""The history domain: the import of the original service's files, and its job."""

import dagster as dg

from tai_assets.defs.history.assets import legacy_history
from tai_assets.defs.history.jobs import import_history_job


def history_definitions() -> dg.Definitions:
    """Return the import asset (its checks are declared on it) and its job."""
    return dg.Definitions(assets=[legacy_history], jobs=[import_history_job])
