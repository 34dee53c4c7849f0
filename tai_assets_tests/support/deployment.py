"""A real deployment under real faults, for the fault suite and the long-fault benchmark.

`Deployment` is `python -m tai_assets.deploy.serve` (what `./tai run` starts) for one
DAGSTER_HOME and data folder; `Faults` applies one fault at a time to it (kill -9 of a process
kind, a full or read-only folder, the warehouse locked by another process); the functions below
settle the runs afterwards and do the accounting from the simulator's side.
"""

import bisect
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from tai_assets.common.ports import free_port
from tai_assets.core.polls import naive_utc
from tai_assets.core.spool import PollSpool, SpoolUnavailable
from tai_assets.dagster_internals.ticks import sensor_states
from tai_assets.defs.polling.sensors import SENSOR_OF_SOURCE, PollingCursor
from tai_assets.deploy.serve import GROUPS_FILE, descendants
from tai_assets.settings import PROJECT_DIR
from tai_assets.simulator.faults import POLL_WINDOW_S, WORLDS_PATH
from tai_assets.simulator.launch import tai_environment
from tai_assets.warehouse.connection import open_waiting_for_lock

DERIVED = (
    "core.server_online",
    "core.player_sessions",
    "core.world_sessions",
    "core.worlds_online",
    "core.world_session_stats",
)


def deployment_environment(
    ports: dict, home: Path, data: Path, interval: int, batch: int, lock_wait: int
) -> dict[str, str]:
    """Return the environment of a deployment polling the simulator at `ports` every
    `interval` seconds in batches of `batch`, on free web and code-server ports."""
    return {
        **os.environ,
        **tai_environment(ports),
        "DAGSTER_HOME": str(home),
        "TAI_DATA_DIR": str(data),
        "TAI_POLL_INTERVAL_SECONDS": str(interval),
        "TAI_POLL_BATCH": str(batch),
        "TAI_WAREHOUSE_LOCK_WAIT_SECONDS": str(lock_wait),
        "TAI_WEB_PORT": str(free_port()),
        "TAI_CODE_SERVER_PORT": str(free_port()),
    }


def deployment_processes(home: Path) -> list[int]:
    """Return the live processes whose environment names this deployment's DAGSTER_HOME."""
    marker = f"DAGSTER_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if state not in ("Z", "X") and marker in environ:
            found.append(int(entry.name))
    return found


def command_of(pid: int) -> bytes:
    """Return a process's command line, or b"" once it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def forkservers_of(parent_pid: int) -> list[int]:
    """Return the pids of the multiprocessing forkservers that `parent_pid` started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if parent == parent_pid and b"multiprocessing.forkserver" in command:
            found.append(int(stat.parent.name))
    return found


def holds_file(pid: int, path: Path) -> bool:
    """Return whether the process has `path` open."""
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


class Deployment:
    """The supervisor and what it runs, for one DAGSTER_HOME and data folder."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.supervisor: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the supervisor in a session of its own, its output appended to the log."""
        with self.log.open("a") as out:
            self.supervisor = subprocess.Popen(
                [sys.executable, "-m", "tai_assets.deploy.serve"],
                env=self.env,
                cwd=PROJECT_DIR,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def find(self, needle: bytes) -> list[int]:
        """Return the supervisor's descendants whose command line contains `needle`."""
        return [pid for pid in descendants(self.supervisor.pid) if needle in command_of(pid)]

    def wait_for(self, needle: bytes, seconds: float = 120) -> list[int]:
        """Return the processes `find` finds, waiting up to `seconds` for one to exist."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.find(needle)
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"no {needle!r} process in the deployment")

    def run_workers(self) -> list[int]:
        """Return the run workers (the forkserver's children)."""
        workers = []
        for forkserver in self.find(b"multiprocessing.forkserver"):
            workers.extend(descendants(forkserver))
        return workers

    def stop(self, seconds: float = 120) -> float:
        """SIGTERM the supervisor, and again a second later as an impatient operator would
        (the stop must still end every process and spool what is held); wait for it and return
        how long the stop took."""
        started = time.monotonic()
        self.supervisor.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.supervisor.wait(timeout=1)
        self.supervisor.send_signal(signal.SIGTERM)
        self.supervisor.wait(timeout=seconds)
        return time.monotonic() - started


def simulator_stats(ports: dict) -> dict:
    """Return what the simulator has answered so far (`/_sim/stats`)."""
    with urllib.request.urlopen(f"{ports['http_base_url'].rsplit('/api', 1)[0]}/_sim/stats") as r:
        return json.loads(r.read())


def polls_held_in_cursors(home: str) -> int | None:
    """Return how many polls the polling sensors' cursors in the instance at `home` hold
    (taken while the spool could not be written), or None while the instance cannot be read."""
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = home  # dagster.yaml names its folders by this variable
    try:
        with dg.DagsterInstance.from_config(home) as instance:
            return sum(
                len(PollingCursor.decode(getattr(state.instigator_data, "cursor", None)).unspooled)
                for name in SENSOR_OF_SOURCE.values()
                for state in sensor_states(instance, name)
            )
    except Exception:  # a disk being repaired, a locked SQLite file: ask again
        return None
    finally:
        if previous is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = previous


def polls_between(spool: PollSpool, source: str, start: datetime, end: datetime) -> int:
    """Return how many polls of `source` the spool holds (delivered ones are kept a day)
    taken between `start` and `end`."""
    polled = [datetime.fromisoformat(r["polled_at"]) for r in spool.recent(source, 100_000)]
    return sum(start <= instant <= end for instant in polled)


def wait_delivered_through(spool: PollSpool, seq: int, seconds: float) -> float:
    """Wait until no poll up to `seq` is pending; return how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            pending = [p.seq for s in ("server", "worlds") for p in spool.pending(s)]
        except SpoolUnavailable:
            pending = [0]
        if not any(s <= seq for s in pending):
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"polls up to spool entry {seq} still pending after {seconds} s")


def wait_first_batches(spool: PollSpool, polls: int, seconds: float = 180) -> None:
    """Wait until the spool holds `polls` polls and none of them is pending: the deployment
    polls and delivers."""
    deadline = time.monotonic() + seconds
    while spool.newest_seq() < polls:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {polls} polls spooled after {seconds} s")
        time.sleep(0.5)
    wait_delivered_through(spool, polls, max(1.0, deadline - time.monotonic()))


@contextlib.contextmanager
def small_tmpfs(folder: Path, on_failure: Callable[[str], None]) -> Iterator[Path]:
    """Mount a 64 MiB tmpfs on `folder` (a disk that can really be filled or made read-only);
    call `on_failure` (a skip, or an error) when mounting is impossible here."""
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)]).returncode:
        on_failure("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(folder)])
        subprocess.run(["umount", "-l", str(folder)])


@contextlib.contextmanager
def small_ext4(folder: Path, on_failure: Callable[[str], None]) -> Iterator[Path]:
    """Mount a 64 MiB ext4 image (loop device, `errors=remount-ro`) on `folder`: a disk that
    can be filled, and that the kernel turns read-only under open files on an error, as a
    failing disk does (`disk_error`). Call `on_failure` when loop mounts are impossible."""
    folder.mkdir()
    image = folder.with_name(folder.name + ".ext4")
    subprocess.run(["truncate", "-s", "64M", str(image)], check=True)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True)
    if made.returncode or mount_ext4(image, folder).returncode:
        on_failure("cannot mount an ext4 image on a loop device here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)])


def mount_ext4(image: Path, folder: Path) -> subprocess.CompletedProcess:
    """Mount the ext4 `image` on `folder` through a loop device."""
    options = "loop,errors=remount-ro"
    return subprocess.run(["mount", "-o", options, str(image), str(folder)], capture_output=True)


def trigger_disk_error(folder: Path) -> None:
    """Make the ext4 disk mounted at `folder` fail as a dying disk does: the kernel turns it
    read-only at once, under every open file."""
    device = Path(
        subprocess.run(
            ["findmnt", "-no", "SOURCE", str(folder)], capture_output=True, text=True
        ).stdout.strip()
    ).name
    Path(f"/sys/fs/ext4/{device}/trigger_fs_error").write_text("tai fault\n")


def remount(folder: Path, mode: str, seconds: float = 120) -> None:
    """Remount `folder` read-only (`ro`) or writable (`rw`). The kernel refuses `ro` while a
    file there is open for writing (a run, a tick, a storage connection): retry until it
    takes."""
    deadline = time.monotonic() + seconds
    command = ["mount", "-o", f"remount,{mode}", str(folder)]
    while subprocess.run(command, capture_output=True).returncode:
        if time.monotonic() > deadline:
            raise AssertionError(f"{folder} never became {mode}")
        time.sleep(0.02)


# A source's raw table, the columns of its rows' key, and the key of its polls in the
# simulator's `poll_times`.
POLLED = {
    "server": ("raw.raw_server_polls", "polled_at", "i"),
    "worlds": ("raw.raw_world_polls", "polled_at, world_index", WORLDS_PATH),
}
# A poll is stamped when its answer is in: at most its budget after the simulator answered.
ANSWER_TO_STAMP_S = POLL_WINDOW_S + 1.0
CLOCK_SLACK_S = 0.05


@dataclass(frozen=True)
class KillWindow:
    """When processes that take polls (the code server's sensors, the supervisor's stand-in)
    were killed: from the first kill to the moment the last one was surely dead."""

    fault: str
    start: float  # epoch seconds
    end: float

    def took(self, answered_at: float) -> bool:
        """Return whether a poll answered at `answered_at` may have been in flight then."""
        return self.start - ANSWER_TO_STAMP_S <= answered_at <= self.end


class Faults:
    """The faults the suite applies, one at a time, to a running deployment."""

    def __init__(
        self,
        deployment: Deployment,
        spool: PollSpool,
        ports: dict,
        database: Path,
        interval: int,
    ):
        self.deployment, self.spool, self.ports = deployment, spool, ports
        self.database, self.interval = database, interval
        self.kills: list[KillWindow] = []

    def newest_spooled(self, seconds: float = 120) -> int:
        """Return the newest spool entry, once the polls the sensors kept in their cursors
        (while the spool could not be written) are in the spool: until then the newest entry
        does not cover every poll taken."""
        time.sleep(2 * self.interval)
        deadline = time.monotonic() + seconds
        while (held := polls_held_in_cursors(self.deployment.env["DAGSTER_HOME"])) != 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"{held} polls still held in sensor cursors after {seconds} s")
            time.sleep(0.5)
        return self.spool.newest_seq()

    def between_polls(self) -> None:
        """Return right after both sensors' polls of a tick reached the spool, at a moment when
        every answer the simulator gave is in the spool.

        A process killed in the milliseconds between a source's answer and the spool's commit
        takes that one poll with it: the source answered a process that no longer exists.
        """
        newest = self.spool.newest_seq()
        deadline = time.monotonic() + 60
        while self.spool.newest_seq() < newest + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        while time.monotonic() < deadline:
            stats = simulator_stats(self.ports)
            with contextlib.closing(sqlite3.connect(self.spool.path)) as conn:
                spooled = dict(conn.execute("SELECT source, count(*) FROM polls GROUP BY source"))
            answered = (
                stats["udp_polls"].get("i", 0),
                stats["http_requests"].get("/api/worlds", 0),
            )
            if answered == (spooled.get("server", 0), spooled.get("worlds", 0)):
                return
            time.sleep(0.02)

    def kill(self, needle: bytes) -> None:
        """kill -9 every process of the deployment whose command line holds `needle`."""
        pids = self.deployment.wait_for(needle)
        self.between_polls()
        started = time.time()
        for pid in pids:  # a run worker forked by the forkserver may have finished
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.kills.append(KillWindow(f"kill -9 {needle.decode()}", started, time.time()))
        time.sleep(3 * self.interval)

    def kill_worker_holding_warehouse(self) -> None:
        """kill -9 the first run worker seen with the warehouse file open."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            holders = [p for p in self.deployment.run_workers() if holds_file(p, self.database)]
            if holders:
                os.kill(holders[0], signal.SIGKILL)
                return
            time.sleep(0.02)
        raise AssertionError("no run worker was seen holding the warehouse")

    def kill_supervisor(self) -> None:
        """kill -9 the supervisor alone, then start a new one (as systemd would)."""
        self.between_polls()
        started = time.time()
        os.kill(self.deployment.supervisor.pid, signal.SIGKILL)
        self.deployment.supervisor.wait()
        time.sleep(2 * self.interval)
        # The new supervisor stops what the old one left before it starts a daemon.
        self.deployment.start()
        self.deployment.wait_for(b"dagster-daemon")
        self.kills.append(KillWindow("kill -9 supervisor, then start", started, time.time()))

    def kill_everything(self, new_boot_of: Path | None = None) -> None:
        """kill -9 the supervisor and every process below it at once, then start again.

        With `new_boot_of` (a DAGSTER_HOME), as a power loss and a machine restart: the process
        groups the supervisor recorded there now belong to an earlier boot (after a real
        restart, their numbers may name other processes)."""
        self.between_polls()
        supervisor = self.deployment.supervisor.pid
        started = time.time()
        for pid in [supervisor, *descendants(supervisor)]:
            os.kill(pid, signal.SIGKILL)
        self.deployment.supervisor.wait()
        self.kills.append(KillWindow("kill -9 of every process", started, time.time()))
        if new_boot_of is not None:
            groups = new_boot_of / GROUPS_FILE
            _, *recorded = groups.read_text().split()
            groups.write_text("\n".join(["an-earlier-boot", *recorded]) + "\n")
        self.deployment.start()
        self.deployment.wait_for(b"dagster-daemon")

    def fill(self, folder: Path, seconds: float) -> None:
        """Fill `folder`'s filesystem to the last byte for `seconds`, then free it."""
        filler = folder / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], capture_output=True)
        time.sleep(seconds)
        filler.unlink()

    def read_only(self, folder: Path, seconds: float) -> None:
        """Make `folder`'s filesystem read-only for `seconds`, then writable again."""
        remount(folder, "ro")
        try:
            time.sleep(seconds)
        finally:
            remount(folder, "rw")

    def disk_error(self, folder: Path, seconds: float) -> None:
        """Make the ext4 disk at `folder` (`small_ext4`) fail: the kernel remounts it read-only
        at once, under every open file. After `seconds`, repair it as an operator would: stop
        the deployment, unmount, fsck, mount, start it again."""
        trigger_disk_error(folder)
        time.sleep(seconds)
        self.deployment.stop()
        image = folder.with_name(folder.name + ".ext4")
        subprocess.run(["umount", "-l", str(folder)], check=True)
        repaired = subprocess.run(["e2fsck", "-fy", str(image)], capture_output=True)
        assert repaired.returncode in (0, 1), repaired.stdout  # 1: errors corrected
        assert mount_ext4(image, folder).returncode == 0
        self.deployment.start()
        self.deployment.wait_for(b"dagster-daemon")

    def hold_warehouse_lock(self, seconds: float) -> None:
        """Hold the warehouse's write lock from this process for `seconds`."""
        holder = open_waiting_for_lock(str(self.database), read_only=False, lock_wait_seconds=300)
        try:
            time.sleep(seconds)
        finally:
            holder.close()


def wait_for_runs_to_settle(instance: dg.DagsterInstance, seconds: float = 180) -> list[str]:
    """Wait until no run older than two minutes is queued, starting or started; return those
    still unfinished after `seconds`."""
    deadline = time.monotonic() + seconds
    unfinished = [
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    ]
    while True:
        now = time.time()
        stale = [
            f"{record.dagster_run.run_id} {record.dagster_run.status.value}"
            for record in instance.get_run_records(filters=dg.RunsFilter(statuses=unfinished))
            if now - record.create_timestamp.timestamp() > 120
        ]
        if not stale or time.monotonic() > deadline:
            return stale
        time.sleep(5)


def failure_messages(instance: dg.DagsterInstance) -> list[str]:
    """Return the error messages of every failed step and every failed run."""
    messages = []
    for record in instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE])
    ):
        for entry in instance.all_logs(record.dagster_run.run_id):
            event = entry.dagster_event
            if event is not None and event.is_step_failure and event.step_failure_data.error:
                error = event.step_failure_data.error
                while error is not None:
                    messages.append(error.message)
                    error = error.cause
    return messages


_DRAIN_AND_REBUILD = """
import shutil, sys
from pathlib import Path
import dagster as dg
from tai_assets.definitions import build_definitions
from tai_assets.settings import Settings

def run(settings, job):
    definitions = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    assert definitions.resolve_job_def(job).execute_in_process(instance=instance).success

settings = Settings()
run(settings, "ingest_polls_job")
shutil.copy(settings.warehouse_path, sys.argv[1])
copy = settings.model_copy(update={"warehouse_path_setting": Path(sys.argv[1])})
run(copy, "rebuild_derived_job")
"""


def drain_and_rebuild_copy(env: dict, scratch: Path) -> Path:
    """Deliver what the spool still holds (as the next deployment's first runs would), then
    fully rebuild the derived tables of a copy of the warehouse; return the copy. Both run in
    one fresh process with `env`, through the real code location's jobs."""
    copy = scratch / "rebuilt.duckdb"
    command = [sys.executable, "-c", _DRAIN_AND_REBUILD, str(copy)]
    subprocess.run(command, env=env, cwd=PROJECT_DIR, check=True)
    return copy


def derived_tables(database: Path) -> dict:
    """Return every row of the derived core tables, sorted."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in DERIVED}


def never_spooled(answered: list[float], stamped: list[float]) -> list[float]:
    """Return the instants of the answers no spooled poll came from.

    Each spooled poll is stamped after its answer: it is matched to the latest answer not
    matched yet that came at most ANSWER_TO_STAMP_S before its stamp."""
    answered = sorted(answered)
    matched = [False] * len(answered)
    for stamp in sorted(stamped):
        index = bisect.bisect_right(answered, stamp + CLOCK_SLACK_S) - 1
        while index >= 0 and matched[index]:
            index -= 1
        if index >= 0 and answered[index] >= stamp - ANSWER_TO_STAMP_S:
            matched[index] = True
    return [instant for instant, found in zip(answered, matched, strict=True) if not found]


def account(database: Path, stats: dict, spool: PollSpool, kills: list[KillWindow]) -> dict:
    """Compare what the simulator answered with what the spool and the raw tables hold.

    Per source: `_lost` counts answers that never reached the spool unless a process taking
    polls was killed while that poll was in flight (`_in_flight`, listed in `in_flight`: the
    answer went to a process that no longer exists), and spooled polls missing from the raw
    table; `_duplicated` counts rows beyond one per poll; `_unknown` polls in the raw table
    that the spool never held."""
    result: dict = {}
    in_flight: list[str] = []
    with duckdb.connect(str(database), read_only=True) as conn:
        for source, (table, row_key, key) in POLLED.items():
            stored = {
                polled_at
                for (polled_at,) in conn.execute(
                    f"SELECT DISTINCT polled_at FROM {table} WHERE status <> 'unreachable'"
                ).fetchall()
            }
            (duplicated,) = conn.execute(
                f"SELECT count(*) - count(DISTINCT ({row_key})) FROM {table}"
            ).fetchone()
            spooled = {
                naive_utc(record["polled_at"])
                for record in spool.recent(source, 10_000_000)
                if record["status"] != "unreachable"
            }
            answered = stats["poll_times"].get(key, [])
            stamps = [instant.replace(tzinfo=UTC).timestamp() for instant in spooled]
            missing = never_spooled(answered, stamps)
            excused = []
            for instant in missing:
                kill = next((k for k in kills if k.took(instant)), None)
                if kill is not None:
                    excused.append(instant)
                    in_flight.append(
                        f"{source} poll answered {kill.start - instant:+.2f} s before "
                        f"'{kill.fault}'"
                    )
            result |= {
                f"{source}_served": len(answered),
                f"{source}_polls": len(stored),
                f"{source}_in_flight": len(excused),
                f"{source}_lost": len(missing) - len(excused) + len(spooled - stored),
                f"{source}_duplicated": duplicated,
                f"{source}_unknown": len(stored - spooled),
            }
        unreachable = conn.execute(
            "SELECT count(*) FROM raw.raw_server_polls WHERE status = 'unreachable'"
        ).fetchone()[0]
    return {
        **result,
        "server_unreachable": unreachable,
        "server_queries": stats["udp_requests"].get("i", 0),
        "server_answers": stats["udp_answers"].get("i", 0),
        "in_flight": in_flight,
    }


def tear_down(home: Path, ports: dict, simulator: subprocess.Popen) -> dict:
    """SIGKILL whatever of the deployment at `home` is left and stop the simulator; return
    what the simulator served (`simulator_stats`)."""
    for pid in deployment_processes(home):
        os.kill(pid, signal.SIGKILL)
    stats = simulator_stats(ports)
    simulator.terminate()
    simulator.wait(timeout=30)
    return stats


def settle_accounts(
    env: dict, database: Path, stats: dict, scratch: Path, faults: "Faults"
) -> tuple[dict, list[str]]:
    """Deliver what the spool still holds, then return the accounting against what the
    simulator served (`account`, with the kills `faults` made) and the derived tables that
    differ from a full rebuild (none, if all is well)."""
    rebuilt = derived_tables(drain_and_rebuild_copy(env, scratch))
    accounting = account(database, stats, faults.spool, faults.kills)
    stored = derived_tables(database)
    return accounting, [table for table in DERIVED if rebuilt[table] != stored[table]]


def assert_nothing_lost(accounting: dict) -> None:
    """Fail unless every poll the simulator answered is in the raw tables exactly once, but
    for polls in flight in a process that was killed (never collected: not in the spool)."""
    for source in POLLED:
        counts = [accounting[f"{source}_{what}"] for what in ("lost", "duplicated", "unknown")]
        assert counts == [0, 0, 0], accounting
    # Every `i` datagram was answered (no loss on loopback).
    assert accounting["server_queries"] == accounting["server_answers"], accounting
