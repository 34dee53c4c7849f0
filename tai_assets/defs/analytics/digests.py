"""The digests of a day, week, month and year: Markdown, a picture, and optional Telegram."""

import json
from collections.abc import Iterator

import dagster as dg
import polars as pl
from pydantic import Field

from tai_assets.analytics.digest import DigestData, compute_digest
from tai_assets.analytics.periods import Period, PeriodKind
from tai_assets.analytics.plots import digest_png
from tai_assets.analytics.render import Language, render_markdown, render_telegram_html
from tai_assets.analytics.telegram import DeliveryResult
from tai_assets.common.clock import utc_now
from tai_assets.common.markdown import frame_to_markdown, png_image
from tai_assets.common.sql_files import read_sql
from tai_assets.defs.analytics.assets import GROUP, OWNERS, table_metadata
from tai_assets.defs.analytics.checks import (
    delivered_check_result,
    delivered_check_spec,
)
from tai_assets.defs.analytics.partitions import (
    DAILY,
    MONTHLY,
    SESSION_DEPS,
    WEEKLY,
    YEARLY,
    now_naive,
    period_of,
)
from tai_assets.defs.analytics.resources import AnalyticsSettings, TelegramResource
from tai_assets.defs.resources import WarehouseResource


class DigestConfig(dg.Config):
    """Run options of a digest."""

    deliver: bool = Field(default=True, description="Post to Telegram when it is configured.")
    force_resend: bool = Field(
        default=False,
        description="Post even if this period was already sent or is older than the window.",
    )


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
        "computed_at": now_naive(),
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
        metadata=table_metadata("replace_partition", "period_start"),
        kinds={"duckdb", "polars", "telegram"},
        group_name=GROUP,
        owners=OWNERS,
        description=f"The {adjective} digest: most active players (top 3, bots and unsafe names "
        "left out), most popular worlds (top 5 by popularity score, 🔥 for the hottest) and peak "
        f"online, as Markdown (TAI_DIGEST_LANGUAGE); made after the {kind} ends and "
        "optionally posted to Telegram.",
        check_specs=[delivered_check_spec(name)],
    )
    def _digest(
        context: dg.AssetExecutionContext,
        config: DigestConfig,
        warehouse: WarehouseResource,
        analytics_settings: AnalyticsSettings,
        telegram: TelegramResource,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        period = period_of(context, kind)
        lang: Language = analytics_settings.language
        with warehouse.connect() as conn:
            data = compute_digest(conn, period, analytics_settings.bots)
            previous = conn.execute(
                read_sql("analytics/previous_delivery.sql"), [kind, period.start]
            ).fetchone()
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
        yield delivered_check_result(delivery)

    return _digest


daily_digest = _digest_asset("day", "daily_digest", DAILY, "daily")
weekly_digest = _digest_asset("week", "weekly_digest", WEEKLY, "weekly (Monday–Sunday)")
monthly_digest = _digest_asset("month", "monthly_digest", MONTHLY, "monthly")
yearly_digest = _digest_asset("year", "yearly_digest", YEARLY, "yearly")

DIGESTS = [daily_digest, weekly_digest, monthly_digest, yearly_digest]
