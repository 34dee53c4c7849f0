"""Runs tai's Dagster deployment: one code server, the daemon and the webserver.

`python -m tai_assets.serve` (what `./tai run` starts) launches `dagster api grpc` for
`tai_assets.definitions`, waits until it answers, then starts `dagster-daemon` and
`dagster-webserver` connected to it, all three through `tai_assets.dagster_cli` (runs forked
from a preloaded forkserver, slower polling of the code server). `dagster dev` would put a
reloading proxy in front of the code server, which costs about 1.8 % of a core on its own;
`TAI_DAGSTER_DEV=1` uses it anyway (to reload code from the UI while developing). SIGINT or
SIGTERM, or any of the three exiting, stops all of them: SIGTERM first, SIGKILL after a grace
period.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
GRACE_SECONDS = 30


def free_port() -> int:
    """Return a TCP port free on loopback right now (for a deployment started beside another)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def commands(code_port: int, web_port: int, level: str) -> list[list[str]]:
    """Return the command lines of the code server, the daemon and the webserver."""
    grpc = ["--grpc-host", "127.0.0.1", "--grpc-port", str(code_port)]
    code = ["-m", "tai_assets.definitions", "--location-name", "tai", "-h", "127.0.0.1"]
    tuned = [sys.executable, "-m", "tai_assets.dagster_cli"]  # see its docstring
    code_server = [*tuned, "dagster", "api", "grpc", *code, "-p", str(code_port)]
    web = ["-h", "127.0.0.1", "-p", str(web_port), "--dagster-log-level", level]
    return [
        [*code_server, "--log-level", level],
        [*tuned, "dagster-daemon", "run", *grpc, "--log-level", level],
        [*tuned, "dagster-webserver", *grpc, *web],
    ]


def dev_command(web_port: int, level: str) -> list[str]:
    """Return the `dagster dev` command line (proxy + code server + daemon + webserver)."""
    levels = ["--log-level", level, "--code-server-log-level", level]
    dev = [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1"]
    return [*dev, "-p", str(web_port), *levels]


def code_server_ready(port: int) -> bool:
    """Return whether the code server on `port` answers a health check."""
    check = [sys.executable, "-m", "dagster", "api", "grpc-health-check", "-p", str(port)]
    return subprocess.run(check, capture_output=True).returncode == 0


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop every process: SIGTERM, then SIGKILL what is left after the grace period."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# The daemon thread that launches automatic run retries wakes every 5 s by default and reads the
# event log each time (about 0.3 % of a core here); a retry 30 s after a failure is soon enough.
DAEMON_ENVIRONMENT = {"DAGSTER_EVENT_LOG_CONSUMER_DAEMON_INTERVAL_SECONDS": "30"}


def serve() -> int:
    """Start the deployment and supervise it until a signal or a child's exit; return a code."""
    for name, value in DAEMON_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    code_port = int(os.environ.get("TAI_CODE_SERVER_PORT", "4266"))
    web_port = int(os.environ.get("TAI_WEB_PORT", "3000"))
    level = os.environ.get("LOG_LEVEL", "info").lower()
    processes: list[subprocess.Popen] = []

    def start(command: list[str]) -> None:
        # Each child in its own process group: a Ctrl-C reaches only this supervisor, which
        # decides how the children stop.
        processes.append(subprocess.Popen(command, process_group=0))

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if os.environ.get("TAI_DAGSTER_DEV") == "1":
            start(dev_command(web_port, level))
        else:
            code_server, daemon, webserver = commands(code_port, web_port, level)
            start(code_server)
            while not code_server_ready(code_port):
                if processes[0].poll() is not None:
                    print("tai: the code server did not start", file=sys.stderr)
                    return 1
                time.sleep(1)
            start(daemon)
            start(webserver)
            print(f"tai: Dagster UI on http://127.0.0.1:{web_port} (code server :{code_port})")
        while all(process.poll() is None for process in processes):
            time.sleep(1)
        return 1
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(serve())
