"""``python -m tai_assets.simulator``: serve the simulated sources until killed.

Prints one JSON line with the bound ports on stdout (``{"host", "udp_port", "http_port",
"http_base_url", "start", "speed"}``), then serves. With ``--truth-out PATH`` the ground truth
from the start to the current simulated instant is rewritten every ``--truth-interval`` real
seconds and on exit (SIGINT/SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import UTC, datetime

from tai_assets.simulator.clocks import AcceleratedClock
from tai_assets.simulator.config import SimulatorConfig
from tai_assets.simulator.core import Simulator


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _spell(text: str) -> tuple[datetime, datetime]:
    start, _, end = text.partition("/")
    if not end:
        raise argparse.ArgumentTypeError("a crowd spell is START/END in ISO 8601")
    return _instant(start), _instant(end)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of the simulator."""
    p = argparse.ArgumentParser(prog="python -m tai_assets.simulator", description=__doc__)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--udp-port", type=int, default=7777, help="0 picks a free port")
    p.add_argument("--http-port", type=int, default=8080, help="0 picks a free port")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    p.add_argument("--start", type=_instant, default=None, help="simulated start (default: now)")
    p.add_argument("--truth-out", default=None, help="write ground truth JSON here")
    p.add_argument("--truth-interval", type=float, default=30.0)
    p.add_argument("--accounts", type=int, default=5000)
    p.add_argument("--per-page", type=int, default=100)
    p.add_argument("--registrations-per-hour", type=float, default=0.0)
    p.add_argument("--peak-online", type=int, default=90)
    p.add_argument("--crowd-spell", type=_spell, action="append", default=[], metavar="START/END")
    p.add_argument("--chrono-login", default="tai")
    p.add_argument("--chrono-token", default="secret-token")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGINT/SIGTERM; return the exit code."""
    args = build_parser().parse_args(argv)
    config = SimulatorConfig(
        seed=args.seed,
        accounts=args.accounts,
        per_page=args.per_page,
        registrations_per_hour=args.registrations_per_hour,
        peak_online=args.peak_online,
        crowd_spells=args.crowd_spell,
        chrono_login=args.chrono_login,
        chrono_token=args.chrono_token,
    )
    start = args.start or datetime.now(UTC).replace(microsecond=0)
    sim = Simulator(config, clock=AcceleratedClock(start, args.speed))
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def write_truth() -> None:
        if args.truth_out:
            sim.truth.write(args.truth_out, start, sim.clock.now())

    with sim.serve(args.host, args.udp_port, args.http_port) as running:
        info = {
            "host": running.host,
            "udp_port": running.udp_port,
            "http_port": running.http_port,
            "http_base_url": running.http_base_url,
            "start": start.isoformat(),
            "speed": args.speed,
        }
        print(json.dumps(info), flush=True)
        print(
            f"tai simulator: SA-MP query on udp {running.host}:{running.udp_port}, "
            f"APIs on {running.http_base_url} (seed {args.seed}, speed x{args.speed:g})",
            file=sys.stderr,
            flush=True,
        )
        try:
            while not stop.wait(args.truth_interval if args.truth_out else 3600):
                write_truth()
        finally:
            write_truth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
