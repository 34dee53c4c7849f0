"""Measures what the whole deployment costs: CPU (share of one core) and instance growth.

Starts the simulator (real-time clock) and `dagster dev` (webserver, daemon, code server, and the
runs they launch) with a fresh DAGSTER_HOME and warehouse, lets the sensors poll for `--minutes`,
stops everything, and prints:

- CPU-seconds of every process of the deployment (the simulator excluded), as a share of one core;
- the DAGSTER_HOME growth between the end of the warm-up and the end, extrapolated to a day;
- runs launched, and bytes and CPU-seconds per run.

    .venv/bin/python benchmarks/measure_deployment.py --minutes 30
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tai_assets.simulator.launch import start_process, tai_environment

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def folder_bytes(path: Path) -> int:
    """Return the bytes of every file below `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def session_cpu(session_id: int, seen: dict[int, float]) -> None:
    """Record the CPU-seconds of every live (or zombie) process in a session, by pid."""
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


def sample_until(deadline: float, session_id: int, seen: dict[int, float]) -> None:
    """Sample the session's processes twice a second until the deadline."""
    while time.monotonic() < deadline:
        session_cpu(session_id, seen)
        time.sleep(0.5)


def count_runs(home: Path) -> int:
    """Return how many runs the instance holds (read with a separate process)."""
    code = "import dagster as dg; i = dg.DagsterInstance.get(); print(len(i.get_run_records()))"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def main() -> None:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warmup-minutes", type=float, default=3)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tai-measure-"))
    home = workdir / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    simulator, ports = start_process(speed=1)
    env = {
        **os.environ,
        **tai_environment(ports),
        "DAGSTER_HOME": str(home),
        "TAI_DATA_DIR": str(workdir / "data"),
        "TAI_POLL_INTERVAL_SECONDS": str(args.interval),
        "TAI_POLL_BATCH": str(args.batch),
    }
    subprocess.run([sys.executable, "-m", "tai_assets.instance"], env=env, check=True, cwd=ROOT)
    started = time.monotonic()
    seen: dict[int, float] = {}
    dagster = subprocess.Popen(
        [str(VENV_BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", "3999"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    sample_until(started + args.warmup_minutes * 60, dagster.pid, seen)
    warm_bytes, warm_runs, warm_at = folder_bytes(home), count_runs(home), time.monotonic()
    warm_cpu = sum(seen.values())
    sample_until(started + args.minutes * 60, dagster.pid, seen)
    end_bytes, end_runs, end_at = folder_bytes(home), count_runs(home), time.monotonic()
    end_cpu = sum(seen.values())
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
    cpu = end_cpu - warm_cpu
    growth = end_bytes - warm_bytes
    runs = end_runs - warm_runs
    print("| measure | value |\n|---|---|")
    print(
        f"| wall time | {elapsed / 60:.1f} min (interval {args.interval} s, batch {args.batch}) |"
    )
    print(
        f"| CPU after warm-up | {cpu:.1f} s in {measured / 60:.1f} min = "
        f"{100 * cpu / measured:.2f} % of one core |"
    )
    print(f"| CPU including start-up | {end_cpu:.1f} s in {elapsed / 60:.1f} min |")
    print(f"| runs launched (after warm-up) | {runs} in {measured / 60:.1f} min |")
    print(
        f"| instance growth | {growth / 1024:.0f} KiB in {measured / 60:.1f} min = "
        f"{growth / measured * 86400 / 1e6:.2f} MB/day |"
    )
    if runs:
        print(
            f"| per run | {growth / runs / 1024:.1f} KiB of instance (ticks included), "
            f"{cpu / runs:.1f} CPU-s of the deployment (idle cost included) |"
        )
    print(f"| DAGSTER_HOME | {end_bytes / 1e6:.2f} MB at the end ({home}) |")


if __name__ == "__main__":
    main()
