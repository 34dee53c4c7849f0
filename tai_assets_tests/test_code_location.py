"""The real code location, loaded as Dagster loads it: its definitions pinned by name, the
settings behind it, and Dagster's own validators (`dg check defs`, `dagster definitions
validate`) passing on the project."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import dagster as dg
import pytest
from pydantic import ValidationError

from tai_assets.defs.exports.assets import EXPORTS
from tai_assets.settings import PROJECT_DIR, Settings

ASSETS = {
    "raw_server_polls", "raw_world_polls", "player_sessions", "world_sessions",
    "server_online", "worlds_online", "players_snapshot_pages", "players_snapshot",
    "players_snapshot_quarantine", "daily_activity", "session_habits", "daily_digest",
    "weekly_digest", "monthly_digest", "yearly_digest", "player_retention", "legacy_history",
    "world_tags", "genre_popularity", "online_heatmap", "online_heatmap_recent",
    "player_profiles", "name_history", "player_base", "player_base_cohorts", "rp_names",
    "player_churn",
    *(f"export_{e.table}" for e in EXPORTS),
}  # fmt: skip
CHECKS = {
    "raw_server_polls:raw_server_polls_unique_and_past",
    "raw_server_polls:raw_server_polls_count_covers_names",
    "raw_server_polls:raw_server_polls_fresh",
    "server_online:server_online_no_repeats",
    "player_sessions:player_sessions_end_after_start",
    "player_sessions:player_sessions_separated_by_gap",
    "player_sessions:player_sessions_boundaries_are_sightings",
    "raw_world_polls:raw_world_polls_unique_and_past",
    "raw_world_polls:raw_world_polls_fresh",
    "raw_world_polls:raw_world_polls_authenticated",
    "worlds_online:worlds_online_no_consecutive_duplicates",
    "world_sessions:world_sessions_end_after_start",
    "world_sessions:world_sessions_separated_by_gap",
    "world_sessions:world_sessions_have_stats",
    "world_sessions:world_sessions_boundaries_are_sightings",
    "players_snapshot:id_unique",
    "players_snapshot:row_count_matches_api_total",
    "players_snapshot:regdate_not_after_lastlogin",
    "players_snapshot:no_big_drop_vs_previous",
    "players_snapshot:quarantine_rate",
    "daily_activity:figures_consistent",
    "player_retention:shares_valid",
    "daily_digest:delivered",
    "weekly_digest:delivered",
    "monthly_digest:delivered",
    "yearly_digest:delivered",
    "world_tags:every_name_tagged_or_untagged",
    "genre_popularity:shares_within_0_1",
    "online_heatmap:cells_valid",
    "online_heatmap_recent:cells_valid",
    "player_base:cohorts_add_up",
    "rp_names:shares_within_0_1",
    "player_churn:churned_within_regulars",
    "legacy_history:legacy_player_sessions_in_core",
    "legacy_history:legacy_world_sessions_in_core",
    "legacy_history:legacy_online_in_series",
    "legacy_history:legacy_worlds_online_in_history",
    "legacy_history:legacy_snapshots_complete",
}
JOBS = {
    "ingest_polls_job", "rebuild_derived_job",
    "polling_checks_job", "players_snapshot_job", "analytics_daily_job", "weekly_digest_job",
    "monthly_digest_job", "yearly_digest_job", "player_retention_job", "purge_old_runs_job",
    "import_history_job", "analytics_refresh_job", "exports_job",
}  # fmt: skip
SCHEDULES = {
    "polling_checks_schedule", "purge_old_runs_daily", "players_snapshot_weekly",
    "analytics_daily_job_schedule", "weekly_digest_job_schedule", "monthly_digest_job_schedule",
    "yearly_digest_schedule", "analytics_refresh_daily", "exports_daily",
}  # fmt: skip
SENSORS = {
    "server_poll_sensor", "world_poll_sensor", "polling_freshness_sensor",
    "player_retention_sensor", "alerts_sensor",
}  # fmt: skip
RESOURCES = {
    "io_manager", "warehouse", "spool", "game_server", "chrono", "polling", "training_api",
    "analytics_settings", "telegram", "alerts", "parquet_io_manager",
}  # fmt: skip


@pytest.fixture(scope="module")
def location() -> dg.Definitions:
    """The `defs` of `tai_assets.definitions`, loaded the way `dagster api grpc -m` does."""
    from tai_assets.definitions import defs

    return defs


def test_the_code_location_defines_exactly_these(location):
    repo = location.get_repository_def()
    assets = {key.to_user_string() for key in repo.assets_defs_by_key}
    checks = {key.to_user_string() for key in repo.asset_checks_defs_by_key}
    for asset in repo.assets_defs_by_key.values():
        checks |= {key.to_user_string() for key in asset.check_keys}
    assert assets == ASSETS
    assert checks == CHECKS
    assert set(repo.job_names) - {"__ASSET_JOB"} == JOBS
    assert {s.name for s in repo.schedule_defs} == SCHEDULES
    assert {s.name for s in repo.sensor_defs} == SENSORS
    assert set(location.resources) == RESOURCES


def test_every_asset_names_its_group_owner_and_kinds(location):
    groups = {"polling", "players", "analytics", "history", "exports"}
    for spec in location.resolve_all_asset_specs():
        assert spec.group_name in groups, spec.key
        assert spec.owners == ["team:tai"], spec.key
        assert spec.kinds, spec.key
        assert spec.metadata.get("schema") in {"raw", "core", "analytics"} or (
            spec.key.to_user_string() == "players_snapshot_pages" or spec.group_name == "exports"
        ), spec.key


def test_every_variable_of_env_example_is_one_settings_field():
    example = (PROJECT_DIR / ".env.example").read_text()
    names = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    aliases = {
        field.validation_alias.choices[0]: name
        for name, field in Settings.model_fields.items()
        if field.validation_alias is not None
    }
    assert names == set(aliases), names ^ set(aliases)


def test_settings_read_the_environment_with_documented_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("TAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TAI_POLL_BATCH", "")  # empty means the default, as in the old service
    monkeypatch.setenv("TAI_BOT_ACCOUNTS", " A, B ,")
    monkeypatch.setenv("TAI_DIGEST_LANGUAGE", "EN")
    settings = Settings()
    assert settings.poll_batch == 20
    assert settings.warehouse_path == tmp_path / "tai.duckdb"
    assert settings.spool_path == tmp_path / "spool.sqlite3"
    assert settings.crawl_staging_dir == tmp_path / "staging" / "players_snapshot"
    assert settings.bot_accounts == ("A", "B")
    assert settings.digest_language == "en"
    assert not settings.chrono_configured


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TAI_POLL_BATCH", "ten", "TAI_POLL_BATCH"),
        ("TAI_POLL_INTERVAL_SECONDS", "0", "greater than or equal to 1"),
        ("TAI_DIGEST_LANGUAGE", "de", "TAI_DIGEST_LANGUAGE"),
        ("TAI_REPORT_TIMEZONE", "Mars/Olympus", "IANA zone name"),
    ],
)
def test_a_bad_setting_is_a_clear_error_naming_the_variable(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=says):
        Settings()


def test_secrets_are_recorded_as_set_but_never_shown(monkeypatch):
    monkeypatch.setenv("CHRONO_LOGIN", "tai")
    monkeypatch.setenv("CHRONO_TOKEN", "very-secret-token")
    settings = Settings()
    assert settings.chrono_configured
    assert "very-secret-token" not in repr(settings) and "very-secret-token" not in str(settings)


def run_tool(*command: str) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent
    return subprocess.run(
        [str(bin_dir / command[0]), *command[1:]],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dg_check_defs_passes():
    checked = run_tool("dg", "check", "defs")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr


def test_dagster_definitions_validate_passes():
    checked = run_tool("dagster", "definitions", "validate", "-m", "tai_assets.definitions")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "passed validation" in checked.stdout + checked.stderr


def test_a_built_wheel_carries_every_sql_file(tmp_path):
    source = tmp_path / "source"  # a clean copy: the build leaves nothing in the project
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_DIR / name, source / name)
    shutil.copytree(PROJECT_DIR / "sql", source / "sql")
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PROJECT_DIR / "tai_assets", source / "tai_assets", symlinks=True, ignore=skip)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("tai-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n.removeprefix("tai_assets/") for n in archive.namelist() if n.endswith(".sql")}
    expected = {str(p.relative_to(PROJECT_DIR)) for p in (PROJECT_DIR / "sql").rglob("*.sql")}
    assert shipped == expected
