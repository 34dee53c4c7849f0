"""Reading Linux's /proc: what the supervisor and the dead-run check know about a process."""

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
