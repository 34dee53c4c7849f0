-- Raw layer: exactly what the collectors saw, one row per poll (failures included).
-- All timestamps are UTC.

CREATE TABLE IF NOT EXISTS raw.raw_server_polls (
    polled_at     TIMESTAMP NOT NULL PRIMARY KEY,
    -- ok: count and names; count_only: names unknown (over 100 online, or no answer to 'c');
    -- malformed: the server answered 'i' but the answer did not parse (up, count unknown);
    -- unreachable: no answer at all.
    status        VARCHAR   NOT NULL
                  CHECK (status IN ('ok', 'count_only', 'malformed', 'unreachable')),
    online        INTEGER,            -- NULL when unreachable or malformed
    max_players   INTEGER,
    player_names  VARCHAR[],          -- NULL unless status = 'ok'
    hostname      VARCHAR,
    error         VARCHAR,            -- why a poll is count_only / malformed / unreachable
    latency_ms    DOUBLE
);
-- Names holding bytes that are not Windows-1251 (kept as \xNN escapes); NULL before 2026-12.
ALTER TABLE raw.raw_server_polls ADD COLUMN IF NOT EXISTS escaped_names INTEGER;

-- One row per (poll, world). A failed poll ('unreachable'; 'auth_failed' when the API refused
-- CHRONO_LOGIN/CHRONO_TOKEN; 'rate_limited' on 429) or one that listed no world ('empty') is one
-- row with world_index 0 and no world fields; 'invalid' is a record that failed validation.
CREATE TABLE IF NOT EXISTS raw.raw_world_polls (
    polled_at    TIMESTAMP NOT NULL,
    world_index  INTEGER   NOT NULL,
    status       VARCHAR   NOT NULL CHECK (
        status IN ('ok', 'empty', 'unreachable', 'auth_failed', 'rate_limited', 'invalid')),
    raw_name     VARCHAR,             -- as the API sent it, colour codes included
    name         VARCHAR,             -- {RRGGBB} colour codes removed
    players      INTEGER,
    static       BOOLEAN,
    ssmp         BOOLEAN,
    extra        JSON,                -- fields the API sent that tai does not model
    error        VARCHAR,
    PRIMARY KEY (polled_at, world_index)
);
