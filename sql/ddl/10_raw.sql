-- Raw layer: exactly what the collectors saw, one row per poll (failures included).
-- All timestamps are UTC.

CREATE TABLE IF NOT EXISTS raw.raw_server_polls (
    polled_at     TIMESTAMP NOT NULL PRIMARY KEY,
    status        VARCHAR   NOT NULL CHECK (status IN ('ok', 'count_only', 'unreachable')),
    online        INTEGER,            -- NULL when unreachable
    max_players   INTEGER,
    player_names  VARCHAR[],          -- NULL unless status = 'ok'
    hostname      VARCHAR,
    error         VARCHAR,            -- why a poll is count_only / unreachable
    latency_ms    DOUBLE
);

-- One row per (poll, world). A failed poll ('unreachable') or one that listed no world ('empty')
-- is one row with world_index 0 and no world fields; 'invalid' is a record that failed validation.
CREATE TABLE IF NOT EXISTS raw.raw_world_polls (
    polled_at    TIMESTAMP NOT NULL,
    world_index  INTEGER   NOT NULL,
    status       VARCHAR   NOT NULL CHECK (status IN ('ok', 'empty', 'unreachable', 'invalid')),
    raw_name     VARCHAR,             -- as the API sent it, colour codes included
    name         VARCHAR,             -- {RRGGBB} colour codes removed
    players      INTEGER,
    static       BOOLEAN,
    ssmp         BOOLEAN,
    extra        JSON,                -- fields the API sent that tai does not model
    error        VARCHAR,
    PRIMARY KEY (polled_at, world_index)
);
