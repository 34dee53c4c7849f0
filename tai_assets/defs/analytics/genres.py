"""World genres: `world_tags` (every world name → its tags, from the rules file) and
`genre_popularity` (per local day and tag: worlds, world sessions, player-hours).

The rules are `tai_assets/analytics/world_tags.toml`; `world_tags`'s code version is the file's
hash, so a rule change shows `world_tags` as changed in the UI and `genre_popularity` as stale
until re-materialized (a backfill re-tags history).
"""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from tai_assets.analytics.genres import UNTAGGED, load_rules, tag_frame
from tai_assets.analytics.genres import genre_popularity as compute_genre_popularity
from tai_assets.analytics.plots import bars_png
from tai_assets.analytics.popularity import world_hours
from tai_assets.common.markdown import frame_to_markdown, png_image
from tai_assets.common.sql_files import read_sql
from tai_assets.defs.analytics.assets import GROUP, OWNERS, table_metadata
from tai_assets.defs.analytics.checks import problems_verdict
from tai_assets.defs.analytics.partitions import DAILY, now_naive, period_of
from tai_assets.defs.resources import WarehouseResource

RULES = load_rules()

WORLD_TAGS_CHECK = dg.AssetCheckSpec(
    "every_name_tagged_or_untagged",
    asset="world_tags",
    description="Every world name of the core tables has a row; every tag is in the rules' "
    "vocabulary; the tagged and untagged names add up to all names.",
)
GENRE_POPULARITY_CHECK = dg.AssetCheckSpec(
    "shares_within_0_1",
    asset="genre_popularity",
    description="Every share of player-hours within [0, 1]; no tag has more hours than all "
    "worlds together; the untagged hours plus the tagged worlds' hours are all hours.",
)


def _world_tags_check(frame: pl.DataFrame, names: list[str]) -> dg.AssetCheckResult:
    unknown = sorted(set(frame["tags"].explode().drop_nulls()) - set(RULES.vocabulary))
    tagged = frame.filter(pl.col("tags").list.len() > 0).height
    untagged = frame.height - tagged
    missing = sorted(set(names) - set(frame["name"]))
    problems = [f"{len(missing)} names without a row"] if missing else []
    problems += [f"tags outside the vocabulary: {unknown}"] if unknown else []
    if tagged + untagged != len(names):
        problems.append(f"{tagged} tagged + {untagged} untagged ≠ {len(names)} names")
    return problems_verdict(WORLD_TAGS_CHECK.name, problems, tagged=tagged, untagged=untagged)


@dg.asset(
    deps=["world_sessions", "worlds_online"],
    metadata=table_metadata("replace"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    code_version=RULES.version,
    check_specs=[WORLD_TAGS_CHECK],
)
def world_tags(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Every distinct clean world name with its genre tags and, per tag, what matched (rules in
    `tai_assets/analytics/world_tags.toml`); the untagged names, most played first, show what
    the rules still miss."""
    with warehouse.connect() as conn:
        names = [name for (name,) in conn.execute(read_sql("analytics/world_names.sql")).fetchall()]
        played = conn.sql(
            "SELECT name, count(*) AS sessions FROM core.world_sessions GROUP BY name"
        ).pl()
    frame = tag_frame(names, RULES).with_columns(
        rules_version=pl.lit(RULES.version), tagged_at=pl.lit(now_naive())
    )
    counts = (
        frame.select(pl.col("tags").explode().alias("tag"))
        .drop_nulls()
        .group_by("tag")
        .len()
        .sort(["len", "tag"], descending=[True, False])
        .rename({"len": "names"})
    )
    untagged = (
        frame.filter(pl.col("tags").list.len() == 0)
        .join(played, on="name", how="left")
        .with_columns(pl.col("sessions").fill_null(0))
        .sort(["sessions", "name"], descending=[True, False])
    )
    with_sessions = played.join(frame.select("name", "tags"), on="name", how="left")
    sessions_untagged = with_sessions.filter(pl.col("tags").list.len().fill_null(0) == 0)
    total_sessions = int(played["sessions"].sum() or 0)
    share = untagged.height / frame.height if frame.height else None
    session_share = (
        int(sessions_untagged["sessions"].sum() or 0) / total_sessions if total_sessions else None
    )
    context.log.info(f"{frame.height} world names, {untagged.height} untagged")
    yield dg.Output(
        frame,
        metadata={
            "names": frame.height,
            "untagged_names": untagged.height,
            "untagged_share_of_names": dg.MetadataValue.float(share)
            if share is not None
            else dg.MetadataValue.null(),
            "untagged_share_of_world_sessions": dg.MetadataValue.float(session_share)
            if session_share is not None
            else dg.MetadataValue.null(),
            "rules_version": RULES.version,
            "picture": dg.MetadataValue.md(
                png_image(
                    bars_png(counts.head(25), "tag", "names", "world names per tag"),
                    "world names per tag",
                )
            ),
            "tags": dg.MetadataValue.md(frame_to_markdown(counts, limit=60)),
            "untagged_most_played": dg.MetadataValue.md(
                frame_to_markdown(untagged.select("name", "sessions"), limit=20)
            ),
            "preview": dg.MetadataValue.md(
                frame_to_markdown(frame.select("name", "tags", "evidence"), limit=8)
            ),
        },
    )
    yield _world_tags_check(frame, names)


def _popularity_check(
    popularity: pl.DataFrame, world_hours: pl.DataFrame, tags: pl.DataFrame
) -> dg.AssetCheckResult:
    total = float(world_hours["player_hours"].sum() or 0.0)
    shares = popularity["share_of_hours"].drop_nulls()
    problems = []
    if shares.len() and not shares.is_between(0.0, 1.0 + 1e-9).all():
        problems.append("a share outside [0, 1]")
    if popularity.height and float(popularity["player_hours"].max()) > total + 1e-6:
        problems.append("a tag with more hours than all worlds")
    tagged_names = tags.filter(pl.col("tags").list.len() > 0).select("name")
    tagged_hours = float(world_hours.join(tagged_names, on="name")["player_hours"].sum() or 0.0)
    untagged = popularity.filter(pl.col("tag") == UNTAGGED)["player_hours"]
    untagged_hours = float(untagged.sum()) if untagged.len() else 0.0
    if abs(tagged_hours + untagged_hours - total) > 1e-6 * max(1.0, total):
        problems.append(f"tagged {tagged_hours:.3f} + untagged {untagged_hours:.3f} ≠ {total:.3f}")
    return problems_verdict(GENRE_POPULARITY_CHECK.name, problems, player_hours=total)


@dg.asset(
    partitions_def=DAILY,
    deps=["world_tags", "world_sessions", "worlds_online"],
    metadata=table_metadata("replace_partition", "day"),
    kinds={"duckdb", "polars", "matplotlib"},
    group_name=GROUP,
    owners=OWNERS,
    check_specs=[GENRE_POPULARITY_CHECK],
)
def genre_popularity(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Per local day and genre tag (and `(untagged)`): worlds with a session that day, world
    sessions started, and player-hours in those worlds (from the worlds' counts, only while a
    world is open), with each tag's share of all player-hours."""
    day = period_of(context, "day")
    with warehouse.connect() as conn:
        hours = world_hours(conn, day.start_utc, day.end_utc)
        tags = conn.sql("SELECT name, tags FROM analytics.world_tags").pl()
    popularity = compute_genre_popularity(hours, tags)
    frame = popularity.with_columns(day=pl.lit(day.start), computed_at=pl.lit(now_naive()))
    top = popularity.filter(pl.col("tag") != UNTAGGED).head(15)
    yield dg.Output(
        frame,
        metadata={
            "tags": popularity.height,
            "player_hours": float(hours["player_hours"].sum() or 0.0),
            "picture": dg.MetadataValue.md(
                png_image(
                    bars_png(top, "tag", "player_hours", f"player-hours by genre, {day.start}"),
                    f"player-hours by genre on {day.start}",
                )
            ),
            "top_genres": dg.MetadataValue.md(
                frame_to_markdown(popularity.with_columns(pl.selectors.float().round(3)), limit=15)
            ),
        },
    )
    yield _popularity_check(popularity, hours, tags)


GENRE_ASSETS = [world_tags, genre_popularity]
