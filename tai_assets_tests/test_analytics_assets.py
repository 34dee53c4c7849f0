"""Analytics assets materialized on a real DuckDB file with hand-made core rows whose answers
are known: daily activity, session habits, the four digests, retention and Telegram delivery."""

import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from tai_assets.common.clock import use_clock
from tai_assets.core.derive import refresh_world_session_stats
from tai_assets.defs.analytics import ANALYTICS_ASSETS
from tai_assets.defs.analytics.assets import daily_activity, player_retention, session_habits
from tai_assets.defs.analytics.digests import (
    daily_digest,
    monthly_digest,
    weekly_digest,
    yearly_digest,
)
from tai_assets.defs.analytics.jobs import ANALYTICS_JOBS
from tai_assets.defs.analytics.resources import (
    AnalyticsSettings,
    TelegramResource,
    analytics_resources,
)
from tai_assets.defs.analytics.schedules import ANALYTICS_SCHEDULES
from tai_assets.defs.analytics.sensors import ANALYTICS_SENSORS, player_retention_sensor
from tai_assets.defs.resources import WarehouseResource
from tai_assets.settings import Settings
from tai_assets.warehouse import connection
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager
from tai_assets_tests.support.fake_bot_api import fake_bot_api

TOKEN = "987654:VERY-secret-token"
# Local (Moscow) midnight that starts 31 December 2025, in naive UTC.
DAY0 = datetime(2025, 12, 30, 21, 0)
YEAR_END = datetime(2025, 12, 31, 21, 0)  # first instant of 2026 in Moscow


def h(hours: float) -> datetime:
    return DAY0 + timedelta(hours=hours)


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    with connection.connect(path) as conn:
        conn.executemany(
            "INSERT INTO core.player_sessions VALUES (?, ?, ?)",
            [
                ("Anna", datetime(2025, 12, 1, 12), datetime(2025, 12, 1, 13)),  # earlier history
                ("Anna", h(10), h(10.5)),
                ("Ivan", h(7), h(9)),
                ("Ivan", h(9.5), h(10)),
                ("Petr", h(8), h(11)),
                ("KrystallBot", h(0), h(20)),
                ("t.me/spam", h(1), h(15)),
                ("Night", h(-0.5), h(0.5)),  # crosses midnight into 31 December
                ("Last", YEAR_END - timedelta(microseconds=1), YEAR_END + timedelta(hours=9)),
                ("First2026", YEAR_END, YEAR_END + timedelta(hours=12)),
            ],
        )
        conn.executemany(
            "INSERT INTO core.server_online VALUES (?, ?, ?, ?)",
            [
                (h(-2), "up", 3, 100),
                (h(8), "up", 7, 100),
                (h(9), "down", None, None),
                (h(9.25), "up", 7, 100),
                (h(10), "up", 5, 100),
                (YEAR_END + timedelta(hours=1), "up", 40, 100),  # 2026: not in 2025 digests
            ],
        )
        conn.executemany(
            "INSERT INTO raw.raw_server_polls (polled_at, status, online) VALUES (?, ?, ?)",
            [(h(i / 6), "ok" if i % 4 else "unreachable", 3) for i in range(8)],
        )
        conn.executemany(
            "INSERT INTO core.world_sessions VALUES (?, ?, ?)",
            [("Drift", h(10), h(12)), ("Tiny", h(1), h(2)), ("best.ru", h(3), h(6))],
        )
        conn.executemany(
            "INSERT INTO core.worlds_online (name, players, saved_at) VALUES (?, ?, ?)",
            [
                ("Drift", 1, h(10)),
                ("Drift", 5, h(10.5)),
                ("Drift", 5, h(11)),
                ("Drift", 3, h(12)),
                ("Tiny", 2, h(1)),
                ("best.ru", 20, h(3.5)),
                ("best.ru", 20, h(5)),
            ],
        )
        refresh_world_session_stats(conn, None)  # as the ingest does
    return path


def resources(database: str, telegram: TelegramResource | None = None, **settings) -> dict:
    return {
        "io_manager": TaiWarehouseIOManager(database=database),
        "warehouse": WarehouseResource(database=database),
        "analytics_settings": AnalyticsSettings(**settings),
        "telegram": telegram or TelegramResource(),
    }


_INSTANCE: list = []


def materialize(assets, **kwargs):
    """``dg.materialize`` on one shared ephemeral instance (saves a second per run)."""
    if not _INSTANCE:
        _INSTANCE.append(dg.DagsterInstance.ephemeral())
    return dg.materialize(assets, instance=_INSTANCE[0], **kwargs)


def rows(database: str, sql: str, params=()) -> list[dict]:
    with duckdb.connect(database, read_only=True) as conn:
        cursor = conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_definitions_lists_load():
    defs = dg.Definitions(
        assets=ANALYTICS_ASSETS,
        jobs=ANALYTICS_JOBS,
        schedules=ANALYTICS_SCHEDULES,
        sensors=ANALYTICS_SENSORS,
        resources={
            "warehouse": WarehouseResource(database=":memory:"),
            **analytics_resources(Settings()),
        },
    )
    repo = defs.get_repository_def()
    assert {s.name for s in repo.schedule_defs} >= {"yearly_digest_schedule"}
    for asset in ANALYTICS_ASSETS:
        for spec in asset.specs:
            assert spec.metadata["schema"] == "analytics"
            assert spec.group_name == "analytics"
            assert spec.owners
    env = analytics_resources(
        Settings(
            telegram_bot_token="x",
            telegram_channel_id="y",
            bot_accounts="A, B",
            digest_language="en",
        )
    )
    assert env["analytics_settings"].bots == ["A", "B"]
    assert env["analytics_settings"].language == "en"


def test_daily_activity_and_habits(database):
    result = materialize(
        [daily_activity, session_habits], partition_key="2025-12-31", resources=resources(database)
    )
    assert result.success
    (row,) = rows(database, "SELECT * FROM analytics.daily_activity")
    assert row["day"] == date(2025, 12, 31)
    assert row["active_players"] == 7  # Anna Ivan Petr KrystallBot t.me/spam Night Last
    assert row["new_players"] == 5  # all but Anna (seen 1 Dec) and Night (started the day before)
    assert row["sessions"] == 7
    assert row["total_play_hours"] == pytest.approx(0.5 + 2.5 + 3 + 20 + 14 + 0.5 + 0, abs=1e-6)
    assert row["peak_online"] == 7 and row["peak_online_at"] == h(8)
    assert row["polls"] == 8 and row["polls_answered"] == 6
    assert row["availability"] == pytest.approx(0.75)
    assert row["worlds_opened"] == 3 and row["distinct_worlds"] == 3
    (habits,) = rows(database, "SELECT * FROM analytics.session_habits")
    assert habits["players"] == 6 and habits["sessions"] == 7 and habits["gaps"] == 1
    assert habits["median_gap_minutes"] == pytest.approx(30.0)
    meta = result.asset_materializations_for_node("daily_activity")[0].metadata
    assert "data:image/png;base64," in meta["picture"].value
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    # Re-running a partition replaces it: still one row.
    materialize([daily_activity], partition_key="2025-12-31", resources=resources(database))
    assert len(rows(database, "SELECT * FROM analytics.daily_activity")) == 1
    # The IO manager reads each partition back as a polars frame.
    defs = dg.Definitions(assets=[daily_activity, session_habits], resources=resources(database))
    for name in ("daily_activity", "session_habits"):
        frame = defs.load_asset_value(name, partition_key="2025-12-31")
        assert frame.height == 1, name


def test_daily_digest_known_answer(database):
    result = materialize([daily_digest], partition_key="2025-12-31", resources=resources(database))
    assert result.success
    (row,) = rows(database, "SELECT * FROM analytics.daily_digest")
    players = json.loads(row["top_players"])
    # "Last" starts at the day's last instant: its whole 9-hour session counts for this day.
    assert [p["player"] for p in players] == ["Last", "Petr", "Ivan"]
    assert [p["hours"] for p in players] == pytest.approx([9.0, 3.0, 2.5])
    worlds = json.loads(row["top_worlds"])
    assert [w["name"] for w in worlds] == ["Drift"]  # Tiny too small, best.ru unsafe
    assert worlds[0]["score"] == pytest.approx(6.0) and worlds[0]["hot"] is False
    assert row["peak_online"] == 7 and row["delivery_status"] == "disabled"
    md = row["markdown"]
    assert md.startswith("# Итоги дня: 31 декабря 2025")
    assert "**Пик онлайна:** 7 игроков (08:00)" in md
    assert "1. **Last** — 9 часов (1 сессия)" in md
    assert "2. **Petr** — 3 часа (1 сессия)" in md
    assert "3. **Ivan** — 2 часа 30 минут (2 сессии)" in md
    assert "KrystallBot" not in md and "spam" not in md
    stored = dg.Definitions(assets=[daily_digest], resources=resources(database))
    assert stored.load_asset_value("daily_digest", partition_key="2025-12-31")["markdown"][0] == md
    meta = result.asset_materializations_for_node("daily_digest")[0].metadata
    assert meta["digest"].value == md
    assert "data:image/png;base64," in meta["picture"].value


def test_period_edges_week_month_year(database):
    res = resources(database, language="en")
    for asset, key in (
        (weekly_digest, "2025-12-29"),
        (monthly_digest, "2025-12-01"),
        (yearly_digest, "2025"),
    ):
        assert materialize([asset], partition_key=key, resources=res).success
    week = rows(database, "SELECT * FROM analytics.weekly_digest")[0]
    month = rows(database, "SELECT * FROM analytics.monthly_digest")[0]
    year = rows(database, "SELECT * FROM analytics.yearly_digest")[0]
    # "Last" starts at the last instant of 2025 and counts; "First2026" starts at the first of
    # 2026 and does not. The week (29 Dec – 4 Jan) holds both.
    for digest in (month, year):
        names = [p["player"] for p in json.loads(digest["top_players"])]
        assert names == ["Last", "Petr", "Ivan"]
        assert digest["peak_online"] == 7
    week_names = [p["player"] for p in json.loads(week["top_players"])]
    assert week_names == ["First2026", "Last", "Petr"]
    assert week["peak_online"] == 40
    assert year["markdown"].startswith("# Yearly digest: 2025")
    assert week["period_end"] == date(2026, 1, 5)
    assert month["period_start"] == date(2025, 12, 1) and year["period_end"] == date(2026, 1, 1)


def test_digest_on_empty_warehouse(tmp_path):
    path = str(tmp_path / "empty.duckdb")
    assert materialize(
        [daily_digest], partition_key="2025-12-31", resources=resources(path)
    ).success
    (row,) = rows(path, "SELECT * FROM analytics.daily_digest")
    assert row["peak_online"] is None and json.loads(row["top_players"]) == []
    assert "Никто не играл." in row["markdown"]
    assert materialize(
        [daily_activity], partition_key="2025-12-31", resources=resources(path)
    ).success


def _just_after_the_day():
    return datetime(2025, 12, 31, 21, 20, tzinfo=UTC)


def test_telegram_delivery_retry_and_once(database):
    with fake_bot_api(TOKEN, [500]) as api, use_clock(_just_after_the_day):
        telegram = TelegramResource(
            bot_token=TOKEN, channel_id="@tai", api_base_url=api.base_url, backoff_seconds=0.01
        )
        result = materialize(
            [daily_digest], partition_key="2025-12-31", resources=resources(database, telegram)
        )
        assert result.success
        (row,) = rows(database, "SELECT * FROM analytics.daily_digest")
        assert row["delivery_status"] == "sent" and row["delivery_attempts"] == 2
        assert "<b>Petr</b>" in api.requests[-1]["body"]["text"]
        # A re-run of the same partition does not post again.
        materialize(
            [daily_digest], partition_key="2025-12-31", resources=resources(database, telegram)
        )
        assert len(api.requests) == 2
        assert rows(database, "SELECT delivery_status FROM analytics.daily_digest")[0] == {
            "delivery_status": "sent"
        }


def test_telegram_failure_keeps_digest_and_secret(database):
    with fake_bot_api(TOKEN, [503] * 10) as api, use_clock(_just_after_the_day):
        telegram = TelegramResource(
            bot_token=TOKEN,
            channel_id="@tai",
            api_base_url=api.base_url,
            backoff_seconds=0.01,
            attempts=3,
        )
        result = materialize(
            [daily_digest], partition_key="2025-12-31", resources=resources(database, telegram)
        )
    assert result.success  # a failed post never fails (or loses) the digest
    (row,) = rows(database, "SELECT * FROM analytics.daily_digest")
    assert row["delivery_status"] == "failed" and row["delivery_attempts"] == 3
    assert "503" in row["delivery_error"] and "Petr" in row["markdown"]
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    everything = " ".join(str(event) for event in result.all_events)
    assert TOKEN not in everything
    assert TOKEN not in json.dumps(row, default=str)


def test_backfill_of_an_old_period_is_not_posted(database):
    with fake_bot_api(TOKEN) as api:
        telegram = TelegramResource(bot_token=TOKEN, channel_id="@tai", api_base_url=api.base_url)
        materialize(
            [daily_digest], partition_key="2025-12-31", resources=resources(database, telegram)
        )
    assert api.requests == []
    assert (
        rows(database, "SELECT delivery_status FROM analytics.daily_digest")[0]["delivery_status"]
        == "skipped"
    )


def test_player_retention_from_latest_snapshot(tmp_path):
    path = str(tmp_path / "r.duckdb")
    with connection.connect(path) as conn:
        old_week, new_week = date(2025, 5, 19), date(2025, 5, 26)
        snap_old, snap_new = datetime(2025, 5, 26, 0, 5), datetime(2025, 6, 2, 0, 5)
        people = [
            (1, datetime(2025, 1, 10), datetime(2025, 1, 10, 12)),
            (2, datetime(2025, 1, 20), datetime(2025, 3, 1)),
            (3, datetime(2017, 6, 1), datetime(2025, 1, 1)),  # before 2018: left out
            (4, datetime(2024, 3, 1), datetime(2025, 3, 1)),
        ]
        conn.executemany(
            "INSERT INTO core.players_snapshot (snapshot_week, snapshot_time, id, login, regdate, "
            "lastlogin) VALUES (?, ?, ?, ?, ?, ?)",
            [(new_week, snap_new, i, f"p{i}", r, last) for i, r, last in people]
            + [(old_week, snap_old, 99, "gone", datetime(2025, 1, 5), datetime(2025, 1, 5))],
        )
    result = materialize([player_retention], resources=resources(path, retention_days=[1, 30]))
    assert result.success
    out = rows(path, "SELECT * FROM analytics.player_retention ORDER BY ALL")
    jan = [r for r in out if r["cohort_kind"] == "month" and r["cohort_start"] == date(2025, 1, 1)]
    assert [(r["days"], r["cohort_size"], r["retained"]) for r in jan] == [(1, 2, 1), (30, 2, 1)]
    years = {
        (r["cohort_start"].year, r["days"]): r["share"] for r in out if r["cohort_kind"] == "year"
    }
    assert years == {(2024, 1): 1.0, (2024, 30): 1.0, (2025, 1): 0.5, (2025, 30): 0.5}
    assert all(r["snapshot_time"] == datetime(2025, 6, 2, 0, 5) for r in out)
    assert result.get_asset_check_evaluations()[0].passed
    meta = result.asset_materializations_for_node("player_retention")[0].metadata
    assert "data:image/png;base64," in meta["picture"].value


def test_retention_sensor_requests_one_run_per_new_snapshot():
    def tick(instance, cursor):
        context = dg.build_sensor_context(instance=instance, cursor=cursor)
        result = player_retention_sensor.evaluate_tick(context)
        return [r.run_key for r in result.run_requests or []], result.cursor

    with dg.instance_for_test() as instance:
        requested, cursor = tick(instance, None)
        assert requested == []  # no snapshot yet
        instance.report_runless_asset_event(dg.AssetMaterialization("players_snapshot"))
        requested, cursor = tick(instance, cursor)
        assert len(requested) == 1 and requested[0].startswith("players_snapshot:")
        assert tick(instance, cursor)[0] == []  # the same snapshot: no second run
        instance.report_runless_asset_event(dg.AssetMaterialization("players_snapshot"))
        assert len(tick(instance, cursor)[0]) == 1
