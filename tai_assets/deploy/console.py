"""The deployment's console: what the supervisor prints of its children's output.

Dagster's processes log every step event of every run (about 2,200 lines in 19 minutes of the
demo). At LOG_LEVEL=DEBUG everything passes. Otherwise the console gets one line per finished
run ("tai: run ingest_polls_job 1a2b3c4d succeeded"), every warning and error, and any
line that is not a Dagster log line (tai's own messages, tracebacks), so a problem is never
hidden; the details of each run stay in the UI. A run waiting its turn for the warehouse's
file lock is routine and not shown.
"""

import re
import sys
import threading
from typing import IO

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "2026-12-02 08:24:01 +0000 - dagster - DEBUG - <job> - <run id> - <pid> - RUN_SUCCESS - ..."
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} - "
    r"(?P<logger>[\w.]+) - (?P<level>[A-Z]+) - (?P<rest>.*)$"
)
RUN_END = re.compile(
    r"^(?P<job>\S+) - (?P<run>[0-9a-f-]{36}) - \d+ - "
    r"(?P<event>RUN_SUCCESS|RUN_FAILURE|RUN_CANCELED) - "
)
# Writers taking turns on the warehouse's file lock is how tai works, not a problem.
ROUTINE_PREFIXES = ("waiting for the warehouse lock",)
LOUD_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
RUN_OUTCOME = {"RUN_SUCCESS": "succeeded", "RUN_FAILURE": "FAILED", "RUN_CANCELED": "was canceled"}


def console_line(line: str, verbose: bool) -> str | None:
    """Return what the console shows for one line of a child's output, or None to drop it."""
    if verbose:
        return line
    plain = ANSI.sub("", line)
    if plain.startswith(ROUTINE_PREFIXES):
        return None
    match = LOG_LINE.match(plain)
    if match is None:
        return line
    if match["level"] in LOUD_LEVELS:
        return line
    run_end = RUN_END.match(match["rest"])
    if run_end is not None:
        outcome = RUN_OUTCOME[run_end["event"]]
        return f"tai: run {run_end['job']} {run_end['run'][:8]} {outcome}"
    return None


def relay(stream: IO[str], verbose: bool, out: IO[str] = sys.stdout) -> threading.Thread:
    """Start a thread that copies `stream` (a child's output) to `out`, filtered by
    `console_line`, until the stream ends; return the thread."""

    def copy() -> None:
        for line in stream:
            shown = console_line(line.rstrip("\n"), verbose)
            if shown is not None:
                print(shown, file=out, flush=True)

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread
