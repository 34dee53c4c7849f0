-- Weekly snapshot of every registered player (asset players_snapshot, weekly partitions).
-- All timestamps are UTC. snapshot_week is the partition: the Monday (00:00 UTC) that starts
-- the partition's week; the crawl runs when that week has ended (see the asset description).

CREATE TABLE IF NOT EXISTS core.players_snapshot (
    snapshot_week    DATE      NOT NULL,  -- partition key: Monday starting the week (UTC)
    snapshot_time    TIMESTAMP NOT NULL,  -- when the crawl started
    id               BIGINT    NOT NULL,
    login            VARCHAR   NOT NULL,
    regdate          TIMESTAMP,           -- NULL: the API said "never" / nothing
    lastlogin        TIMESTAMP,
    moder            INTEGER,
    mute             BIGINT,
    verify           INTEGER,
    verify_text      VARCHAR,             -- the API's verifyText
    warn             STRUCT(admin VARCHAR, bantime TIMESTAMP, reason VARCHAR)[],
    playerid         INTEGER,             -- in-game id, only while the player was online
    bonuspoints      BIGINT,
    premium          BOOLEAN,
    premium_expdate  TIMESTAMP,
    chase_rating     DOUBLE,
    extra            JSON                 -- fields the API sent that tai does not model
);
-- One row per (snapshot_week, id) by construction (the crawl keeps one record per id; the
-- import keeps one per id) and checked by the `id_unique` check. No PRIMARY KEY: its index
-- would hold every account of every week in memory (a year of 1 M accounts is 52 M rows).

-- Records of a crawl that failed validation, with the reason; never silently dropped.
CREATE TABLE IF NOT EXISTS core.players_snapshot_quarantine (
    snapshot_week  DATE      NOT NULL,
    snapshot_time  TIMESTAMP NOT NULL,
    page           INTEGER   NOT NULL,    -- API page the record was read from
    position       INTEGER   NOT NULL,    -- index of the record in that page's data
    id             BIGINT,                -- the record's id when it could be read
    reason         VARCHAR   NOT NULL,
    record         JSON      NOT NULL,    -- the record exactly as received
    PRIMARY KEY (snapshot_week, page, position)
);
