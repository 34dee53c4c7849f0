"""`python -m tai_assets.demo.seed [--days 14]`: gives the demo a history before it goes live.

A simulator of its own (same model as the live one) plays the last `--days` days at
accelerated time; tai's own clients poll it every `--interval` simulated seconds (UDP query and
the chrono API, as the sensors do) and the polls go into the spool, and the players snapshots of
the last two complete weeks are crawled from it at those weeks' ends (some accounts rename in
between). Then, as Dagster runs in the demo's instance (they show in the UI): the ingest jobs
take the spool into the warehouse, and every analytics partition over those days is
materialized, with the daily refresh and retention. Sessions split as they do in life,
because the simulated players come and go over simulated days.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta

import dagster as dg

from tai_assets.common.clock import monday_of, use_clock, utc_now
from tai_assets.core.polls import server_record, world_record
from tai_assets.core.spool import PollSpool
from tai_assets.defs.polling.resources import ChronoApiResource, GameServerResource
from tai_assets.settings import current_settings
from tai_assets.simulator import ManualClock, Simulator, SimulatorConfig

SPOOL_CHUNK = 500


def collect(
    days: int, options: argparse.Namespace, spool: PollSpool, instance: dg.DagsterInstance
) -> tuple[int, datetime]:
    """Poll a simulator over the last `days` days of simulated time into the spool (every
    `options.interval` s; the `options.older_days` before them every `options.older_interval`
    s), then crawl its players snapshot at the end of each of the last two complete weeks (so
    that renamed accounts show); return the number of polls of each source and the first
    instant of the `days`."""
    end = utc_now().replace(second=0, microsecond=0)
    start = end - timedelta(days=days)
    clock = ManualClock(start - timedelta(days=options.older_days))
    # Players take breaks of weeks, so that churn (30 regular days, then 30 away) shows.
    config = SimulatorConfig(seed=options.seed, break_share=0.25)
    simulator = Simulator(config, clock=clock)
    taken = 0
    with use_clock(clock.now), simulator.serve(host="127.0.0.1") as running:
        game = GameServerResource(
            host="127.0.0.1", port=running.udp_port, timeout_seconds=0.2, attempts=2
        )
        chrono = ChronoApiResource(
            base_url=running.http_base_url,
            login=config.chrono_login,
            token=config.chrono_token,
            timeout_seconds=5,
        )
        server, worlds = [], []
        while clock.now() < end:
            server.append(server_record(game.poll(), utc_now()))
            worlds.append(world_record(chrono.poll(), utc_now()))
            taken += 1
            clock.advance(options.interval if clock.now() >= start else options.older_interval)
            if len(server) >= SPOOL_CHUNK or clock.now() >= end:
                spool.append("server", server)
                spool.append("worlds", worlds)
                server, worlds = [], []
    crawl_weekly_snapshots(config, end, instance)
    return taken, start


def crawl_weekly_snapshots(
    config: SimulatorConfig, end: datetime, instance: dg.DagsterInstance
) -> None:
    """Run the players snapshot job for the last two complete weeks before `end`, each
    against a simulator of the same accounts with its clock an hour past the week's end."""
    this_monday = datetime.combine(monday_of(end.date()), datetime.min.time(), UTC)
    # Snapshot partitions are Monday-to-Monday weeks (UTC), keyed by their Monday.
    weeks = [(str((this_monday - timedelta(days=d)).date()), this_monday - timedelta(days=d - 7))
             for d in (14, 7)]  # fmt: skip
    clock = ManualClock(weeks[0][1] + timedelta(hours=1))
    with use_clock(clock.now), Simulator(config, clock=clock).serve(host="127.0.0.1") as running:
        # The definitions are built once per process from the settings: point them at this
        # simulator before they load (the live demo's is not at those instants).
        os.environ["TRAINING_API_BASE_URL"] = running.http_base_url
        current_settings.cache_clear()
        from tai_assets.definitions import defs

        crawl = {"ops": {"players_snapshot_pages": {"config": {"min_interval_seconds": 0.0}}}}
        for week, week_end in weeks:
            clock.set(max(clock.now(), week_end + timedelta(hours=1)))
            _run(defs, "players_snapshot_job", instance, partition_key=week, run_config=crawl)


def _run(defs: dg.Definitions, job: str, instance: dg.DagsterInstance, **options) -> None:
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, raise_on_error=False, **options
    )
    key = options.get("partition_key")
    status = "ok" if result.success else "FAILED"
    print(f"  {job}{f' {key}' if key else ''}: {status}", flush=True)


def partitions_between(job, first: datetime, now: datetime) -> list[str]:
    """Return the job's partition keys whose period starts at or after `first` and has ended."""
    partitions_def = job.partitions_def
    keys = partitions_def.get_partition_keys(current_time=now)
    return [
        key
        for key in keys
        if partitions_def.time_window_for_partition_key(key).end.astimezone(UTC) > first
    ]


def materialize_history(first: datetime, instance: dg.DagsterInstance) -> None:
    """Run ingest until the spool is empty, then every analytics partition from `first` on."""
    from tai_assets.definitions import defs

    settings = current_settings()
    spool = PollSpool(str(settings.spool_path))
    while spool.pending("server", limit=1) or spool.pending("worlds", limit=1):
        _run(defs, "ingest_polls_job", instance)
    now = utc_now()
    _run(defs, "analytics_refresh_job", instance)
    for job in ("analytics_daily_job", "weekly_digest_job", "monthly_digest_job"):
        for key in partitions_between(defs.resolve_job_def(job), first, now):
            _run(defs, job, instance, partition_key=key)
    _run(defs, "player_retention_job", instance)


def main(argv: list[str] | None = None) -> int:
    """Seed the demo's warehouse and instance; print progress; return 0."""
    parser = argparse.ArgumentParser(prog="python -m tai_assets.demo.seed", description=__doc__)
    parser.add_argument("--days", type=int, default=14, help="days of history (default 14)")
    parser.add_argument("--interval", type=int, default=120, help="simulated seconds per poll")
    parser.add_argument(
        "--older-days",
        type=int,
        default=56,
        help="days before those, polled less often, for the assets that need two months "
        "(churn); their analytics partitions are not materialized (default 56)",
    )
    parser.add_argument("--older-interval", type=int, default=900, help="seconds per older poll")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    settings = current_settings()
    started = time.monotonic()
    print(
        f"tai demo: simulating the last {args.days} days (a poll every {args.interval} s) and "
        f"{args.older_days} days before them (every {args.older_interval} s)..."
    )
    spool = PollSpool(str(settings.spool_path))
    with dg.DagsterInstance.get() as instance:
        taken, first = collect(args.days, args, spool, instance)
        print(
            f"tai demo: {taken} polls of each source and two weekly snapshots in "
            f"{time.monotonic() - started:.0f} s; ingesting and computing the analytics as "
            "Dagster runs...",
            flush=True,
        )
        materialize_history(first, instance)
    print(f"tai demo: history ready in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
