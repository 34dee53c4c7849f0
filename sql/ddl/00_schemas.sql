-- One schema per layer of the warehouse.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS analytics;
-- Bookkeeping: which DDL file was applied when (informational; every file is idempotent).
CREATE TABLE IF NOT EXISTS core.ddl_history (
    file_name   VARCHAR   NOT NULL PRIMARY KEY,
    checksum    VARCHAR   NOT NULL,
    applied_at  TIMESTAMP NOT NULL
);
