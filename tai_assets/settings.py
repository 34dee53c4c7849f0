"""tai's settings: the one class that reads the environment (names kept from the original service).

Every variable of `.env.example` is one field here; nothing else in tai reads `os.environ` for
configuration. `./tai run` exports `.env` before Python starts, so the same values reach every
process (and Dagster's `EnvVar`, through which the secrets travel: this class only records
whether they are set). An empty value means the default, as it did in the original service.
"""

from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tai_assets.analytics.names import DEFAULT_BOTS

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The code location's name in the UI and in every sensor's and schedule's stored state
# (workspace.yaml, deploy/workspace-grpc.yaml and the code server's --location-name).
LOCATION_NAME = "tai"


def _env(name: str, **kwargs):
    """A field read from environment variable `name` (also settable by field name in code)."""
    return Field(validation_alias=AliasChoices(name, name.lower()), **kwargs)


class Settings(BaseSettings):
    """Every setting of tai; see `.env.example` for what each one does."""

    model_config = SettingsConfigDict(
        env_ignore_empty=True, populate_by_name=True, extra="ignore", frozen=True
    )

    # Sources
    training_host: str = _env("TRAINING_HOST", default="samp.training-server.com")
    training_port: int = _env("TRAINING_PORT", default=7777, ge=1, le=65535)
    training_api_base_url: str = _env(
        "TRAINING_API_BASE_URL", default="https://training-server.com/api"
    )
    chrono_api_base_url: str = _env("CHRONO_API_BASE_URL", default="https://chrono.czo.ooo/api")
    chrono_login: str | None = _env("CHRONO_LOGIN", default=None)
    chrono_token: SecretStr | None = _env("CHRONO_TOKEN", default=None)
    log_level: str = _env("LOG_LEVEL", default="INFO")

    # Warehouse and spool
    data_dir: Path = _env("TAI_DATA_DIR", default=PROJECT_DIR / "data")
    warehouse_path_setting: Path | None = _env("TAI_WAREHOUSE_PATH", default=None)
    spool_path_setting: Path | None = _env("TAI_SPOOL_PATH", default=None)
    warehouse_lock_wait_seconds: float = _env(
        "TAI_WAREHOUSE_LOCK_WAIT_SECONDS", default=300.0, ge=0
    )

    # Polling
    poll_interval_seconds: int = _env("TAI_POLL_INTERVAL_SECONDS", default=60, ge=1)
    poll_batch: int = _env("TAI_POLL_BATCH", default=20, ge=1)
    player_session_gap_seconds: int = _env("TAI_PLAYER_SESSION_GAP_SECONDS", default=2700, ge=1)
    world_session_gap_seconds: int = _env("TAI_WORLD_SESSION_GAP_SECONDS", default=1800, ge=1)
    freshness_minutes: int = _env("TAI_FRESHNESS_MINUTES", default=10, ge=1)
    checks_cron: str = _env("TAI_CHECKS_CRON", default="0 */6 * * *")
    run_retention_days: int = _env("TAI_RUN_RETENTION_DAYS", default=30, ge=1)
    tick_retention_minutes: float = _env("TAI_TICK_RETENTION_MINUTES", default=15, gt=0)
    run_detail_retention_minutes: int = _env("TAI_RUN_DETAIL_RETENTION_MINUTES", default=15, ge=0)

    # Weekly players snapshot
    crawl_min_interval_seconds: float = _env("TAI_CRAWL_MIN_INTERVAL_SECONDS", default=0.8, ge=0)
    crawl_max_attempts: int = _env("TAI_CRAWL_MAX_ATTEMPTS", default=8, ge=1)
    crawl_backoff_max_seconds: float = _env("TAI_CRAWL_BACKOFF_MAX_SECONDS", default=120.0, ge=0)
    crawl_timeout_seconds: float = _env("TAI_CRAWL_TIMEOUT_SECONDS", default=30.0, gt=0)
    crawl_staging_dir_setting: Path | None = _env("TAI_CRAWL_STAGING_DIR", default=None)

    # Analytics
    report_timezone: str = _env("TAI_REPORT_TIMEZONE", default="Europe/Moscow")
    analytics_start_date: date = _env("TAI_ANALYTICS_START_DATE", default=date(2025, 1, 1))
    digest_language: Literal["ru", "en"] = _env("TAI_DIGEST_LANGUAGE", default="ru")
    bot_accounts: Annotated[tuple[str, ...], NoDecode] = _env(
        "TAI_BOT_ACCOUNTS", default=DEFAULT_BOTS
    )
    retention_exclude_before: date = _env("TAI_RETENTION_EXCLUDE_BEFORE", default=date(2018, 1, 1))
    telegram_bot_token: SecretStr | None = _env("TELEGRAM_BOT_TOKEN", default=None)
    telegram_channel_id: str | None = _env("TELEGRAM_CHANNEL_ID", default=None)
    telegram_alert_chat_id: str | None = _env("TELEGRAM_ALERT_CHAT_ID", default=None)
    alert_down_minutes: int = _env("TAI_ALERT_DOWN_MINUTES", default=10, ge=1)

    # Dagster deployment
    dagster_home: Path = _env("DAGSTER_HOME", default=PROJECT_DIR / ".dagster_home")
    web_port: int = _env("TAI_WEB_PORT", default=3000, ge=1, le=65535)
    code_server_port: int = _env("TAI_CODE_SERVER_PORT", default=4266, ge=1, le=65535)
    dagster_dev: bool = _env("TAI_DAGSTER_DEV", default=False)
    instance: Literal["sqlite", "postgres"] = _env("TAI_INSTANCE", default="sqlite")
    postgres_url: SecretStr | None = _env("TAI_POSTGRES_URL", default=None)
    web_read_only: bool = _env("TAI_WEB_READ_ONLY", default=False)
    web_allowed_hosts_setting: Annotated[tuple[str, ...], NoDecode] = _env(
        "TAI_WEB_ALLOWED_HOSTS", default=()
    )

    @field_validator("log_level")
    @classmethod
    def _upper_log_level(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("digest_language", mode="before")
    @classmethod
    def _lower_language(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("bot_accounts", mode="before")
    @classmethod
    def _split_accounts(cls, value: object) -> object:
        if isinstance(value, str):
            names = tuple(name.strip() for name in value.split(",") if name.strip())
            return names or DEFAULT_BOTS
        return value

    @field_validator("web_allowed_hosts_setting", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(host.strip() for host in value.split(",") if host.strip())
        return value

    @model_validator(mode="after")
    def _postgres_needs_its_url(self) -> Self:
        if self.instance == "postgres":
            url = self.postgres_url.get_secret_value() if self.postgres_url else ""
            if not url.startswith("postgresql+psycopg2://"):
                raise ValueError(
                    "TAI_INSTANCE=postgres needs TAI_POSTGRES_URL=postgresql+psycopg2://"
                    "user:password@host:port/database"
                )
        return self

    @model_validator(mode="after")
    def _known_timezone(self) -> Self:
        try:
            ZoneInfo(self.report_timezone)
        except (KeyError, ValueError) as error:
            raise ValueError(
                f"TAI_REPORT_TIMEZONE must be an IANA zone name, got {self.report_timezone!r}"
            ) from error
        return self

    @property
    def exports_dir(self) -> Path:
        """Where the Parquet exports are written (`<data_dir>/exports`)."""
        return self.data_dir / "exports"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB warehouse file (TAI_WAREHOUSE_PATH, default `<data_dir>/tai.duckdb`)."""
        return self.warehouse_path_setting or self.data_dir / "tai.duckdb"

    @property
    def spool_path(self) -> Path:
        """The poll spool (TAI_SPOOL_PATH, default `<data_dir>/spool.sqlite3`)."""
        return self.spool_path_setting or self.data_dir / "spool.sqlite3"

    @property
    def crawl_staging_dir(self) -> Path:
        """Where crawled pages are checkpointed (default `<data_dir>/staging/players_snapshot`)."""
        return self.crawl_staging_dir_setting or self.data_dir / "staging" / "players_snapshot"

    @property
    def web_allowed_hosts(self) -> tuple[str, ...]:
        """The Host values the webserver answers (TAI_WEB_ALLOWED_HOSTS, default
        `127.0.0.1:<port>` and `localhost:<port>`); a reverse proxy adds its public name."""
        default = (f"127.0.0.1:{self.web_port}", f"localhost:{self.web_port}")
        return self.web_allowed_hosts_setting or default

    @property
    def chrono_configured(self) -> bool:
        """True when both CHRONO_LOGIN and CHRONO_TOKEN are set (world polling is on)."""
        return bool(self.chrono_login) and self.chrono_token is not None

    @property
    def alerts_configured(self) -> bool:
        """True when both TELEGRAM_BOT_TOKEN and TELEGRAM_ALERT_CHAT_ID are set."""
        return self.telegram_bot_token is not None and bool(self.telegram_alert_chat_id)

    @property
    def telegram_configured(self) -> bool:
        """True when both TELEGRAM_BOT_TOKEN and TELEGRAM_CHANNEL_ID are set."""
        return self.telegram_bot_token is not None and bool(self.telegram_channel_id)

    @classmethod
    def from_env(cls) -> "Settings":
        """Return the settings read from the environment now (a fresh read, for tests)."""
        return cls()


@cache
def current_settings() -> Settings:
    """Return the settings of this process, read once: the code location's definitions (its
    partitions, schedules and resources) are built from one consistent reading."""
    return Settings()
