"""Measures what the whole deployment costs: CPU (share of one core) and instance growth.

Starts the simulator (real-time clock) and `./tai run` (code server, daemon, webserver, and the
runs they launch) with a fresh DAGSTER_HOME and warehouse, lets the sensors poll for `--minutes`,
stops everything, and prints:

- CPU-seconds of every process of the deployment (the simulator excluded), as a share of one core;
- the DAGSTER_HOME growth between the end of the warm-up and the end, extrapolated to a day;
- runs launched, and bytes and CPU-seconds per run.

    .venv/bin/python benchmarks/measure_deployment.py   # a warm-up (36 min), then an hour
    .venv/bin/python benchmarks/measure_deployment.py --instance postgres

With `--instance postgres` the instance is a throwaway PostgreSQL server (as the tests start
one: Debian's postgresql, run as root): growth is the database's size, and the server's own
processes count as the deployment's CPU ("postgres").
"""

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

from tai_assets.common.ports import free_port
from tai_assets.defs.polling.jobs import ingest_job
from tai_assets.settings import Settings
from tai_assets.simulator.launch import start_process, tai_environment

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def folder_bytes(path: Path) -> int:
    """Return the bytes of every file below `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


ROLES = {
    "dagster_webserver": "webserver",
    "dagster-webserver": "webserver",
    "_daemon": "daemon",
    "dagster-daemon": "daemon",
    "execute_run": "run workers",
    "multiprocessing": "run workers",  # the code server starts each run in a spawned child
    "api grpc": "code server",
    "code-server": "code server",
    " dev ": "dagster dev (supervisor)",
    "tai_assets.deploy.serve": "supervisor",
}


def process_role(pid: int) -> str:
    """Return which part of the deployment a process is, from its command line."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "other"
    return next((role for marker, role in ROLES.items() if marker in command), "other")


def session_cpu(session_id: int, seen: dict[int, float], roles: dict[int, str]) -> None:
    """Record the CPU-seconds (and role) of every live process in a session, by pid."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) != session_id:  # field 6 of stat: the session id
            continue
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
        pid = int(stat.parent.name)
        seen[pid] = max(seen.get(pid, 0.0), cpu)
        if pid not in roles:
            roles[pid] = process_role(pid)


def sample_until(
    deadline: float,
    session_id: int,
    seen: dict[int, float],
    roles: dict[int, str],
    postmaster: int | None = None,
) -> None:
    """Sample the session's processes (and the PostgreSQL server's) twice a second until the
    deadline."""
    while time.monotonic() < deadline:
        session_cpu(session_id, seen, roles)
        if postmaster is not None:
            postgres_cpu(postmaster, seen, roles)
        time.sleep(0.5)


def postgres_cpu(postmaster: int, seen: dict[int, float], roles: dict[int, str]) -> None:
    """Record the CPU-seconds of the PostgreSQL server: its postmaster and every child."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if pid != postmaster and int(fields[1]) != postmaster:  # field 4 of stat: the parent
            continue
        seen[pid] = max(seen.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
        roles[pid] = "postgres"


def postgres_bytes(url: str) -> tuple[int, Counter]:
    """Return the instance database's size and the bytes of each of its tables (indexes
    included)."""
    import psycopg2

    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (total,) = cursor.fetchone()
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        return int(total), Counter({f"pg/{name}": int(size) for name, size in cursor})


def postmaster_pid(url: str) -> int:
    """Return the pid of the PostgreSQL server behind `url` (the parent of a backend)."""
    import psycopg2

    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])


def cpu_by_role(seen: dict[int, float], roles: dict[int, str]) -> Counter:
    """Return CPU-seconds summed per role."""
    totals: Counter = Counter()
    for pid, cpu in seen.items():
        totals[roles.get(pid, "other")] += cpu
    return totals


def table_bytes(home: Path) -> Counter:
    """Return the bytes of every SQLite table and index of the instance (`db/table`)."""
    sizes: Counter = Counter()
    for db in sorted(home.rglob("*.db")):
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
            query = "SELECT name, sum(pgsize) FROM dbstat GROUP BY name"
            for name, size in conn.execute(query):
                sizes[f"{db.stem}/{name}"] += size
    return sizes


def record_bytes(home: Path) -> dict[str, tuple[int, int]]:
    """Return (rows, bytes of the serialized body) per kind of record in the instance.

    Events by type, sensor ticks by status, run records and daemon evaluations: what the
    instance's growth is made of.
    """
    queries = {
        "event_log.db": "SELECT 'event ' || dagster_event_type, count(*), sum(length(event)) "
        "FROM event_logs GROUP BY 1",
        "schedules.db": "SELECT 'tick ' || status, count(*), sum(length(tick_body)) "
        "FROM job_ticks GROUP BY 1 UNION ALL SELECT 'automation evaluation', count(*), "
        "coalesce(sum(length(asset_evaluation_body)), 0) FROM asset_daemon_asset_evaluations",
        "runs.db": "SELECT 'run record', count(*), coalesce(sum(length(run_body)), 0) FROM runs "
        "UNION ALL SELECT 'run tag', count(*), coalesce(sum(length(key) + length(value)), 0) "
        "FROM run_tags",
    }
    found: dict[str, tuple[int, int]] = {}
    for name, query in queries.items():
        with closing(sqlite3.connect(f"file:{home / name}?mode=ro", uri=True)) as conn:
            for kind, rows, size in conn.execute(query):
                found[kind] = (rows, size)
    return found


def runs_by_job(home: Path, since: str) -> list[tuple[str, int, int]]:
    """Return (job, runs, bytes of their kept event bodies) for the runs created since `since`
    (UTC, 'YYYY-MM-DD HH:MM:SS'), most bytes first: which jobs the window's growth came from,
    so that a once-a-day run is not read as steady state (SQLite instance only)."""
    query = (
        "SELECT r.pipeline_name, count(DISTINCT r.run_id), coalesce(sum(length(e.event)), 0) "
        "FROM runs AS r LEFT JOIN events.event_logs AS e ON e.run_id = r.run_id "
        "WHERE r.create_timestamp >= ? GROUP BY 1 ORDER BY 3 DESC"
    )
    with closing(sqlite3.connect(f"file:{home / 'runs.db'}?mode=ro", uri=True)) as conn:
        conn.execute("ATTACH DATABASE ? AS events", [f"file:{home / 'event_log.db'}?mode=ro"])
        return [(job, runs, size) for job, runs, size in conn.execute(query, [since])]


def utc_stamp() -> str:
    """Return now in UTC as SQLite's CURRENT_TIMESTAMP writes it (Dagster's run timestamps)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def count_runs(env: dict[str, str]) -> int:
    """Return how many runs the instance of `env` holds (read with a separate process)."""
    code = "import dagster as dg; i = dg.DagsterInstance.get(); print(len(i.get_run_records()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def per_day(value: float, seconds: float) -> float:
    """Return a value measured over `seconds` extrapolated to a day."""
    return value / seconds * 86400


def print_breakdown(
    warm: tuple[Counter, dict], end: tuple[Counter, dict], measured: float, top: int = 12
) -> None:
    """Print where the instance's growth went: tables, then kinds of records."""
    growth = end[0] - warm[0]
    print("\n| table or index | growth (KiB) | MB/day |\n|---|---:|---:|")
    for name, size in growth.most_common(top):
        print(f"| {name} | {size / 1024:.0f} | {per_day(size, measured) / 1e6:.2f} |")
    print("\n| record | new rows | bytes per row | MB/day (bodies) |\n|---|---:|---:|---:|")
    rows = []
    for kind, (count, size) in end[1].items():
        old_count, old_size = warm[1].get(kind, (0, 0))
        if count - old_count > 0:
            rows.append((kind, count - old_count, size - old_size))
    for kind, count, size in sorted(rows, key=lambda row: -row[2]):
        print(f"| {kind} | {count} | {size / count:.0f} | {per_day(size, measured) / 1e6:.2f} |")


def scheduled_runs_per_day(job: str) -> float:
    """Return how many runs of `job` the code location's schedules start a day (averaged
    over four weeks: a weekly job counts 1/7)."""
    from dagster._utils.schedules import cron_string_iterator  # Dagster's own cron reading

    from tai_assets.definitions import defs

    start, days = time.time(), 28
    runs = 0
    for schedule in defs.schedules:
        if schedule.job_name != job:
            continue
        ticks = cron_string_iterator(start, schedule.cron_schedule, schedule.execution_timezone)
        for tick in ticks:
            if tick.timestamp() >= start + days * 86400:
                break
            runs += 1
    return runs / days


def print_runs_by_job(jobs: list[tuple[str, int, int]], measured: float, growth: int) -> None:
    """Print the window's runs per job with their kept event bodies. When a job other than
    ingest (daily, or every 6 hours) fell in the window, the growth above counts it every
    hour: also print the growth with its event bodies counted as often as its schedule runs
    it (their run records, check rows and indexes stay in)."""
    print("\n| job | runs | kept event bodies (KiB) | MB/day if every hour were like this |")
    print("|---|---:|---:|---:|")
    for job, runs, size in jobs:
        print(f"| {job} | {runs} | {size / 1024:.0f} | {per_day(size, measured) / 1e6:.2f} |")
    occasional = [(job, runs, size) for job, runs, size in jobs if job != ingest_job.name]
    if occasional:
        in_window = sum(size for _, _, size in occasional)
        a_run = [(job, size / runs, scheduled_runs_per_day(job)) for job, runs, size in occasional]
        scheduled = sum(size * a_day for _, size, a_day in a_run)
        steady = per_day(growth - in_window, measured) + scheduled
        names = ", ".join(f"{job} ({a_day:g} a day)" for job, _, a_day in a_run)
        print(
            f"\nThe window held runs that are not ingest: {names}. Counting their"
            f" {in_window / 1024:.0f} KiB of events as often as their schedules run them"
            f" instead of every hour, the growth is about {steady / 1e6:.2f} MB/day."
        )


def steady_warmup(interval: int, batch: int) -> float:
    """Return the warm-up (minutes) after which the instance's growth is steady: one batch
    cycle, then 16 minutes (past TAI_TICK_RETENTION_MINUTES and
    TAI_RUN_DETAIL_RETENTION_MINUTES, 15 each).

    The sensors purge their ticks and thin the runs' step detail once per batch, so the ticks
    kept and the detail not yet thinned rise and fall over each batch cycle. The first cycle
    has no kept backlog yet: a window starting in it counts the backlog's build-up as growth
    (15 ticks per sensor). After a whole cycle, a window of whole cycles (an hour is three at
    the default batch) starts and ends at the same point of it.
    """
    return interval * batch / 60 + 16


def main() -> None:
    """Run the measurement and print the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, help="in all (default: warm-up + 60)")
    parser.add_argument("--warmup-minutes", type=float, help="default: see steady_warmup")
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--batch", type=int, default=Settings.model_fields["poll_batch"].default)
    parser.add_argument("--instance", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    if args.warmup_minutes is None:
        args.warmup_minutes = steady_warmup(args.interval, args.batch)
    if args.minutes is None:
        args.minutes = args.warmup_minutes + 60
    if args.instance == "postgres":
        from tai_assets_tests.support.postgres import fresh_database, throwaway_server

        with throwaway_server() as server:
            measure(args, fresh_database(server))
    else:
        measure(args, None)


def measure(args: argparse.Namespace, postgres_url: str | None) -> None:
    """Run `./tai run` against the simulator for the window and print what it cost."""

    workdir = Path(tempfile.mkdtemp(prefix="tai-measure-"))
    home = workdir / "dagster_home"
    simulator, ports = start_process(speed=1)
    env = {
        **os.environ,
        **tai_environment(ports),
        "DAGSTER_HOME": str(home),
        "TAI_DATA_DIR": str(workdir / "data"),
        "TAI_POLL_INTERVAL_SECONDS": str(args.interval),
        "TAI_POLL_BATCH": str(args.batch),
        "TAI_WEB_PORT": str(free_port()),
        "TAI_CODE_SERVER_PORT": str(free_port()),
    }
    postmaster = None
    if postgres_url is not None:
        env |= {"TAI_INSTANCE": "postgres", "TAI_POSTGRES_URL": postgres_url}
        postmaster = postmaster_pid(postgres_url)
    started = time.monotonic()
    seen: dict[int, float] = {}
    roles: dict[int, str] = {}
    # Exactly what `./tai run` starts (with the simulator's addresses instead of the real ones).
    dagster = subprocess.Popen(
        [str(ROOT / "tai"), "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def instance_size() -> tuple[int, tuple[Counter, dict]]:
        if postgres_url is None:
            return folder_bytes(home), (table_bytes(home), record_bytes(home))
        total, tables = postgres_bytes(postgres_url)
        return total + folder_bytes(home), (tables, {})

    sample_until(started + args.warmup_minutes * 60, dagster.pid, seen, roles, postmaster)
    (warm_bytes, warm_detail), warm_runs = instance_size(), count_runs(env)
    warm_stamp = utc_stamp()
    warm_at, warm_cpu = time.monotonic(), cpu_by_role(seen, roles)
    sample_until(started + args.minutes * 60, dagster.pid, seen, roles, postmaster)
    (end_bytes, end_detail), end_runs = instance_size(), count_runs(env)
    end_at, end_cpu = time.monotonic(), cpu_by_role(seen, roles)
    os.killpg(dagster.pid, signal.SIGINT)
    try:
        dagster.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(dagster.pid, signal.SIGKILL)
        dagster.wait()
    simulator.terminate()
    simulator.wait()

    elapsed = end_at - started
    measured = end_at - warm_at
    cpu_used = end_cpu - warm_cpu
    cpu = sum(cpu_used.values())
    growth = end_bytes - warm_bytes
    runs = end_runs - warm_runs
    print("| measure | value |\n|---|---|")
    print(
        f"| wall time | {elapsed / 60:.1f} min (interval {args.interval} s, batch {args.batch}, "
        f"{args.instance} instance) |"
    )
    print(
        f"| CPU after warm-up | {cpu:.1f} s in {measured / 60:.1f} min = "
        f"{100 * cpu / measured:.2f} % of one core |"
    )
    for role, seconds in cpu_used.most_common():
        print(f"| CPU: {role} | {seconds:.1f} s = {100 * seconds / measured:.2f} % of one core |")
    print(f"| CPU including start-up | {sum(end_cpu.values()):.1f} s in {elapsed / 60:.1f} min |")
    print(f"| runs launched (after warm-up) | {runs} in {measured / 60:.1f} min |")
    print(
        f"| instance growth | {growth / 1024:.0f} KiB in {measured / 60:.1f} min = "
        f"{per_day(growth, measured) / 1e6:.2f} MB/day |"
    )
    if runs:
        print(
            f"| per run | {growth / runs / 1024:.1f} KiB of instance (ticks included), "
            f"{cpu / runs:.1f} CPU-s of the deployment (idle cost included) |"
        )
    print(f"| DAGSTER_HOME | {end_bytes / 1e6:.2f} MB at the end ({home}) |")
    print_breakdown(warm_detail, end_detail, measured)
    if postgres_url is None:
        print_runs_by_job(runs_by_job(home, warm_stamp), measured, growth)


if __name__ == "__main__":
    main()
