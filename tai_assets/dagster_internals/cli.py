"""Runs Dagster's code server, daemon and webserver with changes that make them cheaper.

    python -m tai_assets.dagster_internals.cli dagster api grpc -m tai_assets.definitions ...
    python -m tai_assets.dagster_internals.cli dagster-daemon run --grpc-port 4266 ...
    python -m tai_assets.dagster_internals.cli dagster-webserver --grpc-port 4266 ...

- Slower polling of the code server. The daemon and the webserver ask the code server for its id
  every second (to notice a restart), and the daemon reloads the whole workspace snapshot every
  minute. With one code server that changes only when `./tai run` restarts, that was about 0.9 %
  of a core across the three processes (measured with py-spy).
- Fewer idle wake-ups (measured per thread from /proc over two idle minutes): the backfill
  daemon looks for new backfills every 2 minutes instead of every 30 s (about 45 ms of CPU a
  look; tai's backfills are queued by hand, with `./tai backfill`); gRPC's wait for the code
  server's end wakes once a second instead of ten times; the webserver's uvicorn loop checks
  whether to stop (and refreshes its Date header) once a second instead of ten times.
- A guard in front of the webserver's app (`tai_assets.deploy.web_guard`): wrong Host,
  foreign Origin and GraphQL by GET are refused.
- Schema checks answered once. The SQLite schedule storage asks the database for its table
  names before reading a sensor's state (several times per tick, about 1/5 of the daemon's
  CPU by py-spy); once a table or a built index is there it stays there while the process
  runs, so a yes is remembered (a no is asked again, as a migration may add it).
- Run workers forked from a warm process. The code server starts each run in a fresh `spawn`
  process, which spends about 3 CPU-s of its ~5 importing Dagster and tai before running a
  one-step ingest. Here the code server uses a `forkserver` that has imported them once: each
  run is a fork of it, still a process of its own, that starts with everything loaded.

Dagster reads these settings from module constants and from the code server's constructor, not
from its config, so they are set here before its command line starts. Each is looked up by name,
and a name a new Dagster release no longer has is a warning, not a failure (tests pin them).
"""

import asyncio
import multiprocessing
import multiprocessing.forkserver
import sys
import threading
import warnings

from tai_assets.deploy.web_guard import WebGuard
from tai_assets.settings import Settings

# (module, constant, tai's value): seconds between asks for the code server's id (Dagster: 1),
# and between the daemon's full workspace reloads (Dagster: 60; it must stay under the daemon's
# 300 s workspace freshness tolerance, or one failed reload would stop the daemon).
# How long a blocking gRPC wait sleeps before it looks again (grpc: 0.1), in every process. A
# wait still ends as soon as what it waits for happens; only a signal to that thread waits up to
# a second.
GRPC_WAIT = ("grpc._common", "MAXIMUM_WAIT_TIMEOUT", 1.0)
POLLING_INTERVALS = (
    ("dagster._grpc.server_watcher", "WATCH_INTERVAL", 10),
    ("dagster._daemon.controller", "RELOAD_WORKSPACE_INTERVAL", 240),
    # The backfill daemon's loop (Dagster: 30); no other daemon tai runs reads it.
    ("dagster._daemon.controller", "DEFAULT_DAEMON_INTERVAL_SECONDS", 120),
    GRPC_WAIT,
)

# uvicorn's server loop: seconds between its looks at whether to stop (uvicorn: 0.1).
UVICORN_WAKE_SECONDS = 1.0

# What the run workers' forkserver imports once: Dagster and the code location.
FORKSERVER_PRELOAD = ["dagster", "tai_assets.definitions"]

ENTRY_POINTS = {
    "dagster": ("dagster._cli", "main"),
    "dagster-daemon": ("dagster._daemon.cli", "main"),
    "dagster-webserver": ("dagster_webserver.cli", "main"),
}


def apply_polling_intervals(intervals=POLLING_INTERVALS) -> list[str]:
    """Set the (module, constant, value) `intervals` (the daemon's and the webserver's by
    default) to tai's values; return the constants it set.

    A Dagster release that renamed one would make this a no-op for it, so a missing constant
    is a warning (the deployment still works, at Dagster's default cost), and a test pins them.
    """
    applied = []
    for module_name, constant, seconds in intervals:
        module = __import__(module_name, fromlist=[constant])
        if not hasattr(module, constant):
            warnings.warn(
                f"{module_name}.{constant} not found; Dagster's default kept", stacklevel=2
            )
            continue
        setattr(module, constant, seconds)
        applied.append(f"{module_name}.{constant}")
    return applied


# The schedule storage's schema questions whose yes never changes while a process runs.
# (`_has_instigators_table` takes an open connection, which is no part of the question.)
SCHEMA_CHECKS = (
    "has_instigators_table",
    "_has_instigators_table",
    "has_secondary_index_table",
    "has_built_index",
)


def remember_schema_checks(storage_class: type | None = None) -> list[str]:
    """Make `storage_class` (Dagster's SQL schedule storage by default) remember each schema
    check that answered yes, per storage object and arguments; return the methods wrapped.
    A method a new Dagster release no longer has is a warning, not a failure."""
    if storage_class is None:
        from dagster._core.storage.schedules.sql_schedule_storage import (
            SqlScheduleStorage as storage_class,
        )
    wrapped = []
    for name in SCHEMA_CHECKS:
        method = getattr(storage_class, name, None)
        if method is None:
            warnings.warn(
                f"{storage_class.__name__}.{name} not found; not remembered", stacklevel=2
            )
            continue
        if not getattr(method, "_tai_remembered", False):
            setattr(storage_class, name, _remembering_yes(method))
        wrapped.append(name)
    return wrapped


def _remembering_yes(method):
    def check(self, *args, **kwargs):
        known = self.__dict__.setdefault("_tai_schema_yes", set())
        asked = () if method.__name__.startswith("_has_") else args
        key = (method.__name__, asked, tuple(sorted(kwargs.items())))
        if key in known:
            return True
        answer = method(self, *args, **kwargs)
        if answer:
            known.add(key)
        return answer

    check._tai_remembered = True
    check.__name__ = method.__name__
    return check


def fork_run_workers(
    preload: list[str] = FORKSERVER_PRELOAD, api_server: type | None = None
) -> bool:
    """Make the code server (`api_server`, Dagster's by default) start run workers from a
    forkserver that has imported `preload`; return True once it is wrapped (also if it was).

    Dagster's server keeps its multiprocessing context in `_mp_ctx`, set to "spawn" by its
    constructor; the constructor is wrapped to replace it. A server without one keeps spawning
    (with a warning).
    """
    if api_server is None:
        from dagster._grpc.server import DagsterApiServer as api_server
    if getattr(api_server, "_tai_forkserver", False):
        return True
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    spawning_init = api_server.__init__

    def init(self, *args, **kwargs):
        spawning_init(self, *args, **kwargs)
        if not hasattr(self, "_mp_ctx"):
            warnings.warn("the code server has no _mp_ctx; its runs still spawn", stacklevel=2)
            return
        self._mp_ctx = context
        # Started now, in the background, rather than by the first run: the imports (~2.5
        # CPU-s) are then done before a run waits for them.
        threading.Thread(target=multiprocessing.forkserver.ensure_running, daemon=True).start()

    api_server.__init__ = init
    api_server._tai_forkserver = True
    return True


def slow_uvicorn_ticks(server_class: type | None = None) -> bool:
    """Make uvicorn's server (`server_class`, uvicorn's by default) look whether to stop once
    every UVICORN_WAKE_SECONDS instead of ten times a second; return True once it does.

    Its `on_tick(counter)` counts tenths of a second (the Date header is refreshed when the
    counter is a multiple of ten), so each wake-up advances it by the tenths slept. A server
    without `main_loop` and `on_tick` keeps its own loop (with a warning)."""
    if server_class is None:
        from uvicorn.server import Server as server_class
    if getattr(server_class, "_tai_slow_ticks", False):
        return True
    if not (hasattr(server_class, "main_loop") and hasattr(server_class, "on_tick")):
        warnings.warn("uvicorn's Server has no main_loop/on_tick; its loop kept", stacklevel=2)
        return False
    tenths = round(UVICORN_WAKE_SECONDS * 10)

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + tenths) % 864000
            await asyncio.sleep(UVICORN_WAKE_SECONDS)
            should_exit = await self.on_tick(counter)

    server_class.main_loop = main_loop
    server_class._tai_slow_ticks = True
    return True


def guard_webserver(allowed_hosts: list[str], cli_module=None) -> bool:
    """Wrap the app dagster-webserver serves in `WebGuard`; return True when it is wrapped.

    dagster-webserver builds its app with `create_app_from_workspace_process_context` and
    serves it with uvicorn in the same function, so the builder is replaced by one that wraps
    what it returns. Without that function the webserver cannot start unguarded: this raises.
    """
    if cli_module is None:
        import dagster_webserver.cli as cli_module
    build = getattr(cli_module, "create_app_from_workspace_process_context", None)
    if build is None:
        raise RuntimeError("dagster-webserver has no create_app_from_workspace_process_context")
    if getattr(build, "_tai_guarded", False):
        return True

    def guarded(*args, **kwargs):
        return WebGuard(build(*args, **kwargs), allowed_hosts)

    guarded._tai_guarded = True
    cli_module.create_app_from_workspace_process_context = guarded
    return True


def main(argv: list[str]) -> None:
    """Start the Dagster command named by argv[0] with the rest of argv, each with tai's polling
    intervals: the code server with its forkserver, the webserver guarded and with uvicorn's
    slower loop."""
    if not argv or argv[0] not in ENTRY_POINTS:
        commands = "|".join(ENTRY_POINTS)
        sys.exit(f"usage: python -m tai_assets.dagster_internals.cli {{{commands}}} ARGS...")
    module_name, function = ENTRY_POINTS[argv[0]]
    if argv[0] == "dagster":
        apply_polling_intervals([GRPC_WAIT])
        fork_run_workers()
    else:
        apply_polling_intervals()
        remember_schema_checks()
    if argv[0] == "dagster-webserver":
        guard_webserver(list(Settings().web_allowed_hosts))
        slow_uvicorn_ticks()
    sys.argv = argv
    getattr(__import__(module_name, fromlist=[function]), function)()


if __name__ == "__main__":
    main(sys.argv[1:])
