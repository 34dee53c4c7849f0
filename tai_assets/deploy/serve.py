"""Runs tai's Dagster deployment: one code server, the daemon and the webserver, supervised.

`python -m tai_assets.deploy.serve` (what `./tai run` starts) launches `dagster api grpc` for
`tai_assets.definitions`, waits until it answers, then starts `dagster-daemon` and
`dagster-webserver` connected to it, all three through `tai_assets.dagster_internals.cli`
(runs forked from a preloaded forkserver, slower polling of the code server). `dagster dev`
would put a reloading proxy in front of the code server, which costs about 1.8 % of a core;
`TAI_DAGSTER_DEV=1` uses it anyway (to reload code from the UI while developing).

Supervision:
- A child that exits is started again, after a back-off that doubles from 1 s to 60 s (and
  resets once the child has run for 5 minutes); the others keep running.
- Each child gets SIGTERM from the kernel if this supervisor dies (PR_SET_PDEATHSIG), and the
  process groups of every child are written to `$DAGSTER_HOME/tai-serve.groups`: a supervisor
  starting after one that was killed first kills what is left of those groups (run workers
  included), then marks the runs they were executing failed (`tai_assets.instance.prepare`).
- While Dagster cannot take polls (DAGSTER_HOME full or read-only, the daemon or the code
  server down), the supervisor takes them into the spool itself (`stand_in.py`).
- SIGINT or SIGTERM stops the deployment: the daemon first (no new ticks or runs), then the
  runs in flight get up to GRACE_SECONDS to finish, then the code server and the webserver get
  SIGTERM, and whatever of any group is left after the grace period gets SIGKILL.
- The children's output goes through the supervisor to the console, quiet unless LOG_LEVEL is
  DEBUG: a line per finished run, warnings, errors and anything else (`console.py`).
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tai_assets.common.procfs import group_members, is_live, kill_groups, proc_stat, wait_for_groups
from tai_assets.deploy.console import relay
from tai_assets.deploy.stand_in import StandInPoller
from tai_assets.instance.config import render_instance_config
from tai_assets.settings import LOCATION_NAME, PROJECT_DIR, Settings

BIN = Path(sys.executable).parent
GRACE_SECONDS = 30
BACKOFF_START_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
STABLE_SECONDS = 300.0
GROUPS_FILE = "tai-serve.groups"
GRPC_WORKSPACE = PROJECT_DIR / "deploy" / "workspace-grpc.yaml"
PR_SET_PDEATHSIG = 1


# Dagster's commands, started with tai's changes (see tai_assets/dagster_internals/cli.py).
TUNED = [sys.executable, "-m", "tai_assets.dagster_internals.cli"]


def commands(code_port: int, web_port: int, level: str, read_only: bool = False) -> list[list[str]]:
    """Return the command lines of the code server, the daemon and the webserver (with
    `--read-only` when `read_only`: no launching, no sensor or schedule switches).

    The daemon and the webserver find the code server through deploy/workspace-grpc.yaml,
    which names the location `tai` and reads its port from TAI_CODE_SERVER_PORT (`serve` sets
    it to `code_port`).
    """
    grpc = ["-w", str(GRPC_WORKSPACE)]
    web = ["-h", "127.0.0.1", "-p", str(web_port), "--dagster-log-level", level]
    if read_only:
        web.append("--read-only")
    return [
        code_server_command(code_port, level),
        [*TUNED, "dagster-daemon", "run", *grpc, "--log-level", level],
        [*TUNED, "dagster-webserver", *grpc, *web],
    ]


def code_server_command(code_port: int, level: str) -> list[str]:
    """Return the command line of the code server of tai's definitions (location `tai`) on
    127.0.0.1:`code_port`: the deployment's, and the one `./tai backfill` starts."""
    code = ["-m", "tai_assets.definitions", "--location-name", LOCATION_NAME, "-h", "127.0.0.1"]
    return [*TUNED, "dagster", "api", "grpc", *code, "-p", str(code_port), "--log-level", level]


def dev_command(web_port: int, level: str) -> list[str]:
    """Return the `dagster dev` command line (proxy + code server + daemon + webserver)."""
    levels = ["--log-level", level, "--code-server-log-level", level]
    dev = [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1"]
    return [*dev, "-p", str(web_port), *levels]


def code_server_ready(port: int) -> bool:
    """Return whether the code server on `port` (on 127.0.0.1) accepts a connection.

    Dagster's code server binds its port only once the definitions are loaded, and reports
    SERVING to a health check right after: an accepted connection is the readiness that
    `dagster api grpc-health-check` reports, without starting a Python process that imports
    Dagster (~0.8 CPU-s) at every check while the code server starts.
    """
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        return True
    return False


def _die_with_parent() -> None:
    """In a child before exec: have the kernel send SIGTERM when the supervisor dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def descendants(pid: int) -> list[int]:
    """Return every live process below `pid` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if is_live(stat):
                children.setdefault(int(stat[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def boot_id() -> str:
    """Return this boot's id: process groups recorded under another boot are long gone."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def is_tai_process(pid: int) -> bool:
    """Return whether `pid` runs tai's Python (a child of a supervisor, or a forked run worker)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"tai_assets" in command or b"multiprocessing" in command or b"dagster" in command


def forkserver_workers(code_server_pid: int) -> list[int]:
    """Return the run workers the code server's forkserver has forked and that still run."""
    workers = []
    for pid in descendants(code_server_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.forkserver" in command:
            workers.extend(descendants(pid))
    return workers


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """Stop processes each started in a process group of its own: SIGTERM to the groups, then
    SIGKILL what is left after the grace period."""
    groups = [process.pid for process in processes]
    kill_groups(groups, signal.SIGTERM)
    if not wait_for_groups(groups, GRACE_SECONDS):
        kill_groups(groups, signal.SIGKILL)
        wait_for_groups(groups, 10)
    for process in processes:
        process.poll()


def kill_leftovers(groups_file: Path) -> list[int]:
    """Kill what is left of the process groups an earlier supervisor recorded; return them.

    That supervisor was killed (or the machine lost power, in which case nothing is left): its
    code server and daemon got SIGTERM from the kernel, but run workers it forked do not have
    that tie, and nothing else would stop them.
    """
    try:
        recorded_boot, *lines = groups_file.read_text().split()
        groups = [int(line) for line in lines]
    except (OSError, ValueError):
        return []
    if recorded_boot != boot_id():
        groups_file.unlink(missing_ok=True)
        return []
    alive = [pgid for pgid in groups if any(is_tai_process(pid) for pid in group_members(pgid))]
    kill_groups(alive, signal.SIGTERM)
    if not wait_for_groups(alive, 10):
        kill_groups(alive, signal.SIGKILL)
        wait_for_groups(alive, 10)
    groups_file.unlink(missing_ok=True)
    return alive


@dataclass
class Child:
    """One supervised process: its command line, the running process, and its restarts."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = BACKOFF_START_SECONDS
    restart_at: float | None = None
    groups: list[int] = field(default_factory=list)
    verbose: bool = False  # the console shows all of its output (LOG_LEVEL=DEBUG)
    niceness: int = 0  # added to the supervisor's

    def start(self) -> None:
        """Start the process in a process group of its own (a Ctrl-C reaches only the
        supervisor, which decides how children stop), tied to the supervisor's life."""

        def before_exec() -> None:
            _die_with_parent()
            if self.niceness:
                os.nice(self.niceness)

        self.process = subprocess.Popen(
            self.command,
            process_group=0,
            preexec_fn=before_exec,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        relay(self.process.stdout, self.verbose)
        self.started_at = time.monotonic()
        self.restart_at = None
        self.groups.append(self.process.pid)

    def alive(self) -> bool:
        """Return whether the process runs."""
        return self.process is not None and self.process.poll() is None

    def supervise(self, now: float) -> None:
        """Start the child again once its back-off has passed, if it exited."""
        if self.alive() or self.process is None:
            return
        if self.restart_at is None:
            if now - self.started_at > STABLE_SECONDS:
                self.backoff = BACKOFF_START_SECONDS
            code = self.process.returncode
            print(
                f"tai: {self.name} exited ({code}); starting it again in {self.backoff:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            self.restart_at = now + self.backoff
            self.backoff = min(self.backoff * 2, BACKOFF_MAX_SECONDS)
        elif now >= self.restart_at:
            self.start()


class Supervisor:
    """The deployment's children and the file that records their process groups."""

    def __init__(self, groups_file: Path, verbose: bool = False):
        self.children: list[Child] = []
        self.groups_file = groups_file
        self.verbose = verbose

    def start(self, name: str, command: list[str], niceness: int = 0) -> Child:
        """Start and keep a child (`niceness` above the supervisor's); record its process
        group."""
        child = Child(name, command, verbose=self.verbose, niceness=niceness)
        child.start()
        self.children.append(child)
        self.record_groups()
        return child

    def running(self, *names: str) -> bool:
        """Return whether the children called `names` all run."""
        by_name = {child.name: child for child in self.children}
        return all(name in by_name and by_name[name].alive() for name in names)

    def record_groups(self) -> None:
        """Write every process group started so far (read by the next supervisor)."""
        groups = [pgid for child in self.children for pgid in child.groups]
        temporary = self.groups_file.with_suffix(".tmp")
        try:
            self.groups_file.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(f"{boot_id()}\n" + "".join(f"{pgid}\n" for pgid in groups))
            temporary.replace(self.groups_file)
        except OSError as error:  # a full DAGSTER_HOME must not stop the supervisor
            print(f"tai: cannot record process groups ({error})", file=sys.stderr, flush=True)

    def supervise_forever(self) -> None:
        """Restart children that exit, until a signal ends the supervisor."""
        while True:
            now = time.monotonic()
            before = sum(len(child.groups) for child in self.children)
            for child in self.children:
                child.supervise(now)
            if sum(len(child.groups) for child in self.children) != before:
                self.record_groups()
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop the deployment: the daemon, then (after runs in flight finish, within the
        grace period) everything else; SIGKILL what is left after it."""
        deadline = time.monotonic() + GRACE_SECONDS
        by_name = {child.name: child for child in self.children}
        daemon = by_name.get("daemon")
        if daemon and daemon.alive():
            kill_groups([daemon.process.pid], signal.SIGTERM)
            wait_for_groups([daemon.process.pid], max(0.1, deadline - time.monotonic()))
        code_server = by_name.get("code server")
        if code_server and code_server.alive():
            # Run workers are forked by the code server's forkserver: let them finish.
            while time.monotonic() < deadline and forkserver_workers(code_server.process.pid):
                time.sleep(0.5)
        groups = [pgid for child in self.children for pgid in child.groups]
        kill_groups(groups, signal.SIGTERM)
        if not wait_for_groups(groups, max(0.1, deadline - time.monotonic())):
            kill_groups(groups, signal.SIGKILL)
            wait_for_groups(groups, 10)
        for child in self.children:
            if child.process is not None:
                child.process.poll()
        with contextlib.suppress(OSError):  # a read-only DAGSTER_HOME must not fail the stop
            self.groups_file.unlink(missing_ok=True)


# The daemon thread that launches automatic run retries wakes every 5 s by default and reads the
# event log each time (about 0.3 % of a core here; every 30 s it was still its busiest idle
# thread, ~50 ms of CPU a look); a retry a minute after a failure is soon enough.
DAEMON_ENVIRONMENT = {"DAGSTER_EVENT_LOG_CONSUMER_DAEMON_INTERVAL_SECONDS": "60"}


WEBSERVER_NICENESS = 5


def prepare_instance() -> None:
    """Mark failed the runs an earlier deployment left in progress (tai_assets.instance.prepare)."""
    subprocess.run([sys.executable, "-m", "tai_assets.instance.prepare"], check=True)


def serve() -> int:
    """Start the deployment and supervise it until a signal; return an exit code."""
    for name, value in DAEMON_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    settings = Settings()
    code_port, web_port = settings.code_server_port, settings.web_port
    os.environ["TAI_CODE_SERVER_PORT"] = str(code_port)  # read by deploy/workspace-grpc.yaml
    level = settings.log_level.lower()
    supervisor = Supervisor(settings.dagster_home / GROUPS_FILE, settings.log_level == "DEBUG")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stand_in: StandInPoller | None = None
    left = kill_leftovers(supervisor.groups_file)
    if left:
        print(f"tai: stopped {len(left)} process groups an earlier deployment left", flush=True)
    try:
        try:
            render_instance_config(settings.dagster_home, settings.poll_interval_seconds)
        except OSError as error:
            # The project's file stays linked: the queue is checked every 30 s instead.
            print(f"tai: could not write {error.filename or 'dagster.yaml'}: {error}", flush=True)
        # Before any Dagster process starts: on a new DAGSTER_HOME two processes creating the
        # instance's tables at once would both stamp its schema version.
        prepare_instance()
        if settings.dagster_dev:
            supervisor.start("dagster dev", dev_command(web_port, level))
        else:
            code_server_command, daemon, webserver = commands(
                code_port, web_port, level, settings.web_read_only
            )
            code_server = supervisor.start("code server", code_server_command)
            while not code_server_ready(code_port):
                if not code_server.alive():
                    print("tai: the code server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            supervisor.start("daemon", daemon)
            # Polling and runs come first: after a restart on a busy machine the webserver,
            # which is not on the data's path, takes the CPU the others leave.
            supervisor.start("webserver", webserver, niceness=WEBSERVER_NICENESS)
            print(f"tai: Dagster UI on http://127.0.0.1:{web_port} (code server :{code_port})")
        pollers = ["dagster dev"] if settings.dagster_dev else ["code server", "daemon"]
        stand_in = StandInPoller(settings, lambda: supervisor.running(*pollers))
        stand_in.start()
        supervisor.supervise_forever()
    finally:
        # A second Ctrl-C or TERM must not cut the stop short: held polls and children remain.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if stand_in is not None:
            stand_in.stop()
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(serve())
