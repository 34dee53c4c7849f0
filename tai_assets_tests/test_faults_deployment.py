"""Real faults against a real deployment: `python -m tai_assets.deploy.serve` (what `./tai run`
starts) polls the simulator every 2 s in batches of 3, its data folder on a small tmpfs, its
DAGSTER_HOME on a small ext4 disk.

Three deployments side by side, each through its part of the plan one fault after another. On
a SQLite instance: kill -9 of a run worker while it holds the warehouse, of the forkserver, the
code server, the daemon and the supervisor itself, SIGKILL of the whole deployment and a
restart; on another: kill -9 of the webserver, the data folder full, then DAGSTER_HOME full,
DAGSTER_HOME failing into read-only, and the warehouse locked by another process for longer
than a run waits and its retry waits. On a PostgreSQL instance: kill -9 of a run worker and of
the daemon, a machine restart (every process killed at once), the data folder full, then
read-only.
After each fault ends, the polls taken up to then must reach the warehouse; the time that takes
is printed. At the end the accounting from the simulator's side: every poll it answered is in
the raw tables exactly once, the derived tables equal a full rebuild, no run was left
unfinished, and no process of the deployment is alive.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from tai_assets.common.clock import utc_now
from tai_assets.core.spool import PollSpool
from tai_assets.deploy.stand_in import SENSOR_LOOP_SECONDS
from tai_assets.settings import PROJECT_DIR
from tai_assets.simulator.launch import start_process
from tai_assets_tests.support.deployment import (
    Deployment,
    Faults,
    assert_nothing_lost,
    command_of,
    deployment_environment,
    deployment_processes,
    failure_messages,
    polls_between,
    settle_accounts,
    small_ext4,
    tear_down,
    wait_delivered_through,
    wait_first_batches,
    wait_for_runs_to_settle,
)
from tai_assets_tests.support.postgres import fresh_database
from tai_assets_tests.support.services import unavailable

INTERVAL, BATCH = 2, 3
# Dagster evaluates sensors at most every 5 s: polls come that often (the run queue is checked
# every INTERVAL).
POLL_EVERY = max(INTERVAL, SENSOR_LOOP_SECONDS)
LOCK_WAIT = 15
FAULT_SECONDS = 10
# The bound: after a fault ends, its backlog is in the warehouse within two poll
# intervals plus one batch (25 s here). Waiting stops at CATCH_UP_LIMIT.
CATCH_UP_TARGET = 2 * POLL_EVERY + BATCH * POLL_EVERY
CATCH_UP_LIMIT = 120


@pytest.fixture
def home_mount(tmp_path):
    """DAGSTER_HOME, on an ext4 disk of its own (it can fail into read-only under open files)."""
    with small_ext4(tmp_path / "dagster_home", unavailable) as mount:
        yield mount


# The fault plan in three parts, each against a deployment of its own, side by side: the
# process kills and the instance's disk faults on a SQLite instance; on PostgreSQL (where the
# instance is not in DAGSTER_HOME) the kills that matter there and the data folder's faults
# (the spool and the warehouse are the same with either instance). A fault that any of them
# would prove equally (the webserver's kill, the data folder read-only) runs in one part only,
# where it evens out the three parts' durations; every process is killed at once on both
# instances, on SQLite within one boot and on PostgreSQL as a machine restart.
PROCESS_KILLS, DISK_FAULTS, ON_POSTGRES = "process kills", "disk faults", "postgres"


@dataclass(frozen=True)
class PlannedFault:
    parts: frozenset[str]  # the deployments that go through it
    name: str
    apply: Callable[..., None]
    args: tuple = ()
    lasts: float | None = None  # seconds, for a fault that lasts


def fault_plan(faults: Faults, data_mount: Path, home: Path) -> list[PlannedFault]:
    """Return every fault, in the order they are applied."""
    kills, both = frozenset({PROCESS_KILLS}), frozenset({PROCESS_KILLS, ON_POSTGRES})
    seconds, lock_seconds = FAULT_SECONDS, 2 * LOCK_WAIT + FAULT_SECONDS
    return [
        PlannedFault(
            both, "kill -9 run worker holding the warehouse", faults.kill_worker_holding_warehouse
        ),
        PlannedFault(kills, "kill -9 forkserver", faults.kill, (b"multiprocessing.forkserver",)),
        PlannedFault(kills, "kill -9 code server", faults.kill, (b"api grpc",)),
        PlannedFault(both, "kill -9 daemon", faults.kill, (b"dagster-daemon",)),
        PlannedFault(
            frozenset({DISK_FAULTS}), "kill -9 webserver", faults.kill, (b"dagster-webserver",)
        ),
        PlannedFault(kills, "kill -9 supervisor, then start it", faults.kill_supervisor),
        PlannedFault(kills, "kill -9 of every process, then start", faults.kill_everything),
        PlannedFault(
            frozenset({ON_POSTGRES}),
            "machine restart (every process killed, a new boot), then start",
            faults.kill_everything,
            (home,),
        ),
        PlannedFault(
            frozenset({DISK_FAULTS, ON_POSTGRES}),
            f"data folder full for {seconds} s",
            faults.fill,
            (data_mount, seconds),
            seconds,
        ),
        PlannedFault(
            frozenset({DISK_FAULTS}),
            f"DAGSTER_HOME full for {seconds} s",
            faults.fill,
            (home, seconds),
            seconds,
        ),
        PlannedFault(
            frozenset({ON_POSTGRES}),
            f"data folder read-only for {seconds} s",
            faults.read_only,
            (data_mount, seconds),
            seconds,
        ),
        # The kernel refuses to remount a filesystem read-only while files there are open for
        # writing, and the instance's are: DAGSTER_HOME turns read-only the way a failing disk
        # does, and an operator repairs it (stop tai, fsck, mount, start tai).
        PlannedFault(
            frozenset({DISK_FAULTS}),
            f"DAGSTER_HOME read-only (disk error) for {seconds} s, then repaired",
            faults.disk_error,
            (home, seconds),
            seconds,
        ),
        # Longer than a run waits (LOCK_WAIT), and than its retry (queued within seconds of the
        # failure) waits too.
        PlannedFault(
            frozenset({DISK_FAULTS}),
            f"warehouse locked by another process {lock_seconds} s",
            faults.hold_warehouse_lock,
            (lock_seconds,),
            lock_seconds,
        ),
    ]


def faults_of(part: str, plan: list[PlannedFault]) -> list[PlannedFault]:
    """Return the faults one deployment goes through: its part of the plan."""
    return [fault for fault in plan if part in fault.parts]


@pytest.mark.slow
@pytest.mark.timed
@pytest.mark.timeout(1500)
@pytest.mark.parametrize(
    ("storage", "part"),
    [("sqlite", PROCESS_KILLS), ("sqlite", DISK_FAULTS), ("postgres", ON_POSTGRES)],
    ids=["sqlite-process-kills", "sqlite-disk-faults", "postgres"],
)
def test_no_poll_is_lost_or_duplicated_whatever_fails(
    data_mount, home_mount, tmp_path, monkeypatch, request, storage, part
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
        **deployment_environment(ports, home, data_mount, INTERVAL, BATCH, LOCK_WAIT),
        **instance_env,
    }
    spool = PollSpool(data_mount / "spool.sqlite3")
    deployment = Deployment(env, tmp_path / "deployment.log")
    faults = Faults(deployment, spool, ports, database, INTERVAL)
    catch_up: dict[str, float] = {}
    took: dict[str, float] = {}  # fault → seconds from applying it to its backlog delivered
    polled_during: dict[str, tuple[int, int]] = {}  # fault → (server polls taken, due)
    plan = faults_of(part, fault_plan(faults, data_mount, home))

    try:
        deployment.start()
        deployment.wait_for(b"dagster-daemon")
        wait_first_batches(spool, 2 * BATCH)  # both sources' first batch is in
        for fault in plan:
            started = utc_now()
            fault.apply(*fault.args)
            newest = faults.newest_spooled()
            catch_up[fault.name] = wait_delivered_through(spool, newest, CATCH_UP_LIMIT)
            took[fault.name] = (utc_now() - started).total_seconds()
            if fault.lasts is not None:
                end = started + timedelta(seconds=fault.lasts)
                taken = polls_between(spool, "server", started, end)
                polled_during[fault.name] = (taken, int(fault.lasts / POLL_EVERY))

        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            unfinished = wait_for_runs_to_settle(instance)
            failures = failure_messages(instance)
        stop_seconds = deployment.stop()
        left = deployment_processes(home)
    finally:
        stats = tear_down(home, ports, simulator)

    accounting, unlike_rebuild = settle_accounts(env, database, stats, tmp_path, faults)
    print("\nfault → seconds until every poll taken so far was in the warehouse")
    for fault, seconds in catch_up.items():
        print(f"  {fault}: {seconds:.1f} (the fault and its catch-up: {took[fault]:.0f} s)")
    print("fault → server polls taken during it / polls due")
    for fault, (taken, due) in polled_during.items():
        print(f"  {fault}: {taken}/{due}")
    print(f"accounting: {accounting}; stop took {stop_seconds:.1f} s")
    print("answered, never spooled (in flight in a killed process):", accounting["in_flight"])

    assert_nothing_lost(accounting)
    assert max(catch_up.values()) <= CATCH_UP_TARGET, catch_up
    # The deployment kept polling through the faults: a few polls for each fault at least.
    assert accounting["server_polls"] >= 3 * len(catch_up), (accounting, len(catch_up))
    # Through every lasting fault, polls were taken (by the sensors, or by the supervisor
    # while Dagster could not record ticks): at least half of those due.
    assert all(taken >= due / 2 for taken, due in polled_during.values()), polled_during
    assert spool.pending("server") == [] and spool.pending("worlds") == []
    assert unlike_rebuild == []
    assert unfinished == [], unfinished
    assert left == [], [command_of(pid) for pid in left]
    # The operator is told what happened: a full disk and a read-only folder are named, in
    # the sensors' tick messages (the spool could not take the poll) or in a failed run.
    told = [*failures, (tmp_path / "deployment.log").read_text(errors="replace")]
    if any(fault.name.startswith("data folder full") for fault in plan):
        assert any(f"disk full: {data_mount}" in message for message in told), failures
    if any(fault.name.startswith("data folder read-only") for fault in plan):
        assert any(f"read-only: {data_mount}" in message for message in told), failures
