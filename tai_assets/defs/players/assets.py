"""The weekly snapshot of every registered player, crawled from the training API.

Two steps, so that the hours-long crawl never holds the warehouse lock:

1. ``players_snapshot_pages`` crawls ``GET /user?page=N`` politely and checkpoints every page as a
   file under the staging folder (no warehouse access). A failed run that is
   re-executed (by hand or by the instance's run retries) resumes where it stopped.
2. ``players_snapshot`` + ``players_snapshot_quarantine`` (one op) assemble
   the staged pages, validate every record, and write the partition once, complete, in one
   transaction per table (the IO manager's ``replace_partition``); then the staging is removed.

The checks are computed by the write step from the data in hand; their logic lives in the pure
``check_*`` functions of ``tai_assets.defs.players.checks``.
"""

from collections.abc import Iterator
from datetime import date, datetime

import dagster as dg
from pydantic import Field

from tai_assets.common.clock import monday_of, utc_now
from tai_assets.common.sql_files import read_sql
from tai_assets.defs.players.checks import (
    CHECK_SPECS,
    check_ids_unique,
    check_no_big_drop,
    check_quarantine_rate,
    check_regdate_before_lastlogin,
    check_row_count,
)
from tai_assets.defs.players.resources import TrainingApiResource
from tai_assets.defs.resources import WarehouseResource
from tai_assets.settings import current_settings
from tai_assets.sources.training_api.assemble import assemble_snapshot
from tai_assets.sources.training_api.crawler import DriftReport, analyze_drift, crawl
from tai_assets.sources.training_api.progress import Progress, format_duration
from tai_assets.sources.training_api.staging import PageStage
from tai_assets.warehouse.io_manager import WRITE_MODE_KEY

OWNERS = ["team:tai"]
GROUP = "players"
PARTITION_COLUMN = "snapshot_week"

FIRST_WEEK = monday_of(current_settings().analytics_start_date)
WEEKLY_PARTITIONS = dg.WeeklyPartitionsDefinition(
    start_date=FIRST_WEEK.isoformat(), day_offset=1, timezone="UTC"
)
"""Weeks Monday 00:00 UTC to the next Monday; the key is the Monday (``2026-11-02``). They start
with the week of TAI_ANALYTICS_START_DATE, so imported snapshots of the old service
(`./tai import`) have partitions as far back as the analytics go."""

PARTITION_SEMANTICS = (
    "**Which instant a partition is.** Partition `2026-11-02` is the week Monday 2026-11-02 "
    "00:00 UTC to Monday 2026-11-09 00:00 UTC; its snapshot is the player base as it stands "
    "at the *end* of that week: the schedule crawls on Monday 00:00 UTC (03:00 Moscow, a quiet "
    "hour) right after the week closes. `snapshot_week` holds the Monday that starts the week, "
    "`snapshot_time` the instant the crawl actually started (a crawl takes hours; a record "
    "reflects the moment its page was read). The API has no history: a backfill or a manual "
    "run of an old partition crawls the API as it is *now* and replaces that partition, so "
    "always read `snapshot_time` for when the data was observed."
)


class PlayersCrawlConfig(dg.Config):
    """Run config of the crawl step."""

    max_pages: int | None = Field(
        default=None,
        ge=1,
        description="Stop after this page: a deliberately partial snapshot (tests, trials).",
    )
    min_interval_seconds: float | None = Field(
        default=None,
        ge=0,
        description="Minimum gap between requests for this run (default: the resource's).",
    )
    fresh: bool = Field(
        default=False,
        description="Discard pages staged by an earlier attempt of this run and start over.",
    )


class PlayersSnapshotConfig(dg.Config):
    """Run config of the write step."""

    keep_staging: bool = Field(
        default=False, description="Keep the staged pages after the partition is written."
    )


def _partition_week(context: dg.AssetExecutionContext) -> date:
    return context.partition_time_window.start.date()


def _progress_reporter(context: dg.AssetExecutionContext):
    def report(progress: Progress) -> None:
        context.log.info(progress.describe())
        context.log_event(
            dg.AssetObservation(
                asset_key=context.asset_key,
                partition=context.partition_key,
                metadata=progress.as_metadata(),
            )
        )

    return report


def _drift_markdown(drift: DriftReport) -> str:
    if not drift.events:
        return "no drift: `last_page` and `total` stayed put during the crawl"
    shown = drift.events[:50]
    more = len(drift.events) - len(shown)
    return "\n".join(f"- {event}" for event in shown) + (f"\n- … {more} more" if more else "")


@dg.asset(
    partitions_def=WEEKLY_PARTITIONS,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"api", "json"},
    description=(
        "The week's crawl of `GET {TRAINING_API_BASE_URL}/user?page=N`, every page checkpointed "
        "as a file under the staging folder (`TAI_CRAWL_STAGING_DIR`). Polite (one request per "
        "`TAI_CRAWL_MIN_INTERVAL_SECONDS`, backoff on errors, Retry-After on 429) and resumable: "
        "a re-execution of a failed run fetches only the pages not staged yet. Progress (pages, "
        "rate, ETA) is logged and observed every 30 s. The staged pages are transient: "
        "`players_snapshot` removes them once the partition is in the warehouse.\n\n"
        + PARTITION_SEMANTICS
    ),
)
def players_snapshot_pages(
    context: dg.AssetExecutionContext,
    config: PlayersCrawlConfig,
    training_api: TrainingApiResource,
) -> dg.MaterializeResult:
    """Crawl (or resume crawling) the partition's pages into the staging folder."""
    stage = training_api.stage(context.partition_key)
    run_family = context.run.root_run_id or context.run.run_id
    settings = training_api.crawl_settings(
        min_interval_seconds=config.min_interval_seconds, max_pages=config.max_pages
    )
    with stage.lock():
        manifest = stage.begin(run_family, utc_now(), fresh=config.fresh)
        already = len(stage.pages())
        if already:
            context.log.info(f"resuming the crawl: {already} pages already staged")
        with training_api.client(settings, on_retry=context.log.warning) as client:
            result = crawl(
                client,
                stage,
                manifest,
                max_pages=config.max_pages,
                on_progress=_progress_reporter(context),
                on_drift=context.log.info,
            )
    stats = result.fetch_stats
    drift = result.drift
    return dg.MaterializeResult(
        metadata={
            "snapshot_time": manifest.snapshot_time,
            "pages": len(result.pages),
            "pages_fetched_this_run": result.pages_fetched,
            "head_pages_reread": result.head_pages_reread,
            "pages_resumed": result.pages_resumed,
            "partial": result.partial,
            "records_listed": sum(p.records for p in result.pages),
            "api_total_first": drift.first_total,
            "api_total_last": drift.last_total,
            "drift_events": len(drift.events),
            "drift": dg.MetadataValue.md(_drift_markdown(drift)),
            "requests": stats.requests,
            "retries": stats.retries,
            "http_429": stats.rate_limited,
            "http_5xx": stats.server_errors,
            "network_errors": stats.network_errors,
            "unreadable_bodies": stats.bad_bodies,
            "seconds_waiting": round(stats.waited_s, 1),
            "rate_pages_per_s": round(result.progress.rate_pages_per_s or 0.0, 3),
            "duration": format_duration(result.progress.elapsed_s),
            "staging_dir": dg.MetadataValue.path(str(stage.directory)),
        }
    )


def previous_snapshot_size(warehouse: WarehouseResource, week: date) -> tuple[date, int] | None:
    """Return (week, rows) of the latest snapshot before `week`, or None if there is none."""
    with warehouse.connect() as conn:
        row = conn.execute(read_sql("players/previous_snapshot_size.sql"), [week]).fetchone()
    return None if row is None else (row[0], int(row[1]))


def _table_metadata(partition_expr: str) -> dict[str, str]:
    return {
        "schema": "core",
        WRITE_MODE_KEY: "replace_partition",
        "partition_expr": partition_expr,
    }


@dg.multi_asset(
    name="players_snapshot_write",
    outs={
        "players_snapshot": dg.AssetOut(
            metadata=_table_metadata(PARTITION_COLUMN),
            kinds={"duckdb", "polars", "api"},
            owners=OWNERS,
            description=(
                "Every registered player of the training server, one row per (week, id), "
                "crawled from the training API. Timestamps in UTC (the API's Moscow-time strings "
                "and epoch integers converted; its 'never' values are NULL); `playerid` only "
                "while online; `verifyText` as `verify_text`; `access` and `online` dropped; "
                "fields tai does not know yet kept in `extra` (JSON). A player seen twice "
                "because pages shifted is kept once (its last read).\n\n" + PARTITION_SEMANTICS
            ),
        ),
        "players_snapshot_quarantine": dg.AssetOut(
            metadata=_table_metadata(PARTITION_COLUMN),
            kinds={"duckdb", "polars", "api"},
            owners=OWNERS,
            description=(
                "Records of the weekly crawl that failed validation, with the reason, the page "
                "and position they were read from, and the record as received."
            ),
        ),
    },
    deps=[players_snapshot_pages],
    partitions_def=WEEKLY_PARTITIONS,
    group_name=GROUP,
    check_specs=CHECK_SPECS,
    can_subset=False,
)
def players_snapshot_write(
    context: dg.AssetExecutionContext,
    config: PlayersSnapshotConfig,
    training_api: TrainingApiResource,
    warehouse: WarehouseResource,
) -> Iterator:
    """Assemble the staged crawl, write the partition (both tables), then report the checks."""
    stage = training_api.stage(context.partition_key)
    with stage.lock():
        yield from _write_partition(context, config, stage, warehouse)


def _write_partition(
    context: dg.AssetExecutionContext,
    config: PlayersSnapshotConfig,
    stage: PageStage,
    warehouse: WarehouseResource,
) -> Iterator:
    manifest = stage.read_manifest()
    if manifest is None or not manifest.complete:
        raise dg.Failure(
            f"no complete crawl is staged for partition {context.partition_key} in "
            f"{stage.directory}: materialize players_snapshot_pages for it first"
        )
    week = _partition_week(context)
    snapshot_time = datetime.fromisoformat(manifest.snapshot_time)
    assembled = assemble_snapshot(stage, week, snapshot_time)
    drift = analyze_drift(stage.pages())
    previous = previous_snapshot_size(warehouse, week)
    quarantined = assembled.quarantine.height
    context.log.info(
        f"snapshot {context.partition_key}: {assembled.frame.height} players from "
        f"{assembled.pages} pages, {assembled.duplicates} duplicates removed, "
        f"{quarantined} quarantined"
    )
    reasons = (
        assembled.quarantine.group_by("reason").len().sort("len", descending=True).head(10)
        if quarantined
        else None
    )
    yield dg.Output(
        assembled.frame,
        output_name="players_snapshot",
        metadata={
            "snapshot_time": snapshot_time.isoformat(),
            "pages": assembled.pages,
            "records_seen": assembled.records_seen,
            "duplicates_removed": assembled.duplicates,
            "quarantined": quarantined,
            "partial": manifest.partial,
            "api_total_first": drift.first_total,
            "api_total_last": drift.last_total,
            "drift_events": len(drift.events),
            "drift": dg.MetadataValue.md(_drift_markdown(drift)),
        },
    )
    yield dg.Output(
        assembled.quarantine,
        output_name="players_snapshot_quarantine",
        metadata={
            "quarantined": quarantined,
            "reasons": dg.MetadataValue.md(
                "none"
                if reasons is None
                else "\n".join(f"- {r['len']} × {r['reason']}" for r in reasons.to_dicts())
            ),
        },
    )
    # Both tables hold the partition now: the staged pages have served their purpose.
    if not config.keep_staging:
        stage.clear()
    yield check_ids_unique(assembled.frame, assembled.duplicates)
    yield check_row_count(assembled.frame.height, quarantined, drift, manifest.partial)
    yield check_regdate_before_lastlogin(assembled.frame)
    yield check_no_big_drop(assembled.frame.height, previous)
    yield check_quarantine_rate(quarantined, assembled.records_seen)


SNAPSHOT_ASSETS = [players_snapshot_pages, players_snapshot_write]
