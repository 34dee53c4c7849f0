"""Measures the whole test suite as `./tai test` runs it.

Prints, for each pass: the wall seconds, the machine's busy CPU-seconds over the pass (from
/proc/stat, so every process counts: the servers, deployments and browsers the tests start, and
the kernel's work for them), pytest's summary line, and this machine's speed just before
(CPU-seconds of a fixed pure-Python loop: the same code takes from 0.9 to 1.15 of them here
depending on the hour, and the suite's figures move with it).

    .venv/bin/python benchmarks/measure_suite.py            # one warm pass
    .venv/bin/python benchmarks/measure_suite.py --passes 2

Run it on an otherwise idle machine: /proc/stat counts everything.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def busy_seconds() -> float:
    """Return the CPU-seconds every core spent busy since boot (user, nice, system, irq)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / 100


def machine_speed() -> float:
    """Return the CPU-seconds a fixed pure-Python loop takes (lower is faster)."""
    started = time.process_time()
    sum(i * i for i in range(20_000_000))
    return time.process_time() - started


def measure_pass() -> dict:
    """Run `./tai test` once; return its wall seconds, busy CPU-seconds and summary."""
    speed = machine_speed()
    busy, wall = busy_seconds(), time.monotonic()
    done = subprocess.run(["./tai", "test"], cwd=ROOT, capture_output=True, text=True)
    wall, busy = time.monotonic() - wall, busy_seconds() - busy
    lines = [line for line in done.stdout.splitlines() if " in " in line and "passed" in line]
    summary = lines[-1].strip("= ") if lines else f"exit {done.returncode}"
    return {"wall": wall, "busy": busy, "speed": speed, "summary": summary, "code": done.returncode}


def main() -> int:
    """Measure the requested passes and print one line each; return 1 if a pass failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=1)
    args = parser.parse_args()
    failed = False
    print("wall (s) | busy CPU-s | machine speed (s) | pytest")
    for _ in range(args.passes):
        result = measure_pass()
        failed |= result["code"] != 0
        print(
            f"{result['wall']:.0f} | {result['busy']:.0f} | {result['speed']:.2f} | "
            f"{result['summary']}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
