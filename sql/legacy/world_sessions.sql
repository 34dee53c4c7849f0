-- world_sessions.db → raw.legacy_world_sessions: the valid rows by clean name
-- (core.clean_world_name), one per (name, session_start) with
-- the latest end; `copies` counts the rows collapsed.
SELECT name, session_start, max(session_end) AS session_end, count(*) AS copies
FROM (
    SELECT core.clean_world_name(name) AS name,
        CAST(session_start AS TIMESTAMP) AS session_start,
        CAST(session_end AS TIMESTAMP) AS session_end
    FROM legacy_world_sessions.world_sessions
)
WHERE name IS NOT NULL AND name <> '' AND session_start IS NOT NULL
  AND session_end >= session_start
GROUP BY name, session_start
