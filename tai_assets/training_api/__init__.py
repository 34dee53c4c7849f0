"""The training web API: models, normalisation, and the polite, resumable page crawler."""

from tai_assets.training_api.assemble import AssembledSnapshot, assemble_snapshot
from tai_assets.training_api.crawler import CrawlResult, DriftReport, analyze_drift, crawl
from tai_assets.training_api.fetch import CrawlSettings, PageFetchError, TrainingApiClient
from tai_assets.training_api.models import ApiUser, ApiWarn, UserPage
from tai_assets.training_api.normalize import (
    QUARANTINE_SCHEMA,
    SNAPSHOT_SCHEMA,
    Quarantined,
    normalize_record,
)
from tai_assets.training_api.resource import TrainingApiResource
from tai_assets.training_api.staging import Manifest, PageStage, StagedPage
from tai_assets.training_api.timestamps import parse_api_timestamp

__all__ = [
    "QUARANTINE_SCHEMA",
    "SNAPSHOT_SCHEMA",
    "ApiUser",
    "ApiWarn",
    "AssembledSnapshot",
    "CrawlResult",
    "CrawlSettings",
    "DriftReport",
    "Manifest",
    "PageFetchError",
    "PageStage",
    "Quarantined",
    "StagedPage",
    "TrainingApiClient",
    "TrainingApiResource",
    "UserPage",
    "analyze_drift",
    "assemble_snapshot",
    "crawl",
    "normalize_record",
    "parse_api_timestamp",
]
