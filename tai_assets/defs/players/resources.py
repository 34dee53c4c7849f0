"""`TrainingApiResource`: where the training API is, and how politely tai crawls it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
from pydantic import Field

from tai_assets.settings import Settings, current_settings
from tai_assets.sources.training_api.fetch import CrawlSettings, TrainingApiClient
from tai_assets.sources.training_api.staging import PageStage

DEFAULT_BASE_URL = "https://training-server.com/api"


class TrainingApiResource(dg.ConfigurableResource):
    """The training web API (``GET {base_url}/user?page=N``) and the crawl's politeness.

    Filled from `Settings` by `from_settings` (``TRAINING_API_BASE_URL`` and ``TAI_CRAWL_*``).
    """

    base_url: str = Field(
        default=DEFAULT_BASE_URL, description="TRAINING_API_BASE_URL, e.g. " + DEFAULT_BASE_URL
    )
    min_interval_seconds: float = Field(
        default=0.8, ge=0, description="TAI_CRAWL_MIN_INTERVAL_SECONDS: min gap between requests"
    )
    max_attempts: int = Field(
        default=8, ge=1, description="TAI_CRAWL_MAX_ATTEMPTS: tries per page before failing"
    )
    backoff_initial_seconds: float = Field(
        default=1.0, ge=0, description="First wait after a network error or 5xx (doubles)."
    )
    backoff_max_seconds: float = Field(
        default=120.0, ge=0, description="TAI_CRAWL_BACKOFF_MAX_SECONDS: cap of that wait"
    )
    retry_after_max_seconds: float = Field(
        default=900.0, ge=0, description="Longest Retry-After honoured (longer is capped)."
    )
    timeout_seconds: float = Field(
        default=30.0, gt=0, description="TAI_CRAWL_TIMEOUT_SECONDS: HTTP timeout per request"
    )
    progress_interval_seconds: float = Field(
        default=30.0, gt=0, le=60, description="How often progress is logged (at most 60 s)."
    )
    staging_dir: str | None = Field(
        default=None,
        description="TAI_CRAWL_STAGING_DIR: where fetched pages are checkpointed "
        "(unset: the settings' folder, <TAI_DATA_DIR>/staging/players_snapshot).",
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainingApiResource:
        """Return the resource configured from the settings."""
        return cls(
            base_url=settings.training_api_base_url,
            min_interval_seconds=settings.crawl_min_interval_seconds,
            max_attempts=settings.crawl_max_attempts,
            backoff_max_seconds=settings.crawl_backoff_max_seconds,
            timeout_seconds=settings.crawl_timeout_seconds,
            staging_dir=str(settings.crawl_staging_dir),
        )

    def crawl_settings(
        self, *, min_interval_seconds: float | None = None, max_pages: int | None = None
    ) -> CrawlSettings:
        """Return the crawl settings, with a run's overrides applied."""
        return CrawlSettings(
            min_interval_s=(
                self.min_interval_seconds if min_interval_seconds is None else min_interval_seconds
            ),
            max_attempts=self.max_attempts,
            backoff_initial_s=self.backoff_initial_seconds,
            backoff_max_s=self.backoff_max_seconds,
            retry_after_max_s=self.retry_after_max_seconds,
            timeout_s=self.timeout_seconds,
            progress_interval_s=self.progress_interval_seconds,
            max_pages=max_pages,
        )

    def client(
        self, settings: CrawlSettings, on_retry: Callable[[str], None] | None = None
    ) -> TrainingApiClient:
        """Return a paced, retrying client for the API (close it, or use it in ``with``)."""
        return TrainingApiClient(self.base_url, settings, on_retry=on_retry)

    def stage(self, partition: str) -> PageStage:
        """Return the staging folder of a partition's crawl."""
        root = Path(self.staging_dir) if self.staging_dir else current_settings().crawl_staging_dir
        return PageStage(root, partition)


def players_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Return the players domain's resources, filled from the settings."""
    return {"training_api": TrainingApiResource.from_settings(settings)}
