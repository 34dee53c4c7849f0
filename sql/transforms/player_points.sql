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
