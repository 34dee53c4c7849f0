-- Core layer: facts derived from the raw polls. All timestamps are UTC.

-- A row each time the online count changes, and each time the server goes down or comes back.
CREATE TABLE IF NOT EXISTS core.server_online (
    changed_at   TIMESTAMP NOT NULL PRIMARY KEY,
    status       VARCHAR   NOT NULL CHECK (status IN ('up', 'down')),
    online       INTEGER,             -- NULL while down
    max_players  INTEGER
);

-- A session runs from the first poll that lists the player to the last one; listings closer
-- than the session gap belong to the same session.
CREATE TABLE IF NOT EXISTS core.player_sessions (
    player         VARCHAR   NOT NULL,
    session_start  TIMESTAMP NOT NULL,
    session_end    TIMESTAMP NOT NULL,
    PRIMARY KEY (player, session_start),
    CHECK (session_end >= session_start)
);

CREATE TABLE IF NOT EXISTS core.world_sessions (
    name           VARCHAR   NOT NULL,
    session_start  TIMESTAMP NOT NULL,
    session_end    TIMESTAMP NOT NULL,
    PRIMARY KEY (name, session_start),
    CHECK (session_end >= session_start)
);

-- Each world session's points, peak, popularity score and player-hours
-- (sql/transforms/world_session_stats.sql), written with core.world_sessions and
-- core.worlds_online in the same transaction: a digest reads a year's sessions instead of
-- sorting the year's million points.
CREATE TABLE IF NOT EXISTS core.world_session_stats (
    name           VARCHAR   NOT NULL,
    session_start  TIMESTAMP NOT NULL,
    session_end    TIMESTAMP NOT NULL,
    points         INTEGER   NOT NULL,
    peak_players   INTEGER   NOT NULL,
    score          DOUBLE    NOT NULL,
    player_hours   DOUBLE    NOT NULL,
    PRIMARY KEY (name, session_start)
);

-- A row per world each time its (players, static, ssmp) changes.
CREATE TABLE IF NOT EXISTS core.worlds_online (
    name      VARCHAR   NOT NULL,
    players   INTEGER   NOT NULL,
    static    BOOLEAN,
    ssmp      BOOLEAN,
    saved_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (name, saved_at)
);
