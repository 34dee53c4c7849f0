"""The alert channel: the operator's own Telegram chat, through the Bot API."""

import dagster as dg
from pydantic import Field

from tai_assets.analytics.telegram import DEFAULT_API_BASE_URL, DeliveryResult, send_message
from tai_assets.settings import Settings


class AlertResource(dg.ConfigurableResource):
    """Sends alerts to TELEGRAM_ALERT_CHAT_ID; off unless it and TELEGRAM_BOT_TOKEN are set.

    Hardcoded in the code location like every resource (see `fixed_resources`), so no run can
    point it, and the token, elsewhere."""

    bot_token: str | None = Field(default=None, description="TELEGRAM_BOT_TOKEN (secret)")
    chat_id: str | None = Field(default=None, description="TELEGRAM_ALERT_CHAT_ID")
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL, description="Bot API base URL.")
    down_minutes: int = Field(default=10, description="TAI_ALERT_DOWN_MINUTES")
    attempts: int = Field(default=3, description="Tries per message.")

    @property
    def enabled(self) -> bool:
        """True when both the bot token and the alert chat are set."""
        return bool(self.bot_token) and bool(self.chat_id)

    def send(self, text: str) -> DeliveryResult:
        """Post `text` (HTML) to the alert chat; never raises, never reveals the token."""
        if not self.enabled:
            return DeliveryResult("disabled")
        return send_message(
            self.bot_token or "",
            self.chat_id or "",
            text,
            api_base_url=self.api_base_url,
            attempts=self.attempts,
            backoff_seconds=1.0,
            timeout_seconds=10.0,
        )


def alert_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Return the `alerts` resource filled from the settings (the token only as EnvVar)."""
    if settings.alerts_configured:
        alerts = AlertResource(
            bot_token=dg.EnvVar("TELEGRAM_BOT_TOKEN"),
            chat_id=dg.EnvVar("TELEGRAM_ALERT_CHAT_ID"),
            down_minutes=settings.alert_down_minutes,
        )
    else:
        alerts = AlertResource(down_minutes=settings.alert_down_minutes)
    return {"alerts": alerts}
