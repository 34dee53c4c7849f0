"""`./tai import DIR`: runs `import_history_job` in the project's instance, in this process.

The run is an ordinary Dagster run (it shows in the UI with its metadata and checks); this
command prints the per-file counts and exits non-zero when the import or a check failed.
"""

import argparse
import sys

import dagster as dg

from tai_assets.defs.history.jobs import IMPORT_JOB_NAME


def import_run_config(folder: str, snapshot_timezone: str) -> dict:
    """Return the run config of `import_history_job` for a folder."""
    config = {"folder": folder, "snapshot_timezone": snapshot_timezone}
    return {"ops": {"legacy_history": {"config": config}}}


def run_import(folder: str, snapshot_timezone: str, instance: dg.DagsterInstance) -> int:
    """Run the import job in `instance`; print what it did; return the exit status."""
    from tai_assets.definitions import defs

    job = defs.resolve_job_def(IMPORT_JOB_NAME)
    result = job.execute_in_process(
        run_config=import_run_config(folder, snapshot_timezone),
        instance=instance,
        raise_on_error=False,
    )
    for materialization in result.asset_materializations_for_node("legacy_history"):
        if materialization.asset_key == dg.AssetKey("legacy_history"):
            print(materialization.metadata["files"].value)
            break
    failed_checks = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(event.step_failure_data.error.message.strip(), file=sys.stderr)
        print(f"import failed (run {result.run_id}): nothing was imported", file=sys.stderr)
        return 1
    if failed_checks:
        print(f"imported, but checks failed: {', '.join(failed_checks)}", file=sys.stderr)
        return 1
    print(f"imported (run {result.run_id}); next: ./tai backfill")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse `./tai import` arguments and run the import in the DAGSTER_HOME instance."""
    parser = argparse.ArgumentParser(prog="./tai import", description=__doc__)
    parser.add_argument("folder", help="the old service's data/ folder")
    parser.add_argument(
        "--snapshot-timezone",
        default="UTC",
        help="zone of the old machine's clock, for players.db's snapshot_time (default UTC)",
    )
    args = parser.parse_args(argv)
    with dg.DagsterInstance.get() as instance:
        return run_import(args.folder, args.snapshot_timezone, instance)


if __name__ == "__main__":
    sys.exit(main())
