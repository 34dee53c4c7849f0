"""Reading Linux's /proc (what the supervisor and the dead-run check know about a process), and
stopping a process group with everything in it."""

import contextlib
import os
import time
from pathlib import Path


def proc_stat(pid: int) -> list[str] | None:
    """Return the fields of /proc/<pid>/stat after the command name (state first, then the
    parent pid, the process group, ...), or None when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def is_live(stat: list[str] | None) -> bool:
    """Return whether a `proc_stat` result is a running process (not gone, not a zombie)."""
    return stat is not None and stat[0] not in ("Z", "X")


def group_members(pgid: int) -> list[int]:
    """Return the live processes (zombies excluded) of process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = proc_stat(int(entry.name))
        if is_live(stat) and int(stat[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_groups(groups: list[int], sig: int) -> None:
    """Send `sig` to every process group of `groups` that still exists."""
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)


def wait_for_groups(groups: list[int], seconds: float) -> bool:
    """Wait until no process of `groups` is alive; return whether that happened in time."""
    deadline = time.monotonic() + seconds
    while any(group_members(pgid) for pgid in groups):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
