"""The poll spool: every poll a sensor takes is appended here (SQLite, WAL, fsync'd) before
anything else happens to it; ingest runs take what is pending, commit it to the warehouse, and
only then mark it delivered.

Why it exists: durability must not depend on Dagster's bookkeeping (a sensor cursor, run
config, a pool slot) that a process killed at the wrong moment loses or leaks. A poll in the
spool survives kill -9 of any process and a machine restart; a run that dies before marking its
polls delivered leaves them pending for the next run, and the warehouse's raw tables skip polls
they already hold, so delivery is at least once into an idempotent sink: exactly once in the
warehouse.
"""

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tai_assets.warehouse.storage_errors import describe_os_error

SCHEMA = """
CREATE TABLE IF NOT EXISTS polls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    polled_at TEXT NOT NULL,
    record TEXT NOT NULL,
    spooled_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS polls_pending ON polls (source, seq) WHERE delivered_at IS NULL;
-- The newest seq (of any source) an ingest run was requested for: that run takes every poll
-- pending up to it, whichever sensor asked.
CREATE TABLE IF NOT EXISTS run_requests (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    through_seq INTEGER NOT NULL
);
"""
# Of a source's pending polls, those after both `after_seq` (the asking sensor's own last
# request: all a spool from before `run_requests` knows) and the last run request.
NOT_REQUESTED = "seq > max(?, coalesce((SELECT through_seq FROM run_requests), 0))"
BUSY_TIMEOUT_MS = 30_000


class SpoolUnavailable(RuntimeError):
    """The spool file cannot be written (disk full, read-only folder, ...); says which file."""


@dataclass(frozen=True)
class PendingPoll:
    """A poll waiting for delivery: its spool sequence number and its record."""

    seq: int
    record: dict


def dumps_record(record: dict) -> str:
    """Return a poll record as ASCII JSON: any string a source sends (lone surrogates, NUL,
    control characters) survives the round trip, and no encoder along the way can fail."""
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"), sort_keys=True)


class PollSpool:
    """The spool file of one deployment; each method opens and closes its own connection, so
    a spool object is safe to keep in a long-lived process and to use from several threads."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise SpoolUnavailable(describe_os_error(error, self.path)) from error
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: each commit is fsync'd, so a poll acknowledged here survives power loss.
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(SCHEMA)
            yield conn
        except sqlite3.Error as error:
            raise SpoolUnavailable(describe_os_error(error, self.path)) from error
        finally:
            conn.close()

    def append(self, source: str, records: list[dict]) -> int:
        """Append polls of `source` in one fsync'd transaction; return the newest seq."""
        now = datetime.now(UTC).isoformat()
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            last = 0
            for record in records:
                cursor = conn.execute(
                    "INSERT INTO polls (source, polled_at, record, spooled_at) VALUES (?, ?, ?, ?)",
                    [source, record["polled_at"], dumps_record(record), now],
                )
                last = cursor.lastrowid or last
            conn.execute("COMMIT")
            return last

    def pending(self, source: str, limit: int | None = None) -> list[PendingPoll]:
        """Return the undelivered polls of `source`, oldest first (at most `limit`)."""
        sql = "SELECT seq, record FROM polls WHERE source = ? AND delivered_at IS NULL ORDER BY seq"
        params: list = [source]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [PendingPoll(seq, json.loads(text)) for seq, text in rows]

    def pending_summary(self, source: str, after_seq: int) -> tuple[int, int]:
        """Return how many polls of `source` are pending, and how many of those no run was
        requested for yet (after `after_seq` and after the last request of either sensor)."""
        with self._connect() as conn:
            pending, waiting = conn.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {NOT_REQUESTED}) FROM polls "
                "WHERE source = ? AND delivered_at IS NULL",
                [after_seq, source],
            ).fetchone()
        return pending, waiting

    def claim_run_request(self, source: str, batch: int) -> int | None:
        """Record a run request for every poll spooled so far, if `source` still has `batch`
        polls no run was requested for; return the newest seq it covers, or None.

        Both sensors fill their batches at the same pace and the daemon evaluates them at
        the same time, so neither sees the other's run yet: this one transaction decides
        which of them asks (the run takes both sources' polls)."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            (waiting,) = conn.execute(
                f"SELECT count(*) FROM polls WHERE {NOT_REQUESTED} "
                "AND source = ? AND delivered_at IS NULL",
                [0, source],
            ).fetchone()
            if waiting < batch:
                conn.execute("ROLLBACK")
                return None
            (newest,) = conn.execute("SELECT coalesce(max(seq), 0) FROM polls").fetchone()
            conn.execute(
                "INSERT INTO run_requests (id, through_seq) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET through_seq = excluded.through_seq",
                [newest],
            )
            conn.execute("COMMIT")
            return newest

    def mark_delivered(self, seqs: list[int], keep_days: float = 1.0) -> None:
        """Mark polls delivered (after their warehouse commit), and drop delivered polls older
        than `keep_days` (kept a while for inspection; the warehouse is the record)."""
        if not seqs:
            return
        now = datetime.now(UTC)
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "UPDATE polls SET delivered_at = ? WHERE seq = ?",
                [(now.isoformat(), seq) for seq in seqs],
            )
            conn.execute(
                "DELETE FROM polls WHERE delivered_at IS NOT NULL AND delivered_at < ?",
                [(now - timedelta(days=keep_days)).isoformat()],
            )
            conn.execute("COMMIT")

    def recent(self, source: str, limit: int) -> list[dict]:
        """Return the newest `limit` polls of `source`, delivered or not, newest first (the
        spool keeps delivered polls a day)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT record FROM polls WHERE source = ? ORDER BY seq DESC LIMIT ?",
                [source, limit],
            ).fetchall()
        return [json.loads(text) for (text,) in rows]

    def newest(self, source: str) -> dict | None:
        """Return the newest poll of `source`, or None when there is none or the spool cannot
        be read now (for decisions a missing answer only delays)."""
        try:
            recent = self.recent(source, 1)
        except SpoolUnavailable:
            return None
        return recent[0] if recent else None

    def newest_seq(self) -> int:
        """Return the newest spool entry's seq (0 for an empty spool)."""
        with self._connect() as conn:
            return conn.execute("SELECT coalesce(max(seq), 0) FROM polls").fetchone()[0]
