"""What a storage failure means, in the words an operator needs (shared by the spool and the
warehouse)."""

import errno
from pathlib import Path


def describe_os_error(error: BaseException, path: Path | str) -> str:
    """Return what a storage failure means, naming the file: "disk full: <path>" for ENOSPC,
    "read-only: <path>" for a read-only file system or folder, else the error itself.

    SQLite and DuckDB report these in their own words (or hide them behind a failed rollback);
    the operator needs the cause and the place.
    """
    text = str(error).lower()
    code = getattr(error, "errno", None)
    if code == errno.ENOSPC or "no space left" in text or "database or disk is full" in text:
        return f"disk full: {path}"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(
        phrase in text
        for phrase in ("read-only", "readonly", "permission denied", "unable to open database")
    ):
        return f"read-only: {path} ({error})"
    return f"{error} ({path})"
