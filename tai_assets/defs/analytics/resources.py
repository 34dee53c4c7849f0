"""Resources of the analytics domain: how reports are made, and Telegram delivery."""

from typing import Literal

import dagster as dg
from pydantic import Field

from tai_assets.analytics.names import DEFAULT_BOTS
from tai_assets.analytics.retention import DEFAULT_RETENTION_DAYS
from tai_assets.analytics.telegram import DEFAULT_API_BASE_URL, DeliveryResult, send_message
from tai_assets.settings import Settings


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


def analytics_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Return the ``analytics_settings`` and ``telegram`` resources filled from the settings.

    Secrets go through ``dg.EnvVar`` so their values never reach the UI, logs or metadata; the
    Telegram resource is the disabled default unless both TELEGRAM_* variables are set.
    """
    analytics = AnalyticsSettings(
        language=settings.digest_language,
        bots=list(settings.bot_accounts),
        retention_exclude_before=settings.retention_exclude_before.isoformat(),
    )
    if settings.telegram_configured:
        telegram = TelegramResource(
            bot_token=dg.EnvVar("TELEGRAM_BOT_TOKEN"), channel_id=dg.EnvVar("TELEGRAM_CHANNEL_ID")
        )
    else:
        telegram = TelegramResource()
    return {"analytics_settings": analytics, "telegram": telegram}
