"""`./tai backfill [--from DATE] [--to DATE]`: the analytics over the imported history.

Submits a run of `analytics_refresh_job` (world genres, profiles), one Dagster backfill per
analytics job (daily activity, session habits, genre popularity and digests; weekly digests;
monthly digests and heatmaps; yearly digests) over the partitions that overlap the range, and a
run of `player_retention_job`. By default the range is what `raw.legacy_*` covers. The runs are
queued in the project's instance: the deployment (`./tai run`) executes them, and the UI's
Backfills page shows their progress. It uses Dagster's own `dagster job backfill` and `dagster
job launch`, run in this process against one code server started for them (each command on its
own would start and load a code server of its own: ~6 CPU-s each, six times).
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from tai_assets.common.clock import utc_now
from tai_assets.common.ports import free_port
from tai_assets.dagster_internals.job_cli import run_job_command
from tai_assets.defs.analytics.partitions import DAILY, MONTHLY, REPORT_TZ, WEEKLY, YEARLY
from tai_assets.deploy.serve import (
    GRPC_WORKSPACE,
    code_server_command,
    code_server_ready,
    stop_processes,
)
from tai_assets.settings import current_settings
from tai_assets.warehouse.connection import connect, scalar

ROOT = Path(__file__).resolve().parent.parent.parent
ANALYTICS_BACKFILLS = (
    ("analytics_daily_job", DAILY),
    ("weekly_digest_job", WEEKLY),
    ("monthly_digest_job", MONTHLY),
    ("yearly_digest_job", YEARLY),
)
RETENTION_JOB = "player_retention_job"
TAGS_JOB = "analytics_refresh_job"
_IMPORTED_BOUNDS = """
SELECT min(lo), max(hi) FROM (
    SELECT min(session_start) AS lo, max(session_end) AS hi FROM raw.legacy_player_sessions
    UNION ALL SELECT min(session_start), max(session_end) FROM raw.legacy_world_sessions
    UNION ALL SELECT min(queried_at), max(queried_at) FROM raw.legacy_server_online
    UNION ALL SELECT min(saved_at), max(saved_at) FROM raw.legacy_worlds_online
)"""


def imported_range(database: str) -> tuple[date, date] | None:
    """Return the first and last local day (report zone) the imported history covers, or None
    when nothing was imported."""
    with connect(database, read_only=True) as conn:
        bounds = conn.execute(_IMPORTED_BOUNDS).fetchall()[0]
        if scalar(conn, "SELECT count(*) FROM raw.legacy_snapshots") and bounds[0] is None:
            bounds = conn.execute(
                "SELECT min(snapshot_time), max(snapshot_time) FROM raw.legacy_snapshots"
            ).fetchall()[0]
    if bounds[0] is None:
        return None
    return _local_day(bounds[0]), _local_day(bounds[1])


def _local_day(instant: datetime) -> date:
    return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(REPORT_TZ)).date()


def partition_range(
    partitions_def: dg.TimeWindowPartitionsDefinition, first: date, last: date, now: datetime
) -> tuple[str, str] | None:
    """Return the first and last existing partition key whose period overlaps the local days
    `first`..`last` (None: no complete period does)."""
    keys = [
        key
        for key in partitions_def.get_partition_keys(current_time=now)
        if _overlaps(partitions_def.time_window_for_partition_key(key), first, last)
    ]
    return (keys[0], keys[-1]) if keys else None


def _overlaps(window: dg.TimeWindow, first: date, last: date) -> bool:
    return window.start.date() <= last and window.end.date() > first


def backfill_commands(first: date, last: date, now: datetime) -> list[list[str]]:
    """Return the `dagster` command lines that backfill the analytics over `first`..`last`
    (their workspace is the code server `submit` starts)."""
    workspace = ["-w", str(GRPC_WORKSPACE)]
    # The worlds' genres first: the daily job's genre_popularity reads them.
    commands = [["job", "launch", *workspace, "-j", TAGS_JOB]]
    for job, partitions_def in ANALYTICS_BACKFILLS:
        keys = partition_range(partitions_def, first, last, now)
        if keys is not None:
            start, end = keys
            span = ["--from", start, "--to", end, "--noprompt"]
            commands.append(["job", "backfill", *workspace, "-j", job, *span])
    commands.append(["job", "launch", *workspace, "-j", RETENTION_JOB])
    return commands


def main(argv: list[str] | None = None) -> int:
    """Parse `./tai backfill` arguments and submit the backfills to the DAGSTER_HOME instance."""
    parser = argparse.ArgumentParser(prog="./tai backfill", description=__doc__)
    parser.add_argument("--from", dest="first", type=date.fromisoformat, help="first local day")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, help="last local day")
    args = parser.parse_args(argv)
    first, last = args.first, args.last
    if first is None or last is None:
        imported = imported_range(str(current_settings().warehouse_path))
        if imported is None and (first is None or last is None):
            print("nothing imported yet: run ./tai import DIR, or give --from and --to")
            return 1
        first, last = first or imported[0], last or imported[1]
    print(f"backfilling the analytics over {first} .. {last} ({REPORT_TZ} days)")
    status = submit(backfill_commands(first, last, utc_now()))
    if status == 0:
        print("queued: ./tai run executes them; the UI's Overview → Backfills shows progress")
    return status


def submit(job_commands: list[list[str]], seconds: float = 300) -> int:
    """Run the `dagster job` commands in this process, one after another, against a code server
    of tai's definitions started for them on a free port; return the first failed command's
    exit code, or 0 when all succeeded."""
    port = free_port()
    os.environ["TAI_CODE_SERVER_PORT"] = str(port)  # read by deploy/workspace-grpc.yaml
    command = code_server_command(port, "warning")
    code_server = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + seconds
        while not code_server_ready(port):
            if code_server.poll() is not None or time.monotonic() > deadline:
                print("the code server did not start", file=sys.stderr)
                return 1
            time.sleep(0.2)
        for command in job_commands:
            status = run_job_command(command)
            if status != 0:
                return status
        return 0
    finally:
        stop_processes([code_server])


if __name__ == "__main__":
    sys.exit(main())
