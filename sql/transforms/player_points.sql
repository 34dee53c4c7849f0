-- Every player's sightings (ddl/25_sightings.sql) in a window of polls, as spans: the first and
-- last poll that lists the player within each stretch of $gap_seconds. Two sightings closer than
-- the gap always belong to one session, so merge_sessions.sql gives exactly the same sessions
-- from these spans as from every (player, poll) sighting, while sorting a few rows per session
-- instead of one per poll.
-- Parameters: $window_start, $window_end (inclusive, UTC), $gap_seconds.
SELECT entity, min(seen_at) AS span_start, max(seen_at) AS span_end
FROM core.player_sightings($window_start, $window_end)
GROUP BY entity,
    CASE WHEN $gap_seconds > 0 THEN time_bucket(to_seconds($gap_seconds), seen_at)
         ELSE seen_at END
UNION ALL
-- Sessions imported from the original service (ddl/12_legacy.sql) are spans as well: polls
-- within the gap of one continue it, and a rebuild keeps it.
SELECT player AS entity, session_start AS span_start, session_end AS span_end
FROM raw.legacy_player_sessions
WHERE session_end >= $window_start AND session_start <= $window_end
