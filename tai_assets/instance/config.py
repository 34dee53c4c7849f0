"""The instance's `dagster.yaml` as the deployment runs it: the project's file
(`deploy/dagster.yaml`, or `deploy/dagster-postgres.yaml`) with the run queue checked as often
as polls are taken, at most every QUEUE_CHECK_MAX_SECONDS.

A batch of polls waits in Dagster's run queue until the daemon's next look at it; a fixed 30 s
would be most of the catch-up after a fault when polls come every few seconds, and a look every
few seconds is wasted when they come every minute.
"""

import os
import re
import tempfile
from pathlib import Path

QUEUE_CHECK_MAX_SECONDS = 30
RENDERED_HEADER = "# Written by tai_assets/instance/config.py from {template} at each start.\n"
_DEQUEUE_LINE = re.compile(r"^(\s*dequeue_interval_seconds:\s*)\d+\s*$", re.MULTILINE)


def queue_check_seconds(poll_interval_seconds: int) -> int:
    """Return how often the daemon looks at the run queue for polls taken this often."""
    return max(1, min(QUEUE_CHECK_MAX_SECONDS, poll_interval_seconds))


def render_instance_config(dagster_home: Path, poll_interval_seconds: int) -> Path | None:
    """Replace `$DAGSTER_HOME/dagster.yaml`, when it is a link to one of the project's files,
    by a copy whose run queue is checked every `queue_check_seconds`; return the written path,
    or None when the file is the operator's own (left as it is). An OSError (a full or
    read-only DAGSTER_HOME) leaves the link in place and is raised."""
    target = dagster_home / "dagster.yaml"
    if not target.is_symlink():
        return None
    template = target.resolve()
    text = template.read_text(encoding="utf-8")
    seconds = queue_check_seconds(poll_interval_seconds)
    rendered, found = _DEQUEUE_LINE.subn(lambda m: f"{m.group(1)}{seconds}", text)
    if found != 1:
        raise ValueError(f"{template}: expected one dequeue_interval_seconds line, found {found}")
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=dagster_home, prefix=".dagster.yaml.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(RENDERED_HEADER.format(template=template.name) + rendered)
        os.replace(temporary, target)  # replaces the link itself, never the file it points to
    except OSError:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        raise
    return target
