"""Jobs of the polling pipeline: the ingest job, the repair rebuild and the checks."""

import dagster as dg

from tai_assets.defs.polling.assets import SERVER_SPECS, WORLD_SPECS
from tai_assets.defs.polling.checks import server_polling_checks, world_polling_checks

SERVER_KEYS = [spec.key for spec in SERVER_SPECS]
WORLD_KEYS = [spec.key for spec in WORLD_SPECS]
DERIVED_KEYS = [spec.key for spec in SERVER_SPECS + WORLD_SPECS if spec.derived_from]

# Ingest runs are frequent and small: one process, no per-step subprocesses, and no checks
# (the checks job evaluates them on its own schedule). One run takes both sources' pending
# polls: the two sensors fill their batches at the same pace, and a run a batch instead of one
# per source and batch halves the runs (each costs a process, its events and its run record).
ingest_job = dg.define_asset_job(
    "ingest_polls_job",
    selection=dg.AssetSelection.assets(*SERVER_KEYS, *WORLD_KEYS).without_checks(),
    executor_def=dg.in_process_executor,
    tags={"tai/kind": "ingest"},
    description="Appends the polls pending in the spool (game server and worlds) and updates "
    "sessions, the online series and worlds history.",
)

rebuild_derived_job = dg.define_asset_job(
    "rebuild_derived_job",
    selection=dg.AssetSelection.assets(*DERIVED_KEYS).without_checks(),
    executor_def=dg.in_process_executor,
    config={
        "ops": {
            "ingest_server_polls": {"config": {"full_rebuild": True}},
            "ingest_world_polls": {"config": {"full_rebuild": True}},
        }
    },
    description="Repair: recomputes sessions, the online series and worlds history from all "
    "raw polls.",
)

polling_checks_job = dg.define_asset_job(
    "polling_checks_job",
    selection=dg.AssetSelection.checks(server_polling_checks, world_polling_checks),
    executor_def=dg.in_process_executor,
    tags={"tai/kind": "checks"},
    description="Evaluates the data-quality and freshness checks of the polling tables.",
)

POLLING_JOBS = [
    ingest_job,
    rebuild_derived_job,
    polling_checks_job,
]
