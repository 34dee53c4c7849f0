"""Real faults against a real deployment: `python -m tai_assets.deploy.serve` (what `./tai run`
starts) polls the simulator every 2 s in batches of 3, its data folder and DAGSTER_HOME each on a
small tmpfs of its own.

One after another: kill -9 of a run worker while it holds the warehouse, of the forkserver, the
code server, the daemon, the webserver and the supervisor itself; SIGKILL of the whole
deployment and a restart; the data folder full, then DAGSTER_HOME full, then the data folder
read-only; the warehouse locked by another process for longer than a run waits and retries.
After each fault ends, the polls taken up to then must reach the warehouse; the time that takes
is printed. At the end the accounting from the simulator's side: every poll it answered is in
the raw tables exactly once, the derived tables equal a full rebuild, no run was left
unfinished, and no process of the deployment is alive.
"""

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tai_assets.core.spool import PollSpool, SpoolUnavailable
from tai_assets.deploy.serve import descendants
from tai_assets.settings import PROJECT_DIR
from tai_assets.simulator.launch import start_process, tai_environment
from tai_assets.warehouse.connection import open_waiting_for_lock
from tai_assets_tests.support.ports import free_port
from tai_assets_tests.support.postgres import fresh_database

INTERVAL, BATCH = 2, 3
LOCK_WAIT = 15
FAULT_SECONDS = 20
# Catching up takes: the next batch (BATCH polls), the queue's next dequeue (30 s), the run.
CATCH_UP_LIMIT = 2 * INTERVAL + BATCH * INTERVAL + 30 + 60
DERIVED = (
    "core.server_online",
    "core.player_sessions",
    "core.world_sessions",
    "core.worlds_online",
)


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
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


class Deployment:
    """The supervisor and what it runs, for one DAGSTER_HOME and data folder."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.supervisor: subprocess.Popen | None = None

    def start(self) -> None:
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
        return [pid for pid in descendants(self.supervisor.pid) if needle in command_of(pid)]

    def wait_for(self, needle: bytes, seconds: float = 120) -> list[int]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.find(needle)
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"no {needle!r} process in the deployment")

    def run_workers(self) -> list[int]:
        workers = []
        for forkserver in self.find(b"multiprocessing.forkserver"):
            workers.extend(descendants(forkserver))
        return workers


def holds_file(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def newest_spooled(spool: PollSpool) -> int:
    """Return the newest spool entry, once polls a sensor kept in its cursor are spooled."""
    time.sleep(2 * INTERVAL)
    return spool.newest_seq()


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


def simulator_stats(ports: dict) -> dict:
    with urllib.request.urlopen(f"{ports['http_base_url'].rsplit('/api', 1)[0]}/_sim/stats") as r:
        return json.loads(r.read())


@contextlib.contextmanager
def small_tmpfs(folder: Path):
    """Mount a 64 MiB tmpfs on `folder` (a disk that can really be filled or made read-only)."""
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(folder)])
        subprocess.run(["umount", "-l", str(folder)])


@pytest.fixture
def data_mount(tmp_path):
    """The data folder, on a tmpfs of its own."""
    with small_tmpfs(tmp_path / "data") as mount:
        yield mount


@pytest.fixture
def home_mount(tmp_path):
    """DAGSTER_HOME, on a tmpfs of its own."""
    with small_tmpfs(tmp_path / "dagster_home") as mount:
        yield mount


# On PostgreSQL the instance is not in DAGSTER_HOME: the faults that matter there are the
# process kills and the data folder's; the whole list runs on SQLite.
POSTGRES_FAULTS = (
    "kill -9 run worker holding the warehouse",
    "kill -9 daemon",
    "kill -9 of every process, then start",
    f"data folder full for {FAULT_SECONDS} s",
)


@pytest.mark.slow
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("storage", ["sqlite", "postgres"])
def test_no_poll_is_lost_or_duplicated_whatever_fails(
    data_mount, home_mount, tmp_path, monkeypatch, request, storage
):
    home = home_mount
    config, instance_env = "dagster.yaml", {}
    if storage == "postgres":
        config = "dagster-postgres.yaml"
        url = fresh_database(request.getfixturevalue("postgres_server"))
        instance_env = {"TAI_POSTGRES_URL": url}
        monkeypatch.setenv("TAI_POSTGRES_URL", url)
    simulator, ports = start_process(speed=60)
    (home / "dagster.yaml").symlink_to(PROJECT_DIR / "deploy" / config)
    database = data_mount / "tai.duckdb"
    env = {
        **os.environ,
        **tai_environment(ports),
        "DAGSTER_HOME": str(home),
        "TAI_DATA_DIR": str(data_mount),
        "TAI_POLL_INTERVAL_SECONDS": str(INTERVAL),
        "TAI_POLL_BATCH": str(BATCH),
        "TAI_WAREHOUSE_LOCK_WAIT_SECONDS": str(LOCK_WAIT),
        "TAI_WEB_PORT": str(free_port()),
        "TAI_CODE_SERVER_PORT": str(free_port()),
        **instance_env,
    }
    spool = PollSpool(data_mount / "spool.sqlite3")
    deployment = Deployment(env, tmp_path / "deployment.log")
    catch_up: dict[str, float] = {}

    def after(fault: str, apply) -> None:
        if storage == "postgres" and fault not in POSTGRES_FAULTS:
            return
        apply()
        catch_up[fault] = wait_delivered_through(spool, newest_spooled(spool), CATCH_UP_LIMIT)

    def between_polls() -> None:
        # Right after both sensors' polls of a tick reached the spool, and at a moment when
        # every answer the simulator gave is in the spool. A process killed in the milliseconds
        # between a source's answer and the spool's commit takes that one poll with it: the
        # source answered a process that no longer exists.
        newest = spool.newest_seq()
        deadline = time.monotonic() + 60
        while spool.newest_seq() < newest + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        while time.monotonic() < deadline:
            stats = simulator_stats(ports)
            with contextlib.closing(sqlite3.connect(spool.path)) as conn:
                spooled = dict(conn.execute("SELECT source, count(*) FROM polls GROUP BY source"))
            answered = (
                stats["udp_answers"].get("i", 0),
                stats["http_requests"].get("/api/worlds", 0),
            )
            if answered == (spooled.get("server", 0), spooled.get("worlds", 0)):
                return
            time.sleep(0.02)

    def kill(needle: bytes):
        def apply():
            pids = deployment.wait_for(needle)
            between_polls()
            for pid in pids:  # a run worker forked by the forkserver may have finished
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(3 * INTERVAL)

        return apply

    def kill_worker_holding_warehouse():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            holders = [p for p in deployment.run_workers() if holds_file(p, database)]
            if holders:
                os.kill(holders[0], signal.SIGKILL)
                return
            time.sleep(0.02)
        raise AssertionError("no run worker was seen holding the warehouse")

    def kill_supervisor():
        between_polls()
        os.kill(deployment.supervisor.pid, signal.SIGKILL)
        deployment.supervisor.wait()
        time.sleep(2 * INTERVAL)
        deployment.start()
        deployment.wait_for(b"dagster-daemon")

    def kill_everything():
        between_polls()
        for pid in [deployment.supervisor.pid, *descendants(deployment.supervisor.pid)]:
            os.kill(pid, signal.SIGKILL)
        deployment.supervisor.wait()
        deployment.start()
        deployment.wait_for(b"dagster-daemon")

    def fill(folder: Path):
        def apply():
            filler = folder / "filler"
            subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], capture_output=True)
            time.sleep(FAULT_SECONDS)
            filler.unlink()

        return apply

    def data_folder_read_only():
        # The kernel refuses while a file there is open for writing (a run, a tick): retry.
        deadline = time.monotonic() + 60
        while subprocess.run(["mount", "-o", "remount,ro", str(data_mount)]).returncode:
            assert time.monotonic() < deadline, "the data folder never became read-only"
            time.sleep(0.05)
        time.sleep(FAULT_SECONDS)
        subprocess.run(["mount", "-o", "remount,rw", str(data_mount)], check=True)

    def hold_warehouse_lock():
        # Longer than a run waits (LOCK_WAIT) and than its retries come (30 s apart).
        holder = open_waiting_for_lock(str(database), read_only=False, lock_wait_seconds=300)
        try:
            time.sleep(LOCK_WAIT * 5)
        finally:
            holder.close()

    try:
        deployment.start()
        deployment.wait_for(b"dagster-daemon")
        wait_delivered_through(spool, 1, 180)  # the first batch is in
        after("kill -9 run worker holding the warehouse", kill_worker_holding_warehouse)
        after("kill -9 forkserver", kill(b"multiprocessing.forkserver"))
        after("kill -9 code server", kill(b"api grpc"))
        after("kill -9 daemon", kill(b"dagster-daemon"))
        after("kill -9 webserver", kill(b"dagster-webserver"))
        after("kill -9 supervisor, then start it", kill_supervisor)
        after("kill -9 of every process, then start", kill_everything)
        after(f"data folder full for {FAULT_SECONDS} s", fill(data_mount))
        after(f"DAGSTER_HOME full for {FAULT_SECONDS} s", fill(home_mount))
        after(f"data folder read-only for {FAULT_SECONDS} s", data_folder_read_only)
        after(f"warehouse locked by another process {LOCK_WAIT * 5} s", hold_warehouse_lock)

        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            unfinished = wait_for_runs_to_settle(instance)
            failures = failure_messages(instance)
        started_stop = time.monotonic()
        deployment.supervisor.send_signal(signal.SIGTERM)
        deployment.supervisor.wait(timeout=120)
        stop_seconds = time.monotonic() - started_stop
        left = deployment_processes(home)
    finally:
        for pid in deployment_processes(home):
            os.kill(pid, signal.SIGKILL)
        stats = simulator_stats(ports)
        simulator.terminate()
        simulator.wait(timeout=30)

    drain_spool(env)
    accounting = account(database, stats)
    rebuilt = rebuild_copy(env, database, tmp_path)
    print("\nfault → seconds until every poll taken so far was in the warehouse")
    for fault, seconds in catch_up.items():
        print(f"  {fault}: {seconds:.1f}")
    print(f"accounting: {accounting}; stop took {stop_seconds:.1f} s")

    assert accounting["server_lost"] == 0 and accounting["server_duplicated"] == 0, accounting
    assert accounting["worlds_lost"] == 0 and accounting["worlds_duplicated"] == 0, accounting
    assert accounting["server_polls"] > (60 if storage == "sqlite" else 20), accounting
    assert accounting["server_queries"] == accounting["server_served"], accounting
    assert spool.pending("server") == [] and spool.pending("worlds") == []
    assert rebuilt == derived_tables(database)
    assert unfinished == [], unfinished
    assert left == [], [command_of(pid) for pid in left]
    # The operator is told what happened: a full disk and a read-only folder are named, in
    # the sensors' tick messages (the spool could not take the poll) or in a failed run.
    told = [*failures, (tmp_path / "deployment.log").read_text(errors="replace")]
    assert any(f"disk full: {data_mount}" in message for message in told), failures
    if storage == "sqlite":
        assert any(f"read-only: {data_mount}" in message for message in told), failures


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


def drain_spool(env: dict) -> None:
    """Deliver what the spool still holds, as the next deployment's first runs would."""
    code = (
        "from tai_assets.definitions import defs; import dagster as dg\n"
        "for job in ('ingest_server_polls_job', 'ingest_world_polls_job'):\n"
        "    assert defs.resolve_job_def(job).execute_in_process("
        "instance=dg.DagsterInstance.ephemeral()).success\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT_DIR, check=True)


def derived_tables(database: Path) -> dict:
    with duckdb.connect(str(database), read_only=True) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in DERIVED}


def rebuild_copy(env: dict, database: Path, tmp_path: Path) -> dict:
    """Return the derived tables a full rebuild computes from a copy of the raw tables."""
    copy = tmp_path / "rebuilt.duckdb"
    shutil.copy(database, copy)
    code = (
        "from tai_assets.definitions import defs; import dagster as dg\n"
        "assert defs.resolve_job_def('rebuild_derived_job').execute_in_process("
        "instance=dg.DagsterInstance.ephemeral()).success\n"
    )
    rebuild_env = {**env, "TAI_WAREHOUSE_PATH": str(copy)}
    subprocess.run([sys.executable, "-c", code], env=rebuild_env, cwd=PROJECT_DIR, check=True)
    return derived_tables(copy)


def account(database: Path, stats: dict) -> dict:
    """Compare what the simulator answered with what the raw tables hold."""
    with duckdb.connect(str(database), read_only=True) as conn:
        server_rows, server_polls = conn.execute(
            "SELECT count(*), count(DISTINCT polled_at) FROM raw.raw_server_polls "
            "WHERE status <> 'unreachable'"
        ).fetchone()
        world_polls, world_poll_rows = conn.execute(
            "SELECT count(DISTINCT polled_at), count(DISTINCT (polled_at, world_index)) "
            "FROM raw.raw_world_polls WHERE status <> 'unreachable'"
        ).fetchone()
        world_rows = conn.execute("SELECT count(*) FROM raw.raw_world_polls").fetchone()[0]
        unreachable = conn.execute(
            "SELECT count(*) FROM raw.raw_server_polls WHERE status = 'unreachable'"
        ).fetchone()[0]
    # One `i` query per poll (no loss on loopback, so no retries: checked below).
    served_server = stats["udp_answers"].get("i", 0)
    served_worlds = stats["http_requests"].get("/api/worlds", 0)
    return {
        "server_served": served_server,
        "server_polls": server_polls,
        "server_lost": served_server - server_polls,
        "server_duplicated": server_rows - server_polls,
        "server_unreachable": unreachable,
        "server_queries": stats["udp_requests"].get("i", 0),
        "worlds_served": served_worlds,
        "worlds_polls": world_polls,
        "worlds_lost": served_worlds - world_polls,
        "worlds_duplicated": world_rows - world_poll_rows,
    }
