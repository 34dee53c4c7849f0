"""Dagster's `dagster job ...` commands, run in this process.

`./tai backfill` queues several runs and backfills; as separate `dagster job` processes each
would import Dagster again. Dagster has no public Python API for queueing a backfill, so its own
command group (`dagster._cli.job.job_cli`) is called here.
"""

import sys

import click
from dagster._cli.job import job_cli


def run_job_command(command: list[str]) -> int:
    """Run one `dagster job ...` command line (`command` starts with "job") in this process;
    return its exit code (a failure's message is printed to stderr)."""
    if command[:1] != ["job"]:
        raise ValueError(f"not a `dagster job` command: {command}")
    try:
        job_cli.main(args=command[1:], prog_name="dagster job", standalone_mode=False)
    except click.ClickException as error:
        error.show(file=sys.stderr)
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        print("aborted", file=sys.stderr)
        return 1
    except Exception as error:  # Dagster's own errors: name them, as its CLI would
        print(f"dagster job {' '.join(command[1:3])}: {error}", file=sys.stderr)
        return 1
    return 0
