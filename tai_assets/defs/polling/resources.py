"""Resources of the polling domain: the spool, the game server, the chrono API, polling settings."""

import dagster as dg
from pydantic import Field

from tai_assets.core.spool import PollSpool
from tai_assets.defs.resources import secret
from tai_assets.settings import Settings
from tai_assets.sources.chrono import WorldPollResult, fetch_worlds
from tai_assets.sources.samp.client import ServerPollResult, query_server


class PollSpoolResource(dg.ConfigurableResource):
    """The durable poll spool (SQLite, WAL): sensors append every poll, ingest runs drain it."""

    path: str = Field(description="Path of the spool file (TAI_SPOOL_PATH).")

    def spool(self) -> PollSpool:
        """Return the spool at `path`."""
        return PollSpool(self.path)


class GameServerResource(dg.ConfigurableResource):
    """The SA-MP / open.mp game server's UDP query endpoint (TRAINING_HOST:TRAINING_PORT)."""

    host: str = Field(description="Game server host name or IPv4 (TRAINING_HOST).")
    port: int = Field(default=7777, description="Game server UDP port (TRAINING_PORT).")
    timeout_seconds: float = Field(default=1.5, description="Wait for one answer datagram.")
    attempts: int = Field(default=3, description="Tries per query opcode before giving up.")

    def poll(self) -> ServerPollResult:
        """Return one poll (`i`, then `c`): ok, count_only or unreachable; never raises."""
        return query_server(
            self.host, self.port, timeout_s=self.timeout_seconds, attempts=self.attempts
        )


class ChronoApiResource(dg.ConfigurableResource):
    """The chrono web API (`GET {base_url}/worlds` with X-Login / X-Token)."""

    base_url: str = Field(description="CHRONO_API_BASE_URL, e.g. https://chrono.czo.ooo/api")
    login: str | None = Field(default=None, description="CHRONO_LOGIN")
    token: str | None = Field(default=None, description="CHRONO_TOKEN (secret, via EnvVar)")
    timeout_seconds: float = Field(default=8.0, description="HTTP timeout for one poll.")

    def missing_credentials(self) -> str | None:
        """Return why world polling is off (no login or token), or None when it can run."""
        missing = [
            name
            for name, value in (("CHRONO_LOGIN", self.login), ("CHRONO_TOKEN", self.token))
            if not value
        ]
        if missing:
            return f"world polling is off: {' and '.join(missing)} not set"
        return None

    def poll(self) -> WorldPollResult:
        """Return one poll of the worlds; failures come back as `unreachable`, never raised."""
        reason = self.missing_credentials()
        if reason:
            return WorldPollResult("unreachable", error=reason)
        return fetch_worlds(
            self.base_url, self.login or "", self.token or "", timeout_s=self.timeout_seconds
        )


class PollingSettings(dg.ConfigurableResource):
    """How the collectors batch their polls and how sessions are cut."""

    poll_interval_seconds: int = Field(default=60, description="TAI_POLL_INTERVAL_SECONDS")
    poll_batch: int = Field(default=20, description="TAI_POLL_BATCH: polls per ingest run")
    tick_retention_minutes: float = Field(
        default=15, description="TAI_TICK_RETENTION_MINUTES: polling sensor ticks kept this long"
    )
    run_detail_retention_minutes: int = Field(
        default=15,
        description="TAI_RUN_DETAIL_RETENTION_MINUTES: after this, succeeded ingest runs "
        "keep only their asset materializations",
    )
    player_session_gap_seconds: int = Field(
        default=2700, description="TAI_PLAYER_SESSION_GAP_SECONDS"
    )
    world_session_gap_seconds: int = Field(
        default=1800, description="TAI_WORLD_SESSION_GAP_SECONDS"
    )


def polling_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Return the polling domain's resources, filled from the settings (the chrono login and
    token only as EnvVar, and only when set)."""
    return {
        "spool": PollSpoolResource(path=str(settings.spool_path)),
        "game_server": GameServerResource(host=settings.training_host, port=settings.training_port),
        "chrono": ChronoApiResource(
            base_url=settings.chrono_api_base_url,
            login=secret("CHRONO_LOGIN", bool(settings.chrono_login)),
            token=secret("CHRONO_TOKEN", settings.chrono_token is not None),
        ),
        "polling": PollingSettings(
            poll_interval_seconds=settings.poll_interval_seconds,
            poll_batch=settings.poll_batch,
            tick_retention_minutes=settings.tick_retention_minutes,
            run_detail_retention_minutes=settings.run_detail_retention_minutes,
            player_session_gap_seconds=settings.player_session_gap_seconds,
            world_session_gap_seconds=settings.world_session_gap_seconds,
        ),
    }
