"""The latest evaluation of asset checks, read from Dagster's event log storage.

`DagsterInstance` has no public call for "the latest execution of these checks"; the storage's
`get_latest_asset_check_execution_by_key` is what Dagster's own UI uses. Pinned by
`tai_assets_tests/test_dagster_internals.py`.
"""

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus


def failed_checks(instance: dg.DagsterInstance, keys: list[dg.AssetCheckKey]) -> list[str]:
    """Return the checks among `keys` whose latest execution failed, as `asset:check`."""
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    return sorted(
        key.to_user_string()
        for key, record in latest.items()
        if record.status == AssetCheckExecutionRecordStatus.FAILED
    )
