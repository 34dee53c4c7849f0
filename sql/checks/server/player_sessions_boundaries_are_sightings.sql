-- check: player_sessions_boundaries_are_sightings
-- asset: player_sessions
-- description: Every session starts and ends at a poll that lists it (or where an imported session of the original service did).
-- Parameters: $since, $gap, $now. Returns the offending rows (none: the check passes).
WITH sightings AS (
    SELECT seen_at, entity
    FROM core.player_sightings($since - to_seconds($gap) - INTERVAL 1 DAY, $now + INTERVAL 1 DAY)
    UNION ALL
    SELECT session_start, player FROM raw.legacy_player_sessions
    UNION ALL
    SELECT session_end, player FROM raw.legacy_player_sessions
)
SELECT s.*
FROM core.player_sessions AS s
WHERE s.session_end >= $since AND (
    NOT EXISTS (
        SELECT 1 FROM sightings AS p WHERE p.entity = s.player AND p.seen_at = s.session_start
    )
    OR NOT EXISTS (
        SELECT 1 FROM sightings AS p WHERE p.entity = s.player AND p.seen_at = s.session_end
    )
)
