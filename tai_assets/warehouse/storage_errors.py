"""What a storage failure means, in the words an operator needs (shared by the spool and the
warehouse)."""

import errno
import os
from pathlib import Path

# Below this much free space a failed write is put down to a full disk: SQLite and DuckDB
# often report ENOSPC only as a generic I/O error (or hide it behind a failed rollback).
FULL_BELOW_BYTES = 1 << 20


def folder_state(path: Path | str) -> str | None:
    """Return "disk full" or "read-only" when the folder holding `path` is so, else None."""
    folder = Path(path).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY or not os.access(folder, os.W_OK):
        return "read-only"
    if stats.f_bavail * stats.f_frsize < FULL_BELOW_BYTES:
        return "disk full"
    return None


def describe_os_error(error: BaseException, path: Path | str) -> str:
    """Return what a storage failure means, naming the file: "disk full: <path>" for a full
    disk, "read-only: <path>" for a read-only file system or folder, else the error itself.

    The error's own code or text is trusted first; failing that, the state of the folder
    (free space, read-only flag) says what the database's generic I/O error meant.
    """
    text = str(error).lower()
    code = getattr(error, "errno", None)
    if code == errno.ENOSPC or "no space left" in text or "database or disk is full" in text:
        return f"disk full: {path}"
    if code == errno.EROFS or "read-only file system" in text or "readonly database" in text:
        return f"read-only: {path} ({error})"
    state = folder_state(path)
    if state is not None:
        return f"{state}: {path} ({error})"
    return f"{error} ({path})"


def folder_refuses_writes(folder: Path) -> str | None:
    """Return "disk full" or "read-only" when a new file in `folder` cannot be written (the
    description of any other failure), else None.

    A real write, because the flags do not tell everything: an ext4 disk that failed goes
    read-only (`emergency_ro`) with its mount flags unchanged, so only a write says so.
    """
    state = folder_state(folder / "probe")
    if state is not None:
        return state
    probe = folder / f".tai-write-probe-{os.getpid()}"
    try:
        handle = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(handle, bytes(4096))  # a whole block: a full disk refuses it
        finally:
            try:
                os.close(handle)
            finally:
                probe.unlink(missing_ok=True)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            return "disk full"
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "read-only"
        return str(error)
    return None
