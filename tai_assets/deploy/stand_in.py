"""The supervisor's stand-in poller: while Dagster cannot take polls, the supervisor takes them.

The polling sensors take every poll, but only while the daemon runs, the code server answers
and the instance can record ticks: Dagster records a sensor's tick before it evaluates the
sensor, so with DAGSTER_HOME full or read-only no sensor runs (an hour of DAGSTER_HOME full
took 24 server polls where 720 were due). Ingest needs Dagster too, but polls do not wait:
the stand-in appends them to the same spool, and the first ingest run after Dagster recovers
takes them with the rest.

It polls a source only while Dagster cannot (the instance's folder is full or read-only, or
the daemon or the code server is not running) and has not for a whole poll interval, and only
when the source's newest poll in the spool is a poll interval old: while Dagster still manages
a tick now and then, the two take turns. A poll the spool refuses stays in memory and goes in
with the next one the spool takes. It never runs while Dagster polls, so a sensor the operator
stopped stays stopped (the UI cannot change a sensor while the instance cannot be written
anyway). With a PostgreSQL instance, DAGSTER_HOME holds no storage: the stand-in covers a
daemon or code server that is down.
"""

import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from tai_assets.common.clock import utc_now
from tai_assets.core.polls import asked_to_wait_until, server_record, world_record
from tai_assets.core.spool import PollSpool, SpoolUnavailable
from tai_assets.settings import Settings
from tai_assets.sources.chrono import fetch_worlds
from tai_assets.sources.samp.client import query_server
from tai_assets.warehouse.storage_errors import folder_refuses_writes

CHECK_SECONDS = 1.0
# Dagster's sensor daemon evaluates sensors at most every 5 s (its MIN_INTERVAL_LOOP_TIME), so
# shorter poll intervals poll every 5 s: the stand-in keeps the same pace.
SENSOR_LOOP_SECONDS = 5


def say(message: str) -> None:
    """Print one line of the supervisor's to the console."""
    print(f"tai: {message}", file=sys.stderr, flush=True)


class StandInPoller:
    """Polls the sources into the spool while Dagster cannot (see the module's docstring)."""

    def __init__(self, settings: Settings, children_running: Callable[[], bool]):
        self.settings = settings
        self.children_running = children_running
        self.spool = PollSpool(settings.spool_path)
        seconds = max(settings.poll_interval_seconds, SENSOR_LOOP_SECONDS)
        self.interval = timedelta(seconds=seconds)
        self.home_state: str | None = None
        self.home_probed_at: datetime | None = None
        self.sources = ["server", *(["worlds"] if settings.chrono_configured else [])]
        self.down_since: datetime | None = None
        self.held: dict[str, list[dict]] = {source: [] for source in self.sources}
        self.last_poll: dict[str, datetime] = {}
        self.not_before: datetime | None = None  # a Retry-After from the worlds API
        self.taken = 0
        self.spool_error: str | None = None
        self.lock = threading.Lock()  # the thread's flush and the stop's must not both append
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def why_dagster_cannot_poll(self, now: datetime) -> str | None:
        """Return why Dagster's sensors cannot take polls now, or None when they can
        (DAGSTER_HOME is tried with a write once per poll interval)."""
        probe_due = self.home_probed_at is None or now - self.home_probed_at >= self.interval
        # A PostgreSQL instance keeps nothing in DAGSTER_HOME: its sensors poll with it full.
        if probe_due and self.settings.instance == "postgres":
            self.home_state = None
        elif probe_due:
            self.home_state = folder_refuses_writes(self.settings.dagster_home)
            self.home_probed_at = now
        if self.home_state is not None:
            return f"DAGSTER_HOME {self.home_state}: {self.settings.dagster_home}"
        if not self.children_running():
            return "the daemon or the code server is not running"
        return None

    def check(self, now: datetime) -> None:
        """Poll each source that is due, if Dagster has been unable to for an interval."""
        reason = self.why_dagster_cannot_poll(now)
        if reason is None:
            if self.down_since is not None and self.taken:
                say(f"Dagster takes polls again; the supervisor took {self.taken} meanwhile")
            self.down_since, self.taken = None, 0
            self.flush_held()
            return
        if self.down_since is None:
            self.down_since = now
        if now - self.down_since < self.interval:
            return
        if not self.taken and not any(self.held.values()):
            sources = " and ".join(self.sources)
            say(f"Dagster cannot take polls ({reason}); the supervisor polls {sources}")
        for source in self.sources:
            if self.due(source, now):
                self.poll(source)

    def due(self, source: str, now: datetime) -> bool:
        """Return whether a poll of `source` is due: its newest poll (the spool's, or one the
        stand-in holds or took) is a poll interval old."""
        newest = self.last_poll.get(source)
        spooled = self.spool.newest(source)
        if spooled:
            spooled_at = datetime.fromisoformat(spooled["polled_at"])
            newest = spooled_at if newest is None else max(newest, spooled_at)
        if source == "worlds":
            # The worlds API's Retry-After: from the stand-in's own 429 (held, maybe not
            # spooled), or from the newest spooled poll (the sensor's too).
            waits = [w for w in (self.not_before, asked_to_wait_until(spooled)) if w is not None]
            if waits and now < max(waits):
                return False
        return newest is None or now - newest >= self.interval

    def poll(self, source: str) -> None:
        """Take one poll of `source` and spool it (with any held before it)."""
        settings = self.settings
        if source == "server":
            result = query_server(settings.training_host, settings.training_port)
            record = server_record(result, utc_now())
        else:
            token = settings.chrono_token.get_secret_value() if settings.chrono_token else ""
            result = fetch_worlds(settings.chrono_api_base_url, settings.chrono_login or "", token)
            record = world_record(result, utc_now())
            self.not_before = asked_to_wait_until(record) or self.not_before
        self.last_poll[source] = datetime.fromisoformat(record["polled_at"])
        with self.lock:
            self.held[source].append(record)
            self.taken += 1
        self.flush_held()

    def flush_held(self) -> int:
        """Append the polls held in memory to the spool, if it takes them now; return how many
        polls are still held."""
        with self.lock:
            for source, records in self.held.items():
                if not records:
                    continue
                try:
                    self.spool.append(source, records)
                except SpoolUnavailable as error:
                    if str(error) != self.spool_error:
                        say(f"spool unavailable ({error}): the supervisor holds its polls")
                    self.spool_error = str(error)
                    continue
                records.clear()
                self.spool_error = None
            return sum(len(records) for records in self.held.values())

    def run(self) -> None:
        """Check every CHECK_SECONDS until `stop`; an unexpected error is reported, not fatal."""
        last_error = None
        while not self.stopped.wait(CHECK_SECONDS):
            try:
                self.check(utc_now())
            except Exception as error:  # the supervisor must outlive any bug here
                # Only the type and where: a message could quote a setting, even a secret one.
                frame = traceback.extract_tb(error.__traceback__)[-1]
                where = f"{Path(frame.filename).name}:{frame.lineno}"
                if (type(error), where) != last_error:
                    say(f"stand-in poller: {type(error).__name__} at {where}")
                last_error = (type(error), where)

    def start(self) -> None:
        """Run `run` in a daemon thread."""
        self.thread = threading.Thread(target=self.run, name="stand-in poller", daemon=True)
        self.thread.start()

    def stop(self, seconds: float = 15) -> None:
        """Stop taking polls (a poll in flight ends within its timeouts) and spool what is
        held; polls the spool still refuses are counted on the console, never dropped silently."""
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(seconds)
        still_held = self.flush_held()
        if still_held:
            say(
                f"{still_held} polls taken during the outage could not be spooled "
                f"({self.spool_error}) and are lost with this stop"
            )
