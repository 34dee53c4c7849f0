-- Every world's sightings in a window of polls, by clean name, as spans: the first and last poll
-- that lists the world within each stretch of $gap_seconds (see player_points.sql: the same
-- sessions as from every sighting, with a few rows per session).
-- Parameters: $window_start, $window_end (inclusive, UTC), $gap_seconds.
SELECT name AS entity, min(polled_at) AS span_start, max(polled_at) AS span_end
FROM raw.raw_world_polls
WHERE status = 'ok' AND name IS NOT NULL AND name <> ''
  AND polled_at BETWEEN $window_start AND $window_end
GROUP BY name,
    CASE WHEN $gap_seconds > 0 THEN time_bucket(to_seconds($gap_seconds), polled_at)
         ELSE polled_at END
