-- check: world_sessions_boundaries_are_sightings
-- asset: world_sessions
-- description: Every session starts and ends at a poll that lists it (or where an imported session of the original service did).
-- Parameters: $since, $gap, $now. Returns the offending rows (none: the check passes).
WITH sightings AS (
    SELECT seen_at, entity
    FROM core.world_sightings($since - to_seconds($gap) - INTERVAL 1 DAY, $now + INTERVAL 1 DAY)
    UNION ALL
    SELECT session_start, name FROM raw.legacy_world_sessions
    UNION ALL
    SELECT session_end, name FROM raw.legacy_world_sessions
)
SELECT s.*
FROM core.world_sessions AS s
WHERE s.session_end >= $since AND (
    NOT EXISTS (
        SELECT 1 FROM sightings AS p WHERE p.entity = s.name AND p.seen_at = s.session_start
    )
    OR NOT EXISTS (
        SELECT 1 FROM sightings AS p WHERE p.entity = s.name AND p.seen_at = s.session_end
    )
)
