-- Analytics layer: reports computed from the core tables. Periods are local calendar periods in
-- TAI_REPORT_TIMEZONE (default Europe/Moscow; weeks Monday–Sunday): a DATE column holds the
-- local first day of the period and doubles as the partition column. Instants stay UTC.

-- One row per local day (asset daily_activity, daily partitions).
CREATE TABLE IF NOT EXISTS analytics.daily_activity (
    day                     DATE      NOT NULL PRIMARY KEY,
    active_players          INTEGER   NOT NULL,  -- players with a session overlapping the day
    new_players             INTEGER   NOT NULL,  -- first session ever started this day
    sessions                INTEGER   NOT NULL,  -- sessions that started this day
    total_play_hours        DOUBLE    NOT NULL,  -- play time inside the day (midnight splits)
    median_player_hours     DOUBLE,              -- median over active players
    median_session_minutes  DOUBLE,              -- median length of the sessions started
    peak_online             INTEGER,             -- NULL: no up-time with a known count
    peak_online_at          TIMESTAMP,           -- UTC; first instant the peak was reached
    polls                   INTEGER   NOT NULL,
    polls_answered          INTEGER   NOT NULL,  -- status ok or count_only
    availability            DOUBLE,              -- polls_answered / polls; NULL: no polls
    worlds_opened           INTEGER   NOT NULL,  -- world sessions started this day
    distinct_worlds         INTEGER   NOT NULL,
    computed_at             TIMESTAMP NOT NULL
);

-- Digests: one row per period (assets daily_digest, weekly_digest, monthly_digest,
-- yearly_digest). delivery_* say what happened to the optional Telegram post.
CREATE TABLE IF NOT EXISTS analytics.daily_digest (
    period_start       DATE      NOT NULL PRIMARY KEY,
    period_end         DATE      NOT NULL,   -- first local day after the period
    language           VARCHAR   NOT NULL,
    markdown           VARCHAR   NOT NULL,
    peak_online        INTEGER,
    peak_online_at     TIMESTAMP,
    active_players     INTEGER   NOT NULL,   -- players with a session starting in the period
    sessions           INTEGER   NOT NULL,
    top_players        JSON      NOT NULL,   -- [{player, hours, sessions}]
    top_worlds         JSON      NOT NULL,   -- [{name, score, peak_players, length_hours, hot}]
    delivery_status    VARCHAR   NOT NULL,   -- sent | failed | disabled | skipped
    delivery_attempts  INTEGER   NOT NULL,
    delivery_error     VARCHAR,
    computed_at        TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS analytics.weekly_digest (
    period_start       DATE      NOT NULL PRIMARY KEY,
    period_end         DATE      NOT NULL,
    language           VARCHAR   NOT NULL,
    markdown           VARCHAR   NOT NULL,
    peak_online        INTEGER,
    peak_online_at     TIMESTAMP,
    active_players     INTEGER   NOT NULL,
    sessions           INTEGER   NOT NULL,
    top_players        JSON      NOT NULL,
    top_worlds         JSON      NOT NULL,
    delivery_status    VARCHAR   NOT NULL,
    delivery_attempts  INTEGER   NOT NULL,
    delivery_error     VARCHAR,
    computed_at        TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS analytics.monthly_digest (
    period_start       DATE      NOT NULL PRIMARY KEY,
    period_end         DATE      NOT NULL,
    language           VARCHAR   NOT NULL,
    markdown           VARCHAR   NOT NULL,
    peak_online        INTEGER,
    peak_online_at     TIMESTAMP,
    active_players     INTEGER   NOT NULL,
    sessions           INTEGER   NOT NULL,
    top_players        JSON      NOT NULL,
    top_worlds         JSON      NOT NULL,
    delivery_status    VARCHAR   NOT NULL,
    delivery_attempts  INTEGER   NOT NULL,
    delivery_error     VARCHAR,
    computed_at        TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS analytics.yearly_digest (
    period_start       DATE      NOT NULL PRIMARY KEY,
    period_end         DATE      NOT NULL,
    language           VARCHAR   NOT NULL,
    markdown           VARCHAR   NOT NULL,
    peak_online        INTEGER,
    peak_online_at     TIMESTAMP,
    active_players     INTEGER   NOT NULL,
    sessions           INTEGER   NOT NULL,
    top_players        JSON      NOT NULL,
    top_worlds         JSON      NOT NULL,
    delivery_status    VARCHAR   NOT NULL,
    delivery_attempts  INTEGER   NOT NULL,
    delivery_error     VARCHAR,
    computed_at        TIMESTAMP NOT NULL
);

-- Rolling retention from the latest players snapshot (asset player_retention, replaced whole).
CREATE TABLE IF NOT EXISTS analytics.player_retention (
    cohort_kind    VARCHAR   NOT NULL CHECK (cohort_kind IN ('month', 'year')),
    cohort_start   DATE      NOT NULL,  -- local first day of the registration month / year
    days           INTEGER   NOT NULL,  -- N: retained when lastlogin − regdate ≥ N days
    cohort_size    INTEGER   NOT NULL,
    retained       INTEGER   NOT NULL,
    share          DOUBLE    NOT NULL,
    mature         BOOLEAN   NOT NULL,  -- every member registered ≥ N days before the snapshot
    snapshot_time  TIMESTAMP NOT NULL,
    PRIMARY KEY (cohort_kind, cohort_start, days)
);

-- How people split their play over a local day (asset session_habits, daily partitions).
CREATE TABLE IF NOT EXISTS analytics.session_habits (
    day                         DATE      NOT NULL PRIMARY KEY,
    players                     INTEGER   NOT NULL,  -- players with a session starting that day
    sessions                    INTEGER   NOT NULL,
    mean_sessions_per_player    DOUBLE,
    median_sessions_per_player  DOUBLE,
    max_sessions_per_player     INTEGER   NOT NULL,
    players_with_several        INTEGER   NOT NULL,
    gaps                        INTEGER   NOT NULL,  -- same-day pauses between a player's sessions
    median_gap_minutes          DOUBLE,
    mean_gap_minutes            DOUBLE,
    p90_gap_minutes             DOUBLE,
    computed_at                 TIMESTAMP NOT NULL
);

-- Every distinct clean world name with its genre tags (asset world_tags, replaced whole when
-- the names or the rules in tai_assets/analytics/world_tags.toml change).
CREATE TABLE IF NOT EXISTS analytics.world_tags (
    name          VARCHAR   NOT NULL PRIMARY KEY,
    tags          VARCHAR[] NOT NULL,  -- empty: untagged
    evidence      JSON      NOT NULL,  -- {tag: ["token: rp", "implied by: city_rp", …]}
    rules_version VARCHAR   NOT NULL,  -- hash of the rules file that tagged it
    tagged_at     TIMESTAMP NOT NULL
);

-- Genre popularity per local day (asset genre_popularity, daily partitions): per tag, and
-- '(untagged)', the worlds open, world sessions started and player-hours spent in worlds.
CREATE TABLE IF NOT EXISTS analytics.genre_popularity (
    day             DATE      NOT NULL,
    tag             VARCHAR   NOT NULL,
    worlds          INTEGER   NOT NULL,  -- worlds of the tag with a session overlapping the day
    world_sessions  INTEGER   NOT NULL,  -- their sessions that started this day
    player_hours    DOUBLE    NOT NULL,  -- players × hours inside the day, from worlds_online
    share_of_hours  DOUBLE,              -- of all player-hours in worlds that day; NULL: none
    computed_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (day, tag)
);

-- When people play: the average online count per local weekday × hour (asset online_heatmap,
-- monthly partitions; asset online_heatmap_recent holds the last 28 days under month = the
-- first of those days). Averaged over the minutes the server was up with a known count.
CREATE TABLE IF NOT EXISTS analytics.online_heatmap (
    month        DATE    NOT NULL,  -- local first day of the month
    weekday      INTEGER NOT NULL,  -- ISO: 1 Monday … 7 Sunday
    hour         INTEGER NOT NULL,  -- local hour 0–23
    avg_online   DOUBLE,            -- NULL: never up with a known count at that hour
    minutes_up   INTEGER NOT NULL,
    PRIMARY KEY (month, weekday, hour)
);
CREATE TABLE IF NOT EXISTS analytics.online_heatmap_recent (
    month        DATE    NOT NULL,
    weekday      INTEGER NOT NULL,
    hour         INTEGER NOT NULL,
    avg_online   DOUBLE,
    minutes_up   INTEGER NOT NULL,
    PRIMARY KEY (month, weekday, hour)
);

-- One row per player ever seen (asset player_profiles, replaced daily).
CREATE TABLE IF NOT EXISTS analytics.player_profiles (
    player                  VARCHAR   NOT NULL PRIMARY KEY,
    first_seen              TIMESTAMP NOT NULL,  -- UTC
    last_seen               TIMESTAMP NOT NULL,
    sessions                INTEGER   NOT NULL,
    total_hours             DOUBLE    NOT NULL,
    hours_last_7_days       DOUBLE    NOT NULL,  -- before the profile was computed
    hours_last_30_days      DOUBLE    NOT NULL,
    median_session_minutes  DOUBLE    NOT NULL,
    usual_hour              INTEGER   NOT NULL,  -- local hour most of their sessions start
    account_id              BIGINT,              -- latest snapshot's account of that login
    regdate                 TIMESTAMP,
    computed_at             TIMESTAMP NOT NULL
);

-- An account seen under a new login between two snapshots (asset name_history, replaced).
CREATE TABLE IF NOT EXISTS analytics.name_history (
    account_id     BIGINT  NOT NULL,
    old_login      VARCHAR NOT NULL,
    new_login      VARCHAR NOT NULL,
    last_week_old  DATE    NOT NULL,  -- the last snapshot week under the old login
    first_week_new DATE    NOT NULL,  -- the first under the new one
    PRIMARY KEY (account_id, first_week_new)
);

-- The player base from the latest players snapshot (assets player_base, player_base_cohorts,
-- rp_names; replaced whole). Months are local (TAI_REPORT_TIMEZONE). An account is active in
-- a month when it registered by the month's end and its last activity (lastlogin, else
-- regdate) falls in that month or later; ages are in whole months since registration.
CREATE TABLE IF NOT EXISTS analytics.player_base (
    month              DATE    NOT NULL PRIMARY KEY,
    registrations      INTEGER NOT NULL,
    active_accounts    INTEGER NOT NULL,
    median_age_months  DOUBLE,
    mean_age_months    DOUBLE,
    snapshot_week      DATE    NOT NULL
);
CREATE TABLE IF NOT EXISTS analytics.player_base_cohorts (
    month            DATE    NOT NULL,
    cohort_year      INTEGER NOT NULL,  -- local year of registration
    active_accounts  INTEGER NOT NULL,
    PRIMARY KEY (month, cohort_year)
);
-- Role-play names (Firstname_Lastname) per local year of registration.
CREATE TABLE IF NOT EXISTS analytics.rp_names (
    registration_year  INTEGER NOT NULL PRIMARY KEY,
    accounts           INTEGER NOT NULL,
    rp_names           INTEGER NOT NULL,
    share              DOUBLE  NOT NULL
);

-- Churn per local week (asset player_churn, replaced daily): players regular in the 30 days
-- before the week starts (sessions on at least 4 distinct local days) who start no session in
-- the 30 days from the week's start. Only weeks whose 30 days have passed.
CREATE TABLE IF NOT EXISTS analytics.player_churn (
    week      DATE    NOT NULL PRIMARY KEY,  -- local Monday
    regulars  INTEGER NOT NULL,
    churned   INTEGER NOT NULL,
    share     DOUBLE                         -- churned / regulars; NULL: no regulars
);
