-- Every world's sightings (ddl/25_sightings.sql) in a window of polls, by clean name, as spans:
-- the first and last poll that lists the world within each stretch of $gap_seconds (see
-- player_points.sql: the same sessions as from every sighting, with a few rows per session).
-- Parameters: $window_start, $window_end (inclusive, UTC), $gap_seconds.
SELECT entity, min(seen_at) AS span_start, max(seen_at) AS span_end
FROM core.world_sightings($window_start, $window_end)
GROUP BY entity,
    CASE WHEN $gap_seconds > 0 THEN time_bucket(to_seconds($gap_seconds), seen_at)
         ELSE seen_at END
UNION ALL
-- Sessions imported from the original service (ddl/12_legacy.sql) are spans as well: polls
-- within the gap of one continue it, and a rebuild keeps it.
SELECT name AS entity, session_start AS span_start, session_end AS span_end
FROM raw.legacy_world_sessions
WHERE session_end >= $window_start AND session_start <= $window_end
