"""The import job: launched by `./tai import DIR` or from the UI with the folder as config."""

import dagster as dg

IMPORT_JOB_NAME = "import_history_job"

import_history_job = dg.define_asset_job(
    IMPORT_JOB_NAME,
    selection=dg.AssetSelection.assets("legacy_history"),
    executor_def=dg.in_process_executor,
    tags={"tai/kind": "import"},
    description="Imports the original tai service's DuckDB files (sessions, online counts, "
    "worlds, weekly player snapshots) from a folder: set `folder` in the launchpad.",
)
