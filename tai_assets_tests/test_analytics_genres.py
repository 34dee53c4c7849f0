"""World genres: the rules file, tagging known names, rule-file errors, and the world_tags and
genre_popularity assets on a real DuckDB file with hand-made rows whose answers are known."""

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from tai_assets.analytics.digest import compute_digest
from tai_assets.analytics.genres import RULES_PATH, RulesError, load_rules, normalise
from tai_assets.analytics.periods import Period
from tai_assets.analytics.popularity import world_hours
from tai_assets.analytics.render import render_markdown
from tai_assets.core.derive import refresh_world_session_stats
from tai_assets.defs.analytics.genres import (
    GENRE_ASSETS,
    RULES,
    _popularity_check,
    _world_tags_check,
)
from tai_assets.warehouse import connection
from tai_assets_tests.support.warehouse import warehouse_resources

VOCABULARY = [
    "rp",
    "default",
    "by_invite",
    "open",
    "in_dev",
    "dm",
    "tdm",
    "duel",
    "ctf",
    "nsfw",
    "zombie",
    "copchase",
    "race",
    "derby",
    "minigames",
    "stunt",
    "spleef",
    "clicker",
    "warsim",
    "tanks",
    "ww2",
    "svo",
    "middle_east",
    "cops_robbers",
    "cops_vs_crime",
    "larp",
    "chicago",
    "ghetto",
    "city_rp",
    "new_jersey",
    "gangwars",
    "sa_like",
    "kartel",
    "county_rp",
    "prison",
    "post_apo",
    "fnaf",
    "russia",
    "air",
    "murder_mystery",
    "college_rp",
    "camp_rp",
    "farm",
    "horror",
    "thematic_rp",
    "rpg",
    "movie",
    "anarchy",
    "party",
    "personal_world",
]


def test_the_rules_cover_the_original_vocabulary():
    assert sorted(VOCABULARY) == RULES.vocabulary


@pytest.mark.parametrize(
    ("name", "tags"),
    [
        ("{FF0000}Зомби Апокалипсис", ["post_apo", "zombie"]),
        ("LSRP | набор [5/20]", ["open"]),
        ("Мир #12", ["default"]),
        ("World 7", ["default"]),
        ("DМ арена", ["dm"]),  # Cyrillic М
        ("Chicago City RP", ["chicago", "city_rp", "rp"]),  # city_rp implies rp
        ("Zombe survival", ["zombie"]),
        ("Ролевая игра: County", ["county_rp", "rp"]),
        ("nonRP freeroam", []),  # negated
        ("TDM 5x5", ["dm", "tdm"]),
        ("Five Nights at Freddy's", ["fnaf", "horror"]),
        ("Vasya's world", ["personal_world"]),
        ("Гонки на выживание", ["race"]),
        ("Capture The Flag!!!", ["ctf"]),
        ("просто мир", []),
    ],
)
def test_known_names_get_known_tags(name, tags):
    assert list(RULES.tag(name)) == tags


def test_each_tag_says_what_matched():
    evidence = RULES.tag("{00FF00}Chicago City RP")
    assert evidence["chicago"] == ["token: chicago"]
    assert evidence["city_rp"] == ["phrase: city rp"]
    assert evidence["rp"] == ["token: rp", "implied by: city_rp"]
    assert RULES.tag("Zomby land")["zombie"] == ["prefix: zomb (zomby)"]
    assert RULES.tag("Копчейзз")["copchase"] == ["fuzzy: копчейз ~ копчейзз (93)"]


def test_normalise_folds_case_colours_punctuation_and_look_alikes():
    assert normalise("{FF00AA}ДМ-АРЕНА!!  [RP]") == normalise("дm арeнa rp")
    assert normalise("Мир_#12") == "mиp 12"


def write_rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tags.rp]\ntokens = [rp]\n", "line 2"),
        ("[tags.rp]\ntokens = ['rp']\n\n[tags.dm]\nwords = ['dm']\n", ":4: tags.dm has unknown"),
        ("[tags.dm]\nregex = ['([']\n", ":1: tags.dm.regex"),
        ("[tags.dm]\ntokens = ['dm']\nimplies = ['war']\n", "implies unknown tag 'war'"),
        (
            "[tags.a]\ntokens = ['a']\nimplies = ['b']\n"
            "[tags.b]\ntokens = ['b']\nimplies = ['a']\n",
            "cycle: a → b → a",
        ),
        ("[tags.dm]\ntokens = ['death match']\n", "not single words"),
        ("[tags.dm]\nunless = ['x']\n", "nothing that could match"),
    ],
)
def test_a_rules_file_that_cannot_be_used_is_an_error_naming_the_line(tmp_path, text, message):
    with pytest.raises(RulesError, match=message.replace("(", r"\(").replace("[", r"\[")) as error:
        load_rules(write_rules(tmp_path, text))
    assert str(tmp_path / "rules.toml") in str(error.value)


def test_the_code_version_is_the_rules_files_hash(tmp_path):
    (world_tags, _) = GENRE_ASSETS
    assert world_tags.code_versions_by_key[dg.AssetKey("world_tags")] == RULES.version
    changed = write_rules(tmp_path, RULES_PATH.read_text(encoding="utf-8") + "\n# edited\n")
    assert load_rules(changed).version != RULES.version


T = datetime(2025, 6, 2, 9, 0)  # 12:00 in Moscow, Monday 2 June 2025


def h(hours: float) -> datetime:
    return T + timedelta(hours=hours)


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    with connection.connect(path) as conn:
        conn.executemany(
            "INSERT INTO core.world_sessions VALUES (?, ?, ?)",
            [
                ("Зомби Апокалипсис", h(0), h(2)),
                ("просто мир", h(1), h(2)),
                ("Chicago City RP", h(-30), h(-29)),  # the day before: not in the partition
                ("Closed DM", h(0), h(1)),
            ],
        )
        conn.executemany(
            "INSERT INTO core.worlds_online VALUES (?, ?, ?, ?, ?)",
            [
                ("Зомби Апокалипсис", 2, False, False, h(0)),
                ("Зомби Апокалипсис", 4, False, False, h(1)),
                ("просто мир", 1, False, False, h(1)),
                ("Chicago City RP", 3, False, False, h(-30)),
                # Its last count lasts only while it is open (until h(1)), not all day.
                ("Closed DM", 5, False, False, h(0)),
            ],
        )
        refresh_world_session_stats(conn, None)  # as the ingest does
    return path


def test_world_hours_count_only_open_time_and_carry_a_count_across_a_closure(tmp_path):
    """A world that closes and reopens without a new count keeps its count, even one set days
    before; a session of length zero is started but holds no time; back-to-back sessions hold
    every instant."""
    with connection.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.executemany(
            "INSERT INTO core.world_sessions VALUES (?, ?, ?)",
            [
                ("Gap", h(0), h(1)),
                ("Gap", h(2), h(2)),
                ("Gap", h(3), h(4)),
                ("Seam", h(0), h(1)),
                ("Seam", h(1), h(2)),
                ("Stale", h(-71), h(-70)),
                ("Stale", h(0), h(2)),
            ],
        )
        conn.executemany(
            "INSERT INTO core.worlds_online VALUES (?, ?, False, False, ?)",
            [
                ("Gap", 2, h(-0.5)),
                ("Gap", 3, h(0.5)),
                ("Seam", 4, h(0)),
                ("Stale", 6, h(-72)),
                ("Stale", 1, h(1)),
            ],
        )
        refresh_world_session_stats(conn, None)  # as the ingest does

        def hours(start, end):
            rows = world_hours(conn, start, end).rows()
            return {name: (started, pytest.approx(hours)) for name, started, hours in rows}

        # Gap: 2 players from h0 to h0.5, 3 to h1, closed until h3, 3 again to h4. Stale: the
        # 6 counted three days before until h1, then 1.
        expected = {"Gap": (3, 5.5), "Seam": (2, 8.0), "Stale": (1, 7.0)}
        assert hours(h(0), h(5)) == expected
        # Clipped to [h0.75, h3.5): Gap 3 × 0.25 + 3 × 0.5 (its sessions at h2 and h3 start in
        # it); Seam 4 × 1.25; Stale 6 × 0.25 + 1 × 1.
        expected = {"Gap": (2, 2.25), "Seam": (1, 5.0), "Stale": (0, 2.5)}
        assert hours(h(0.75), h(3.5)) == expected


def test_world_tags_and_genre_popularity_on_known_rows(database):
    instance = dg.DagsterInstance.ephemeral()
    tags = dg.materialize(
        GENRE_ASSETS[:1], resources=warehouse_resources(database), instance=instance
    )
    assert tags.success
    (check,) = tags.get_asset_check_evaluations()
    assert check.passed and check.metadata["untagged"].value == 1
    with connection.connect(database, read_only=True) as conn:
        rows = conn.execute("SELECT name, tags, evidence FROM analytics.world_tags").fetchall()
    by_name = {name: (found, json.loads(evidence)) for name, found, evidence in rows}
    assert by_name["Chicago City RP"][0] == ["chicago", "city_rp", "rp"]
    assert by_name["просто мир"] == ([], {})
    (materialization,) = tags.asset_materializations_for_node("world_tags")
    assert materialization.metadata["untagged_share_of_names"].value == pytest.approx(1 / 4)
    assert "просто мир" in materialization.metadata["untagged_most_played"].value

    day = dg.materialize(
        GENRE_ASSETS[1:],
        partition_key="2025-06-02",
        resources=warehouse_resources(database),
        instance=instance,
    )
    assert day.success
    (check,) = day.get_asset_check_evaluations()
    assert check.passed
    with connection.connect(database, read_only=True) as conn:
        rows = conn.execute(
            "SELECT tag, worlds, world_sessions, player_hours, share_of_hours "
            "FROM analytics.genre_popularity ORDER BY tag"
        ).fetchall()
    # Zombie world: 2 players for 1 h, then 4 for 1 h = 6; post_apo too. "просто мир": 1 h.
    # Closed DM: 5 players for the hour it was open = 5. Total 12 player-hours.
    assert rows == [
        ("(untagged)", 1, 1, 1.0, pytest.approx(1 / 12)),
        ("dm", 1, 1, 5.0, pytest.approx(5 / 12)),
        ("post_apo", 1, 1, 6.0, pytest.approx(6 / 12)),
        ("zombie", 1, 1, 6.0, pytest.approx(6 / 12)),
    ]


def test_the_genre_checks_fail_on_bad_figures():
    frame = pl.DataFrame(
        {"name": ["a"], "tags": [["zombie", "not_a_tag"]]},
        schema={"name": pl.String, "tags": pl.List(pl.String)},
    )
    verdict = _world_tags_check(frame, ["a", "b"])
    assert not verdict.passed
    assert "1 names without a row" in verdict.metadata["problems"].value
    assert "not_a_tag" in verdict.metadata["problems"].value
    hours = pl.DataFrame({"name": ["a"], "sessions_started": [1], "player_hours": [2.0]})
    popularity = pl.DataFrame(
        {
            "tag": ["zombie"],
            "worlds": [1],
            "world_sessions": [1],
            "player_hours": [3.0],
            "share_of_hours": [1.5],
        }
    )
    tags = pl.DataFrame({"name": ["a"], "tags": [["zombie"]]})
    verdict = _popularity_check(popularity, hours, tags)
    assert not verdict.passed
    assert "share outside" in verdict.metadata["problems"].value


def test_digests_name_the_top_genres_once_worlds_are_tagged(database):
    period = Period("day", date(2025, 6, 2), "Europe/Moscow")
    with connection.connect(database) as conn:
        assert compute_digest(conn, period).content.top_genres == []  # not tagged yet
    assert dg.materialize(GENRE_ASSETS[:1], resources=warehouse_resources(database)).success
    with connection.connect(database) as conn:
        content = compute_digest(conn, period).content
    assert [(g.tag, g.player_hours) for g in content.top_genres] == [
        ("post_apo", 6.0),
        ("zombie", 6.0),
        ("dm", 5.0),
    ]
    assert (
        "**Top genres:** post\\_apo (6 hours), zombie (6 hours), dm (5 hours)"
        in render_markdown(content, "en")
    )
