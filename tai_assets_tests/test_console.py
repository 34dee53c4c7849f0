"""The deployment's console: a line per run and every problem, the rest at LOG_LEVEL=DEBUG."""

import io

from tai_assets.deploy.console import console_line, relay

RUN = "ingest_polls_job - cd9f2fae-2bf9-405d-80be-666ec23953e1 - 3098"
COLOUR = "\x1b[32m2026-12-02 08:58:32 +0000\x1b[0m - dagster.code_server - \x1b[34mINFO\x1b[0m - "
LINES = [
    f"2026-12-02 08:24:01 +0000 - dagster - DEBUG - {RUN} - STEP_START - Started step.",
    f"2026-12-02 08:24:01 +0000 - dagster - INFO - {RUN} - ingest - 3 polls pending",
    f"2026-12-02 08:24:01 +0000 - dagster - DEBUG - {RUN} - RUN_SUCCESS - Finished run.",
    f"2026-12-02 08:25:01 +0000 - dagster - ERROR - {RUN} - STEP_FAILURE - disk full: /d",
    f"2026-12-02 08:25:02 +0000 - dagster - DEBUG - {RUN} - RUN_FAILURE - Execution failed.",
    COLOUR + "Started Dagster code server for module tai_assets.definitions on port 4267",
    "\x1b[32m2026-12-02 08:58:37 +0000\x1b[0m - dagster.daemon - \x1b[33mWARNING\x1b[0m - slow",
    "Traceback (most recent call last):",
    '  File "x.py", line 1, in <module>',
    "tai: Dagster UI on http://127.0.0.1:3000 (code server :4266)",
    'waiting for the warehouse lock (IO Error: Could not set lock on file "/d/tai.duckdb")',
]


def test_the_console_keeps_a_line_per_run_and_every_problem():
    shown = [line for line in (console_line(line, verbose=False) for line in LINES) if line]
    assert shown == [
        "tai: run ingest_polls_job cd9f2fae succeeded",
        LINES[3],
        "tai: run ingest_polls_job cd9f2fae FAILED",
        LINES[6],
        *LINES[7:-1],
    ]


def test_debug_shows_everything_through_the_relay():
    out = io.StringIO()
    relay(io.StringIO("\n".join(LINES) + "\n"), verbose=True, out=out).join(timeout=10)
    assert out.getvalue().splitlines() == LINES
