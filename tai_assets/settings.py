"""tai's settings, read from the environment (names kept from the original service)."""

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as error:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from error


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as error:
        raise ValueError(f"{name} must be a number, got {raw!r}") from error


def _str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class Settings:
    """Every non-secret setting; secrets (CHRONO_TOKEN, ...) go through Dagster `EnvVar`."""

    training_host: str
    training_port: int
    training_api_base_url: str
    chrono_api_base_url: str
    log_level: str
    data_dir: Path
    warehouse_path: Path
    spool_path: Path
    poll_interval_seconds: int
    poll_batch: int
    player_session_gap_seconds: int
    world_session_gap_seconds: int
    run_retention_days: int
    tick_retention_minutes: int
    run_detail_retention_minutes: int
    report_timezone: str
    checks_cron: str
    freshness_minutes: int

    @classmethod
    def from_env(cls) -> "Settings":
        """Return the settings from the environment, with the documented defaults."""
        data_dir = Path(_str("TAI_DATA_DIR", str(PROJECT_DIR / "data")))
        return cls(
            training_host=_str("TRAINING_HOST", "samp.training-server.com"),
            training_port=_int("TRAINING_PORT", 7777),
            training_api_base_url=_str("TRAINING_API_BASE_URL", "https://training-server.com/api"),
            chrono_api_base_url=_str("CHRONO_API_BASE_URL", "https://chrono.czo.ooo/api"),
            log_level=_str("LOG_LEVEL", "INFO").upper(),
            data_dir=data_dir,
            warehouse_path=Path(_str("TAI_WAREHOUSE_PATH", str(data_dir / "tai.duckdb"))),
            spool_path=Path(_str("TAI_SPOOL_PATH", str(data_dir / "spool.sqlite3"))),
            poll_interval_seconds=max(1, _int("TAI_POLL_INTERVAL_SECONDS", 60)),
            poll_batch=max(1, _int("TAI_POLL_BATCH", 10)),
            player_session_gap_seconds=_int("TAI_PLAYER_SESSION_GAP_SECONDS", 2700),
            world_session_gap_seconds=_int("TAI_WORLD_SESSION_GAP_SECONDS", 1800),
            run_retention_days=_int("TAI_RUN_RETENTION_DAYS", 30),
            tick_retention_minutes=max(1, _int("TAI_TICK_RETENTION_MINUTES", 15)),
            run_detail_retention_minutes=max(0, _int("TAI_RUN_DETAIL_RETENTION_MINUTES", 15)),
            report_timezone=_str("TAI_REPORT_TIMEZONE", "Europe/Moscow"),
            checks_cron=_str("TAI_CHECKS_CRON", "0 */6 * * *"),
            freshness_minutes=max(1, _int("TAI_FRESHNESS_MINUTES", 10)),
        )
