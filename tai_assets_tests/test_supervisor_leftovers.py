"""What a starting supervisor does with the process groups an earlier one recorded: after a
kill of the supervisor, the tai processes left are stopped; after a machine restart, the
recorded numbers belong to other processes (or none), and nothing is killed."""

import subprocess
import sys

import pytest

from tai_assets.deploy.serve import boot_id, kill_leftovers


@pytest.fixture
def decoys():
    """Start processes, each in a process group of its own; kill what is left at the end."""
    started: list[subprocess.Popen] = []

    def start(*command: str) -> subprocess.Popen:
        process = subprocess.Popen(command, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def looks_like_tai(start) -> subprocess.Popen:
    # A process whose command line names tai_assets, as a run worker's does.
    return start(sys.executable, "-c", "import time; time.sleep(60)", "tai_assets")


def test_after_a_killed_supervisor_its_tai_processes_are_stopped(tmp_path, decoys):
    worker, stranger = looks_like_tai(decoys), decoys("sleep", "60")
    groups = tmp_path / "tai-serve.groups"
    groups.write_text(f"{boot_id()}\n{worker.pid}\n{stranger.pid}\n")
    assert kill_leftovers(groups) == [worker.pid]
    assert worker.wait(timeout=15) < 0  # ended by a signal
    assert stranger.poll() is None  # not a tai process: left alone
    assert not groups.exists()


def test_after_a_machine_restart_the_recorded_groups_are_not_touched(tmp_path, decoys):
    reused = looks_like_tai(decoys)  # a number the new boot gave to another process
    groups = tmp_path / "tai-serve.groups"
    groups.write_text(f"an-earlier-boot\n{reused.pid}\n")
    assert kill_leftovers(groups) == []
    assert reused.poll() is None
    assert not groups.exists()
