"""Finds runs whose worker process died (kill -9, a machine restart) and marks them failed."""

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from tai_assets.common.procfs import is_live, proc_stat

# A run still STARTING after this long has no worker: its launch died with the process that
# made it.
STARTING_TIMEOUT_SECONDS = 120
# A process's start time is known to the clock tick, the boot time only to the second.
PID_CLOCK_SLACK_SECONDS = 2
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
_WORKER_PID = re.compile(r"Started process for run \(pid: (\d+)\)")


def process_started_at(pid: int) -> float | None:
    """Return when process `pid` started (epoch seconds), or None if there is no such live
    process (a zombie counts as dead)."""
    fields = proc_stat(pid)
    if not is_live(fields):
        return None
    try:
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def run_worker_launch(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """Return the pid of the process that executes the run and when its launch was recorded
    (epoch seconds), from its engine event; None before the launch."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        match = _WORKER_PID.search(record.event_log_entry.message or "")
        if match:
            return int(match.group(1)), record.event_log_entry.timestamp
    return None


def worker_is_gone(started: float | None, launched_at: float) -> bool:
    """Return whether a run's worker is gone, given when the live process with its pid started
    (`started`, None when there is none) and when the launch naming that pid was recorded: a
    process that started after the launch is another one that got the pid again.

    The launch, not the run's creation, is the reference: a run waits in the queue (for
    seconds, or minutes behind other runs) before its worker is started."""
    return started is None or started > launched_at + PID_CLOCK_SLACK_SECONDS


def fail_dead_runs(instance: dg.DagsterInstance, now: datetime | None = None) -> list[str]:
    """Mark failed every run whose worker process is gone; return their run ids.

    Dagster's default run launcher cannot tell that a run worker died (kill -9, a machine
    restart): such a run stays STARTED or STARTING forever, and each one takes a place of
    `max_concurrent_runs`. A run counts as dead when its worker pid names no live process,
    or one started after the launch (`worker_is_gone`), or when it has been STARTING without
    a launch for STARTING_TIMEOUT_SECONDS. Its failure lets the retry policy take it up;
    polls it held are still pending in the spool either way.
    """
    now_ts = (now or datetime.now(UTC)).timestamp()
    failed = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        created = record.create_timestamp.timestamp()
        launch = run_worker_launch(instance, run.run_id)
        if launch is None:
            dead = now_ts - created > STARTING_TIMEOUT_SECONDS
            why = f"no run worker started within {STARTING_TIMEOUT_SECONDS} s"
        else:
            pid, launched_at = launch
            dead = worker_is_gone(process_started_at(pid), launched_at)
            why = f"its run worker (pid {pid}) is gone"
        if dead:
            instance.report_run_failed(run, message=f"tai: {why}; marked failed")
            failed.append(run.run_id)
    return failed
