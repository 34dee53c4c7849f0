"""Analytics assets: daily activity, digests per day/week/month/year, retention, session habits.

Everything here is wiring: the numbers come from ``tai_assets.analytics`` (pure functions over
polars frames), read from the core tables by SQL through ``WarehouseResource`` and written by the
warehouse IO manager into schema ``analytics`` (DDL in ``sql/ddl/40_analytics.sql``).

Periods are local calendar periods in ``TAI_REPORT_TIMEZONE`` (default Europe/Moscow; weeks run
Monday–Sunday). Each time-partitioned asset's last partition is the last *complete* period, so a
digest is only ever made after its period ends; the schedules below materialize it shortly after
midnight, and any older partition can be backfilled from the UI.
"""

import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from typing import Literal

import dagster as dg
import polars as pl
from pydantic import Field

from tai_assets.analytics import queries
from tai_assets.analytics.activity import daily_activity as compute_daily_activity
from tai_assets.analytics.activity import daily_activity_frame
from tai_assets.analytics.activity import session_habits as compute_session_habits
from tai_assets.analytics.digest import DigestData, compute_digest
from tai_assets.analytics.names import DEFAULT_BOTS
from tai_assets.analytics.online import online_steps
from tai_assets.analytics.periods import Period, PeriodKind, report_timezone_name
from tai_assets.analytics.plots import digest_png, habits_png, online_curve_png, retention_png
from tai_assets.analytics.render import Language, render_markdown, render_telegram_html
from tai_assets.analytics.retention import DEFAULT_RETENTION_DAYS, retention
from tai_assets.analytics.telegram import DEFAULT_API_BASE_URL, DeliveryResult, send_message
from tai_assets.common.clock import utc_now
from tai_assets.common.markdown import frame_to_markdown, png_image
from tai_assets.defs.polling.resources import WarehouseResource
from tai_assets.warehouse.io_manager import WRITE_MODE_KEY

OWNERS = ["team:tai"]
GROUP = "analytics"
REPORT_TZ = report_timezone_name()
ANALYTICS_START = os.environ.get("TAI_ANALYTICS_START_DATE", "").strip() or "2025-01-01"

DAILY = dg.DailyPartitionsDefinition(start_date=ANALYTICS_START, timezone=REPORT_TZ)
WEEKLY = dg.WeeklyPartitionsDefinition(start_date=ANALYTICS_START, day_offset=1, timezone=REPORT_TZ)
MONTHLY = dg.MonthlyPartitionsDefinition(start_date=ANALYTICS_START, timezone=REPORT_TZ)
YEARLY = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", start=ANALYTICS_START[:4], fmt="%Y", timezone=REPORT_TZ
)

SESSION_DEPS = ["player_sessions", "world_sessions", "worlds_online", "server_online"]


# ---------------------------------------------------------------------------------------------
# Resources


class AnalyticsSettings(dg.ConfigurableResource):
    """How reports are made: language, who counts as a bot, retention cohorts, delivery window."""

    language: Literal["ru", "en"] = Field(default="ru", description="TAI_DIGEST_LANGUAGE")
    bots: list[str] = Field(
        default=list(DEFAULT_BOTS),
        description="TAI_BOT_ACCOUNTS (comma-separated): accounts left out of top players.",
    )
    retention_days: list[int] = Field(
        default=list(DEFAULT_RETENTION_DAYS),
        description="N values: retained when lastlogin − regdate ≥ N days.",
    )
    retention_exclude_before: str = Field(
        default="2018-01-01",
        description="TAI_RETENTION_EXCLUDE_BEFORE: registrations before this date are left out.",
    )
    delivery_window_hours: float = Field(
        default=48.0,
        description="Post a digest to Telegram only this long after its period ends, so a "
        "backfill of old periods does not flood the channel.",
    )


class TelegramResource(dg.ConfigurableResource):
    """Telegram Bot API delivery; off unless both the token and the channel are set."""

    bot_token: str | None = Field(default=None, description="TELEGRAM_BOT_TOKEN (secret)")
    channel_id: str | None = Field(default=None, description="TELEGRAM_CHANNEL_ID")
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL, description="Bot API base URL.")
    attempts: int = Field(default=4, description="Tries per message before reporting failure.")
    backoff_seconds: float = Field(default=2.0, description="First retry wait; doubles.")
    timeout_seconds: float = Field(default=10.0, description="HTTP timeout per request.")

    @property
    def enabled(self) -> bool:
        """True when both the bot token and the channel id are set."""
        return bool(self.bot_token) and bool(self.channel_id)

    def deliver(self, html_text: str) -> DeliveryResult:
        """Post ``html_text`` to the channel; never raises, never reveals the token."""
        if not self.enabled:
            return DeliveryResult("disabled")
        return send_message(
            self.bot_token or "",
            self.channel_id or "",
            html_text,
            api_base_url=self.api_base_url,
            attempts=self.attempts,
            backoff_seconds=self.backoff_seconds,
            timeout_seconds=self.timeout_seconds,
        )


def analytics_resources(
    environ: dict[str, str] | None = None,
) -> dict[str, dg.ConfigurableResource]:
    """Return the ``analytics_settings`` and ``telegram`` resources configured from the environment.

    Secrets go through ``dg.EnvVar`` so their values never reach the UI, logs or metadata; the
    Telegram resource is the disabled default unless both TELEGRAM_* variables are set.
    """
    env = dict(os.environ if environ is None else environ)
    bots = [b.strip() for b in env.get("TAI_BOT_ACCOUNTS", "").split(",") if b.strip()]
    language = env.get("TAI_DIGEST_LANGUAGE", "").strip().lower() or "ru"
    if language not in ("ru", "en"):
        raise ValueError(f"TAI_DIGEST_LANGUAGE must be ru or en, got {language!r}")
    settings = AnalyticsSettings(
        language=language,  # type: ignore[arg-type]
        bots=bots or list(DEFAULT_BOTS),
        retention_exclude_before=env.get("TAI_RETENTION_EXCLUDE_BEFORE", "").strip()
        or "2018-01-01",
    )
    if env.get("TELEGRAM_BOT_TOKEN") and env.get("TELEGRAM_CHANNEL_ID"):
        telegram = TelegramResource(
            bot_token=dg.EnvVar("TELEGRAM_BOT_TOKEN"), channel_id=dg.EnvVar("TELEGRAM_CHANNEL_ID")
        )
    else:
        telegram = TelegramResource()
    return {"analytics_settings": settings, "telegram": telegram}


# ---------------------------------------------------------------------------------------------
# Helpers


def _metadata(mode: str, partition_expr: str | None = None) -> dict:
    meta = {"schema": "analytics", WRITE_MODE_KEY: mode}
    if partition_expr:
        meta["partition_expr"] = partition_expr
    return meta


def _period(context: dg.AssetExecutionContext, kind: PeriodKind) -> Period:
    start = context.partition_time_window.start
    return Period(kind, start.date(), REPORT_TZ)


def _now_naive() -> datetime:
    return utc_now().replace(tzinfo=None)


def _key_values(row: dict) -> str:
    frame = pl.DataFrame({"field": list(row), "value": [str(v) for v in row.values()]})
    return frame_to_markdown(frame, limit=len(row))


# ---------------------------------------------------------------------------------------------
# daily_activity


@dg.asset(
    partitions_def=DAILY,
    deps=[*SESSION_DEPS, "raw_server_polls"],
    metadata=_metadata("replace_partition", "day"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[
        dg.AssetCheckSpec(
            "figures_consistent",
            asset="daily_activity",
            description="0 ≤ availability ≤ 1, new ≤ active players, answered ≤ polls.",
        )
    ],
)
def daily_activity(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Per local day: active and new players, sessions, total and median play time, peak online
    and when, server availability (share of polls answered) and worlds opened."""
    day = _period(context, "day")
    start, end = day.start_utc, day.end_utc
    with warehouse.connect() as conn:
        changes = queries.server_online_window(conn, start, end)
        row = compute_daily_activity(
            day,
            queries.player_sessions_overlapping(conn, start, end),
            queries.first_sessions(conn, start, end),
            changes,
            queries.poll_statuses(conn, start, end),
            queries.world_sessions_starting(conn, start, end),
        )
    frame = daily_activity_frame([row]).with_columns(computed_at=pl.lit(_now_naive()))
    picture = online_curve_png(online_steps(changes, start, end), REPORT_TZ, f"online, {day.start}")
    yield dg.Output(
        frame,
        metadata={
            "picture": dg.MetadataValue.md(png_image(picture, f"online on {day.start}")),
            "figures": dg.MetadataValue.md(_key_values(row.as_dict())),
            "active_players": row.active_players,
            "peak_online": dg.MetadataValue.int(row.peak_online)
            if row.peak_online is not None
            else dg.MetadataValue.null(),
        },
    )
    problems = []
    if row.availability is not None and not 0 <= row.availability <= 1:
        problems.append("availability outside [0, 1]")
    if row.new_players > row.active_players:
        problems.append("more new players than active players")
    if row.polls_answered > row.polls:
        problems.append("more answered polls than polls")
    yield dg.AssetCheckResult(
        check_name="figures_consistent",
        passed=not problems,
        metadata={"problems": ", ".join(problems) or "none"},
    )


# ---------------------------------------------------------------------------------------------
# session_habits


@dg.asset(
    partitions_def=DAILY,
    deps=["player_sessions"],
    metadata=_metadata("replace_partition", "day"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
)
def session_habits(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    """Per local day: sessions per player, and the pauses between a player's sessions that day."""
    day = _period(context, "day")
    with warehouse.connect() as conn:
        sessions = queries.player_sessions_starting(conn, day.start_utc, day.end_utc)
    summary, detail = compute_session_habits(day, sessions)
    frame = summary.with_columns(computed_at=pl.lit(_now_naive()))
    picture = habits_png(detail, f"session habits, {day.start}")
    top = detail.head(10).with_columns(
        gaps_minutes=pl.col("gaps_minutes")
        .list.eval(pl.element().round(0))
        .cast(pl.List(pl.String))
        .list.join(", ")
    )
    return dg.Output(
        frame,
        metadata={
            "picture": dg.MetadataValue.md(png_image(picture, f"session habits on {day.start}")),
            "figures": dg.MetadataValue.md(_key_values(summary.to_dicts()[0])),
            "most_sessions": dg.MetadataValue.md(frame_to_markdown(top, limit=10)),
        },
    )


# ---------------------------------------------------------------------------------------------
# Digests


class DigestConfig(dg.Config):
    """Run options of a digest."""

    deliver: bool = Field(default=True, description="Post to Telegram when it is configured.")
    force_resend: bool = Field(
        default=False,
        description="Post even if this period was already sent or is older than the window.",
    )


_PREVIOUS_DELIVERY = {
    "day": "SELECT delivery_status, delivery_attempts FROM analytics.daily_digest "
    "WHERE period_start = ?",
    "week": "SELECT delivery_status, delivery_attempts FROM analytics.weekly_digest "
    "WHERE period_start = ?",
    "month": "SELECT delivery_status, delivery_attempts FROM analytics.monthly_digest "
    "WHERE period_start = ?",
    "year": "SELECT delivery_status, delivery_attempts FROM analytics.yearly_digest "
    "WHERE period_start = ?",
}


def _decide_delivery(
    period: Period,
    html_text: str,
    previous: tuple | None,
    config: DigestConfig,
    settings: AnalyticsSettings,
    telegram: TelegramResource,
) -> DeliveryResult:
    """Deliver once: a period already sent is not sent again, and a period that ended more than
    ``delivery_window_hours`` ago (a backfill) is skipped, unless ``force_resend``."""
    if not config.deliver or not telegram.enabled:
        return DeliveryResult("disabled")
    if not config.force_resend:
        if previous is not None and previous[0] == "sent":
            return DeliveryResult("sent", int(previous[1]))
        age_hours = (utc_now() - period.end_local).total_seconds() / 3600
        if age_hours > settings.delivery_window_hours:
            return DeliveryResult("skipped", 0, None, f"period ended {age_hours:.0f} h ago")
    return telegram.deliver(html_text)


def digest_frame(
    data: DigestData, markdown: str, language: Language, delivery: DeliveryResult
) -> pl.DataFrame:
    """Return the digest's warehouse row (one row, the columns of ``analytics.*_digest``)."""
    c = data.content
    row = {
        "period_start": c.period.start,
        "period_end": c.period.end,
        "language": language,
        "markdown": markdown,
        "peak_online": c.peak_online,
        "peak_online_at": c.peak_online_at,
        "active_players": c.active_players,
        "sessions": c.sessions,
        "top_players": json.dumps(data.top_players.to_dicts(), ensure_ascii=False),
        "top_worlds": json.dumps(
            data.top_worlds.select("name", "score", "peak_players", "length_hours", "hot")
            .with_columns(pl.col("score").round(3), pl.col("length_hours").round(3))
            .to_dicts(),
            ensure_ascii=False,
        ),
        "delivery_status": delivery.status,
        "delivery_attempts": delivery.attempts,
        "delivery_error": delivery.error,
        "computed_at": _now_naive(),
    }
    schema = {
        "period_start": pl.Date,
        "period_end": pl.Date,
        "language": pl.String,
        "markdown": pl.String,
        "peak_online": pl.Int32,
        "peak_online_at": pl.Datetime("us"),
        "active_players": pl.Int32,
        "sessions": pl.Int32,
        "top_players": pl.String,
        "top_worlds": pl.String,
        "delivery_status": pl.String,
        "delivery_attempts": pl.Int32,
        "delivery_error": pl.String,
        "computed_at": pl.Datetime("us"),
    }
    return pl.DataFrame([row], schema=schema)


def _digest_asset(kind: PeriodKind, name: str, partitions_def, adjective: str):
    @dg.asset(
        name=name,
        partitions_def=partitions_def,
        deps=SESSION_DEPS,
        metadata=_metadata("replace_partition", "period_start"),
        kinds={"duckdb", "polars", "telegram"},
        group_name=GROUP,
        owners=OWNERS,
        description=f"The {adjective} digest: most active players (top 3, bots and unsafe names "
        "left out), most popular worlds (top 5 by popularity score, 🔥 for the hottest) and peak "
        f"online, as Markdown (TAI_DIGEST_LANGUAGE); made after the {kind} ends and "
        "optionally posted to Telegram.",
        check_specs=[
            dg.AssetCheckSpec(
                "delivered",
                asset=name,
                description="The Telegram post did not fail (disabled or skipped also pass).",
            )
        ],
    )
    def _digest(
        context: dg.AssetExecutionContext,
        config: DigestConfig,
        warehouse: WarehouseResource,
        analytics_settings: AnalyticsSettings,
        telegram: TelegramResource,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        period = _period(context, kind)
        lang: Language = analytics_settings.language
        with warehouse.connect() as conn:
            data = compute_digest(conn, period, analytics_settings.bots)
            previous = conn.execute(_PREVIOUS_DELIVERY[kind], [period.start]).fetchone()
        markdown = render_markdown(data.content, lang)
        delivery = _decide_delivery(
            period,
            render_telegram_html(data.content, lang),
            previous,
            config,
            analytics_settings,
            telegram,
        )
        if delivery.status == "failed":
            context.log.warning(
                f"Telegram delivery of the {kind} digest {period.start} failed after "
                f"{delivery.attempts} attempt(s): {delivery.error}. The digest is stored anyway; "
                "re-materialize the partition to retry."
            )
        frame = digest_frame(data, markdown, lang, delivery)
        picture = digest_png(
            data.peaks, data.top_players, data.top_worlds, markdown.splitlines()[0][2:]
        )
        yield dg.Output(
            frame,
            metadata={
                "digest": dg.MetadataValue.md(markdown),
                "picture": dg.MetadataValue.md(png_image(picture, f"{kind} digest {period.start}")),
                "top_worlds": dg.MetadataValue.md(
                    frame_to_markdown(data.top_worlds.drop("session_end", "points"), limit=5)
                ),
                "delivery": delivery.status + (f": {delivery.error}" if delivery.error else ""),
            },
        )
        yield dg.AssetCheckResult(
            check_name="delivered",
            passed=delivery.status != "failed",
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "status": delivery.status,
                "attempts": delivery.attempts,
                "error": delivery.error or "",
            },
        )

    return _digest


daily_digest = _digest_asset("day", "daily_digest", DAILY, "daily")
weekly_digest = _digest_asset("week", "weekly_digest", WEEKLY, "weekly (Monday–Sunday)")
monthly_digest = _digest_asset("month", "monthly_digest", MONTHLY, "monthly")
yearly_digest = _digest_asset("year", "yearly_digest", YEARLY, "yearly")


# ---------------------------------------------------------------------------------------------
# player_retention


@dg.asset(
    deps=[dg.AssetDep("players_snapshot", partition_mapping=dg.LastPartitionMapping())],
    metadata=_metadata("replace"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[
        dg.AssetCheckSpec(
            "shares_valid",
            asset="player_retention",
            description="Every share in [0, 1]; retained ≤ cohort size; shares fall as N grows.",
        )
    ],
)
def player_retention(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    analytics_settings: AnalyticsSettings,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Rolling retention by month and year of registration, from the latest players snapshot:
    the share of each cohort whose lastlogin − regdate ≥ N days, for each N, with cohort sizes."""
    with warehouse.connect() as conn:
        snapshot = queries.latest_players_snapshot(conn)
    if snapshot.is_empty():
        context.log.info("No players snapshot yet: retention is empty.")
        snapshot_time = _now_naive()
    else:
        snapshot_time = snapshot["snapshot_time"].max()
    exclude_before = date.fromisoformat(analytics_settings.retention_exclude_before)
    frame = retention(
        snapshot,
        snapshot_time,
        REPORT_TZ,
        analytics_settings.retention_days,
        exclude_before,
    )
    yearly = (
        frame.filter(pl.col("cohort_kind") == "year").pivot(
            on="days", index=["cohort_start", "cohort_size"], values="share"
        )
        if frame.height
        else frame
    )
    yield dg.Output(
        frame,
        metadata={
            "picture": dg.MetadataValue.md(
                png_image(retention_png(frame, "year"), "retention by year of registration")
                + "\n\n"
                + png_image(
                    retention_png(frame, "month", max_cohorts=6),
                    "retention by month of registration",
                )
            ),
            "yearly_cohorts": dg.MetadataValue.md(
                frame_to_markdown(yearly.with_columns(pl.selectors.float().round(3)), limit=20)
                if yearly.height
                else "_no cohorts_"
            ),
            "players": snapshot.height,
            "snapshot_week": str(snapshot["snapshot_week"].max()) if snapshot.height else "none",
        },
    )
    problems = []
    if frame.height:
        if frame.filter((pl.col("share") < 0) | (pl.col("share") > 1)).height:
            problems.append("share outside [0, 1]")
        if frame.filter(pl.col("retained") > pl.col("cohort_size")).height:
            problems.append("retained > cohort size")
        rising = (
            frame.sort("cohort_kind", "cohort_start", "days")
            .with_columns(prev=pl.col("retained").shift(1).over("cohort_kind", "cohort_start"))
            .filter(pl.col("retained") > pl.col("prev"))
        )
        if rising.height:
            problems.append("retention rises with N")
    yield dg.AssetCheckResult(
        check_name="shares_valid",
        passed=not problems,
        metadata={"problems": ", ".join(problems) or "none"},
    )


# ---------------------------------------------------------------------------------------------
# Jobs and schedules

analytics_daily_job = dg.define_asset_job(
    "analytics_daily_job",
    selection=["daily_activity", "session_habits", "daily_digest"],
    partitions_def=DAILY,
    description="Daily activity, session habits and the daily digest of one local day.",
)
weekly_digest_job = dg.define_asset_job(
    "weekly_digest_job", selection=["weekly_digest"], partitions_def=WEEKLY
)
monthly_digest_job = dg.define_asset_job(
    "monthly_digest_job", selection=["monthly_digest"], partitions_def=MONTHLY
)
yearly_digest_job = dg.define_asset_job(
    "yearly_digest_job", selection=["yearly_digest"], partitions_def=YEARLY
)
player_retention_job = dg.define_asset_job("player_retention_job", selection=["player_retention"])


def _schedule(job, minute: int):
    return dg.build_schedule_from_partitioned_job(
        job, minute_of_hour=minute, hour_of_day=0, default_status=dg.DefaultScheduleStatus.RUNNING
    )


@dg.schedule(
    cron_schedule="30 0 1 1 *",
    job=yearly_digest_job,
    execution_timezone=REPORT_TZ,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def yearly_digest_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """On 1 January at 00:30 local time, run the digest of the year that has just ended."""
    key = YEARLY.get_last_partition_key(current_time=context.scheduled_execution_time)
    if key is None:
        return dg.SkipReason("no complete year since TAI_ANALYTICS_START_DATE yet")
    return dg.RunRequest(run_key=key, partition_key=key)


# Shortly after local midnight, each schedule runs the period that has just ended.
ANALYTICS_SCHEDULES = [
    _schedule(analytics_daily_job, 15),
    _schedule(weekly_digest_job, 20),
    _schedule(monthly_digest_job, 25),
    yearly_digest_schedule,
]
ANALYTICS_ASSETS = [
    daily_activity,
    session_habits,
    daily_digest,
    weekly_digest,
    monthly_digest,
    yearly_digest,
    player_retention,
]
ANALYTICS_CHECKS: list = []  # every analytics check is declared on its asset (check_specs)
ANALYTICS_JOBS = [
    analytics_daily_job,
    weekly_digest_job,
    monthly_digest_job,
    yearly_digest_job,
    player_retention_job,
]


# An asset sensor rather than declarative automation: the automation sensor stores a ~35 KB
# evaluation on every tick, and a weekly snapshot only needs an hourly look.
@dg.asset_sensor(
    asset_key=dg.AssetKey("players_snapshot"),
    job=player_retention_job,
    name="player_retention_sensor",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Recomputes player_retention once after each new players snapshot.",
)
def player_retention_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    """Request one player_retention run per new players_snapshot materialization."""
    yield dg.RunRequest(run_key=f"players_snapshot:{asset_event.run_id}:{asset_event.timestamp}")


ANALYTICS_SENSORS = [player_retention_sensor]
ANALYTICS_ENV_VARS = [
    "TAI_REPORT_TIMEZONE",
    "TAI_ANALYTICS_START_DATE",
    "TAI_DIGEST_LANGUAGE",
    "TAI_BOT_ACCOUNTS",
    "TAI_RETENTION_EXCLUDE_BEFORE",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_CHANNEL_ID",
]
