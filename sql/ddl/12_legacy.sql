-- History imported from the original tai service's DuckDB files (`./tai import DIR`). It has
-- no raw polls, so it is kept here, as the old collector saw it, and the core tables combine it
-- with the polls (ddl/25_sightings.sql): imported sessions are spans next to the sightings,
-- imported online and world counts are observations next to the polls. A rebuild of the core
-- tables therefore keeps it, and live polls within the gap continue an imported session.
-- All timestamps are naive UTC.

CREATE TABLE IF NOT EXISTS raw.legacy_player_sessions (
    player         VARCHAR   NOT NULL,
    session_start  TIMESTAMP NOT NULL,
    session_end    TIMESTAMP NOT NULL,
    PRIMARY KEY (player, session_start),
    CHECK (session_end >= session_start)
);

-- World names are clean (colour codes removed) as in core.world_sessions.
CREATE TABLE IF NOT EXISTS raw.legacy_world_sessions (
    name           VARCHAR   NOT NULL,
    session_start  TIMESTAMP NOT NULL,
    session_end    TIMESTAMP NOT NULL,
    PRIMARY KEY (name, session_start),
    CHECK (session_end >= session_start)
);

-- online.db: the count each time it changed. The old service wrote no row while the server was
-- down, so an imported stretch never shows an outage.
CREATE TABLE IF NOT EXISTS raw.legacy_server_online (
    queried_at    TIMESTAMP NOT NULL PRIMARY KEY,
    online_count  INTEGER   NOT NULL
);

CREATE TABLE IF NOT EXISTS raw.legacy_worlds_online (
    name      VARCHAR   NOT NULL,
    players   INTEGER   NOT NULL,
    static    BOOLEAN,
    ssmp      BOOLEAN,
    saved_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (name, saved_at)
);

-- Which old snapshot each imported players_snapshot partition came from: a week a live crawl
-- wrote is never replaced by an import.
CREATE TABLE IF NOT EXISTS raw.legacy_snapshots (
    snapshot_week   DATE      NOT NULL PRIMARY KEY,
    snapshot_time   TIMESTAMP NOT NULL,  -- UTC (the file's local wall time, converted)
    accounts        INTEGER   NOT NULL,
    source_file     VARCHAR   NOT NULL,
    imported_at     TIMESTAMP NOT NULL
);

-- One row per file per import run: what was read and what became of it.
CREATE TABLE IF NOT EXISTS raw.legacy_imports (
    run_id      VARCHAR   NOT NULL,
    file_name   VARCHAR   NOT NULL,
    file_bytes  BIGINT    NOT NULL,
    rows_read   BIGINT    NOT NULL,
    imported    BIGINT    NOT NULL,  -- rows new to the warehouse
    merged      BIGINT    NOT NULL,  -- rows that updated or duplicated one already held
    skipped     BIGINT    NOT NULL,  -- rows not imported, for the reason in `notes`
    notes       VARCHAR,
    imported_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, file_name)
);

-- A world name as tai keys it: {RRGGBB} colour codes removed, trimmed (sources/chrono.py does
-- the same for polled names); used by the import of the old files (sql/legacy/).
CREATE OR REPLACE MACRO core.clean_world_name(raw) AS
    trim(regexp_replace(raw, '\{[0-9A-Fa-f]{6}\}', '', 'g'));
